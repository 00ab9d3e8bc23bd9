"""The customers service: registry, contracts, complaints, analyses and the 360° overview."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

from services.customers import service
from services.customers.handlers import EVENT_HANDLERS
from services.customers.routers import FAST_READS, ROUTERS
from services.customers.settings import CustomersSettings
from shared.app import PeriodicJob, Runtime, ServiceSpec, create_service_app
from shared.clock import Clock
from shared.settings import ServiceSettings


def _customers_settings(settings: ServiceSettings) -> CustomersSettings:
    assert isinstance(settings, CustomersSettings)
    return settings


async def lapse_detection(runtime: Runtime) -> Any:
    """Periodic lapse detection as of today, with the configured number of days."""
    settings = _customers_settings(runtime.settings)
    now = runtime.clock.now()
    async with runtime.db.transaction() as session:
        return await service.sweep_lapsed(session, now.date(), settings.lapse_after_days, now)


SPEC = ServiceSpec(
    name="customers",
    title="Creditflow customers",
    description="The customer registry (客户档案): customers, contracts, complaints, analyses and the overview.",
    routers=ROUTERS,
    fast_reads=FAST_READS,
    handlers=EVENT_HANDLERS,
    jobs=[
        PeriodicJob(
            name="lapse-detection",
            interval_seconds=lambda s: _customers_settings(s).lapse_sweep_interval_seconds,
            run=lapse_detection,
            enabled=lambda s: _customers_settings(s).lapse_sweep_enabled,
        )
    ],
)


def create_app(
    settings: CustomersSettings | None = None, clock: Clock | None = None, configure_logs: bool = True
) -> FastAPI:
    return create_service_app(SPEC, settings or CustomersSettings(), clock, configure_logs=configure_logs)
