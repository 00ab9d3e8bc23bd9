"""Where each service's app factory and settings live, for the CLI and tests."""

from __future__ import annotations

import importlib
from typing import Any

from shared.settings import ServiceSettings

# The suite's services, once: the CLI, the topics, the migrations and the tests iterate over this.
SERVICES = ("customers", "credit", "collections", "survey")


def check_service(service: str) -> str:
    """``service`` itself when it is one of the suite's services, else ValueError naming them."""
    if service not in SERVICES:
        raise ValueError(f"unknown service {service!r}; choose one of {', '.join(SERVICES)}")
    return service


def settings_class(service: str) -> type[ServiceSettings]:
    """The settings class of ``service`` (``CreditSettings`` ...)."""
    check_service(service)
    module = importlib.import_module(f"services.{service}.settings")
    cls: type[ServiceSettings] = getattr(module, f"{service.title()}Settings")
    return cls


def app_factory(service: str) -> Any:
    """The ``create_app`` factory of ``service``."""
    check_service(service)
    return importlib.import_module(f"services.{service}.app").create_app


def service_spec(service: str) -> Any:
    """The ``ServiceSpec`` of ``service`` (routers, handlers, jobs, intakes)."""
    check_service(service)
    return importlib.import_module(f"services.{service}.app").SPEC


def service_intakes() -> list[Any]:
    """Every service's intakes (``shared.intake.Intake``) under its default settings, for the AsyncAPI document."""
    found: list[Any] = []
    for service in SERVICES:
        found += service_spec(service).intakes(settings_class(service).model_construct())
    return found
