"""The credit service."""

from __future__ import annotations

from fastapi import FastAPI

from services.credit.handlers import EVENT_HANDLERS
from services.credit.router import router
from services.credit.settings import CreditSettings
from shared.app import ServiceSpec, create_service_app
from shared.clock import Clock

SPEC = ServiceSpec(
    name="credit",
    title="Creditflow credit",
    description="The credit service of Creditflow.",
    routers=[router],
    handlers=EVENT_HANDLERS,
)


def create_app(settings: CreditSettings | None = None, clock: Clock | None = None,
               configure_logs: bool = True) -> FastAPI:
    return create_service_app(SPEC, settings or CreditSettings(), clock, configure_logs=configure_logs)
