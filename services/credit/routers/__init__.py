"""HTTP API of the credit service, one router per resource."""

from __future__ import annotations

from services.credit.routers import assessments, checks, decision_support, policy, profiles

ROUTERS = [profiles.router, assessments.router, checks.router, policy.router, decision_support.router]

FAST_READS = profiles.FAST_READS
