"""The customers service: registry, contracts, complaints, analyses and the 360° overview."""

from __future__ import annotations

from fastapi import FastAPI

from services.customers.handlers import EVENT_HANDLERS
from services.customers.router import router
from services.customers.settings import CustomersSettings
from shared.app import ServiceSpec, create_service_app
from shared.clock import Clock

SPEC = ServiceSpec(
    name="customers",
    title="Creditflow customers",
    description="The customer registry (客户档案): customers, contracts, complaints, analyses and the overview.",
    routers=[router],
    handlers=EVENT_HANDLERS,
)


def create_app(settings: CustomersSettings | None = None, clock: Clock | None = None,
               configure_logs: bool = True) -> FastAPI:
    return create_service_app(SPEC, settings or CustomersSettings(), clock, configure_logs=configure_logs)
