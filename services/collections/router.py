"""HTTP API of the collections service."""

from __future__ import annotations

from services.collections.models import KnownCustomer
from shared.directory_api import directory_router

directory = directory_router(KnownCustomer, "collections:read", "customers")
