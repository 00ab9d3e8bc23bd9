"""HTTP API of the survey service."""

from __future__ import annotations

from services.survey.models import KnownCustomer
from shared.directory_api import directory_router

directory = directory_router(KnownCustomer, "survey:read", "customers")
