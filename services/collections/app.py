"""The collections service."""

from __future__ import annotations

from fastapi import FastAPI

from services.collections.handlers import EVENT_HANDLERS
from services.collections.router import directory
from services.collections.settings import CollectionsSettings
from shared.app import ServiceSpec, create_service_app
from shared.clock import Clock

SPEC = ServiceSpec(
    name="collections",
    title="Creditflow collections",
    description="The collections service of Creditflow.",
    routers=[directory],
    handlers=EVENT_HANDLERS,
)


def create_app(settings: CollectionsSettings | None = None, clock: Clock | None = None,
               configure_logs: bool = True) -> FastAPI:
    return create_service_app(SPEC, settings or CollectionsSettings(), clock, configure_logs=configure_logs)
