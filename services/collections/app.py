"""The collections service."""

from __future__ import annotations

import logging

from fastapi import FastAPI

from services.collections import intake
from services.collections.handlers import EVENT_HANDLERS
from services.collections.imports.worker import ImportWorker
from services.collections.routers import ROUTERS
from services.collections.routers.common import registry_of
from services.collections.service import daily_sweep
from services.collections.service.billing import measure_waiting
from services.collections.settings import CollectionsSettings
from shared.app import PeriodicJob, Runtime, ServiceSpec, create_service_app
from shared.clock import Clock
from shared.intake import Intake

log = logging.getLogger(__name__)


async def periodic_sweep(runtime: Runtime) -> None:
    """The overdue sweep as of today, in keyset chunks (one transaction each)."""
    now = runtime.clock.now()
    outcome = await daily_sweep.run_sweep_in_chunks(runtime.db, now.date(), now, _settings_of(runtime))
    log.info("sweep done", extra={"opened": outcome.cases_opened, "moved": outcome.cases_moved})


async def process_imports(runtime: Runtime) -> None:
    """Record queued invoice imports (every replica claims its own, one lease per import)."""
    worker = runtime.extras.get("import_worker")
    if worker is None:
        worker = runtime.extras["import_worker"] = ImportWorker(
            runtime.db, _settings_of(runtime), runtime.clock, registry_of(runtime), runtime.relay.lease.holder
        )
    if finished := await worker.run_once():
        log.info("invoice imports finished", extra={"imports": finished})


def _settings_of(runtime: Runtime) -> CollectionsSettings:
    assert isinstance(runtime.settings, CollectionsSettings)
    return runtime.settings


def _interval(settings: object) -> float:
    assert isinstance(settings, CollectionsSettings)
    return settings.sweep_interval_seconds


def _enabled(settings: object) -> bool:
    assert isinstance(settings, CollectionsSettings)
    return settings.sweep_enabled


def _import_interval(settings: object) -> float:
    assert isinstance(settings, CollectionsSettings)
    return settings.import_poll_seconds


def _import_enabled(settings: object) -> bool:
    assert isinstance(settings, CollectionsSettings)
    return settings.import_worker_enabled


def _intakes(settings: object) -> list[Intake]:
    assert isinstance(settings, CollectionsSettings)
    return intake.intakes(settings)


SPEC = ServiceSpec(
    name="collections",
    title="Creditflow collections",
    description="Invoices and payments, the overdue sweep and the letter → visit → agency → arbitration / "
    "litigation pipeline, with its policy, cases, agencies and reports.",
    routers=ROUTERS,
    handlers=EVENT_HANDLERS,
    jobs=[
        PeriodicJob(name="sweep", interval_seconds=_interval, run=periodic_sweep, enabled=_enabled),
        PeriodicJob(
            name="invoice-imports",
            interval_seconds=_import_interval,
            run=process_imports,
            enabled=_import_enabled,
            exclusive=False,
        ),
    ],
    intakes=_intakes,
    measure=measure_waiting,
)


def create_app(
    settings: CollectionsSettings | None = None, clock: Clock | None = None, configure_logs: bool = True
) -> FastAPI:
    return create_service_app(SPEC, settings or CollectionsSettings(), clock, configure_logs=configure_logs)
