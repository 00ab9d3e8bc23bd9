"""Dependencies shared by the credit routers."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated, cast

from fastapi import Depends, Security

from services.credit.settings import CreditSettings
from shared.app import RuntimeDep
from shared.auth import Principal, current_principal
from shared.errors import DomainRuleViolation

Reader = Annotated[Principal, Security(current_principal, scopes=["credit:read"])]
Writer = Annotated[Principal, Security(current_principal, scopes=["credit:write"])]
Admin = Annotated[Principal, Security(current_principal, scopes=["admin"])]


async def _settings(runtime: RuntimeDep) -> CreditSettings:
    return cast(CreditSettings, runtime.settings)


SettingsDep = Annotated[CreditSettings, Depends(_settings)]


@contextmanager
def body_fields() -> Iterator[None]:
    """Report the domain's field errors with the request location (``factors.x`` -> ``body.factors.x``)."""
    try:
        yield
    except DomainRuleViolation as exc:
        exc.errors = [{**error, "field": _in_body(str(error.get("field", "")))} for error in exc.errors]
        raise


def _in_body(field: str) -> str:
    return field if field.startswith(("body.", "header.", "query.", "path.")) else f"body.{field}"
