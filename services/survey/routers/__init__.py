"""HTTP API of the survey service, one router per resource."""

from __future__ import annotations

from services.survey.routers import campaigns, directory, instrument, responses, scores

ROUTERS = [directory.directory, instrument.router, campaigns.router, responses.router, scores.router]
