"""The survey service."""

from __future__ import annotations

from fastapi import FastAPI

from services.survey.handlers import EVENT_HANDLERS
from services.survey.router import directory, router
from services.survey.settings import SurveySettings
from shared.app import ServiceSpec, create_service_app
from shared.clock import Clock

SPEC = ServiceSpec(
    name="survey",
    title="Creditflow survey",
    description="SERVQUAL service-quality surveys (服务质量测定): the instrument, campaigns, single-use "
                "invitation links, responses, gap scores, Cronbach's alpha and benchmarking (标杆管理).",
    routers=[directory, router],
    handlers=EVENT_HANDLERS,
)


def create_app(settings: SurveySettings | None = None, clock: Clock | None = None,
               configure_logs: bool = True) -> FastAPI:
    return create_service_app(SPEC, settings or SurveySettings(), clock, configure_logs=configure_logs)
