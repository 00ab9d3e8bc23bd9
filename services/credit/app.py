"""The credit service."""

from __future__ import annotations

from fastapi import FastAPI

from services.credit.handlers import EVENT_HANDLERS
from services.credit.routers import FAST_READS, ROUTERS
from services.credit.settings import CreditSettings
from shared.app import ServiceSpec, create_service_app
from shared.clock import Clock

SPEC = ServiceSpec(
    name="credit",
    title="Creditflow credit",
    description="Credit control: 6C assessments, grades and limits, credit checks, automatic credit holds,"
    " credit terms, DSO and credit-period analysis.",
    routers=ROUTERS,
    fast_reads=FAST_READS,
    handlers=EVENT_HANDLERS,
)


def create_app(
    settings: CreditSettings | None = None, clock: Clock | None = None, configure_logs: bool = True
) -> FastAPI:
    return create_service_app(SPEC, settings or CreditSettings(), clock, configure_logs=configure_logs)
