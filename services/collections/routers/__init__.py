"""HTTP API of the collections service, one router per resource."""

from __future__ import annotations

from services.collections.models import KnownCustomer
from services.collections.routers import agencies, cases, contacts, imports, invoices, payments, policy, reports
from shared.directory_api import directory_router

directory = directory_router(KnownCustomer, "collections:read", "customers")

ROUTERS = [
    directory,
    invoices.router,
    imports.router,
    payments.router,
    contacts.router,
    policy.router,
    cases.router,
    agencies.router,
    reports.router,
]

FAST_READS = invoices.FAST_READS
