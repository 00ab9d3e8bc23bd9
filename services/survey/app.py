"""The survey service."""

from __future__ import annotations

from fastapi import FastAPI

from services.survey.handlers import EVENT_HANDLERS
from services.survey.router import directory
from services.survey.settings import SurveySettings
from shared.app import ServiceSpec, create_service_app
from shared.clock import Clock

SPEC = ServiceSpec(
    name="survey",
    title="Creditflow survey",
    description="The survey service of Creditflow.",
    routers=[directory],
    handlers=EVENT_HANDLERS,
)


def create_app(settings: SurveySettings | None = None, clock: Clock | None = None,
               configure_logs: bool = True) -> FastAPI:
    return create_service_app(SPEC, settings or SurveySettings(), clock, configure_logs=configure_logs)
