"""The survey service."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

from services.survey.handlers import EVENT_HANDLERS
from services.survey.routers import ROUTERS
from services.survey.service import reminders
from services.survey.settings import SurveySettings
from shared.app import PeriodicJob, Runtime, ServiceSpec, create_service_app
from shared.clock import Clock
from shared.settings import ServiceSettings

REMINDER_JOB_EVERY_SECONDS = 3600.0  # hourly: a due reminder goes out within the hour


def _survey_settings(settings: ServiceSettings) -> SurveySettings:
    assert isinstance(settings, SurveySettings)
    return settings


async def send_due_reminders(runtime: Runtime) -> Any:
    """Periodic reminders: every open invitation whose last contact is reminder_interval_hours old."""
    settings = _survey_settings(runtime.settings)
    now = runtime.clock.now()
    async with runtime.db.transaction() as session:
        return await reminders.send_due_reminders(session, settings, now)


SPEC = ServiceSpec(
    name="survey",
    title="Creditflow survey",
    description="SERVQUAL service-quality surveys (服务质量测定): the instrument, campaigns, single-use "
    "invitation links, responses, gap scores, Cronbach's alpha and benchmarking (标杆管理).",
    routers=ROUTERS,
    handlers=EVENT_HANDLERS,
    jobs=[
        PeriodicJob(
            name="reminders",
            interval_seconds=lambda _s: REMINDER_JOB_EVERY_SECONDS,
            run=send_due_reminders,
            enabled=lambda s: _survey_settings(s).reminders_enabled,
        )
    ],
)


def create_app(
    settings: SurveySettings | None = None, clock: Clock | None = None, configure_logs: bool = True
) -> FastAPI:
    return create_service_app(SPEC, settings or SurveySettings(), clock, configure_logs=configure_logs)
