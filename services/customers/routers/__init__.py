"""HTTP API of the customers service, one router per area."""

from __future__ import annotations

from services.customers.routers import analytics, complaints, contracts, customers, sales

ROUTERS = [customers.router, contracts.router, sales.router, complaints.router, analytics.router]
FAST_READS = customers.FAST_READS
