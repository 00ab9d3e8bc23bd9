"""Where each service's app factory and settings live, for the CLI and tests."""

from __future__ import annotations

import importlib
from typing import Any

from shared.settings import ServiceSettings

SERVICES = ("customers", "credit", "collections", "survey")


def settings_class(service: str) -> type[ServiceSettings]:
    if service not in SERVICES:
        raise ValueError(f"unknown service {service!r}; choose one of {', '.join(SERVICES)}")
    module = importlib.import_module(f"services.{service}.settings")
    cls: type[ServiceSettings] = getattr(module, f"{service.title()}Settings")
    return cls


def app_factory(service: str) -> Any:
    if service not in SERVICES:
        raise ValueError(f"unknown service {service!r}; choose one of {', '.join(SERVICES)}")
    return importlib.import_module(f"services.{service}.app").create_app
