"""Dependencies shared by the credit routers."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Annotated, cast

from fastapi import Depends, Security

from services.credit.settings import CreditSettings
from shared.app import RuntimeDep
from shared.auth import Principal, current_principal
from shared.errors import BadRequest, DomainRuleViolation

Reader = Annotated[Principal, Security(current_principal, scopes=["credit:read"])]
Writer = Annotated[Principal, Security(current_principal, scopes=["credit:write"])]
Admin = Annotated[Principal, Security(current_principal, scopes=["admin"])]


def _settings(runtime: RuntimeDep) -> CreditSettings:
    return cast(CreditSettings, runtime.settings)


SettingsDep = Annotated[CreditSettings, Depends(_settings)]


def cursor_position(after: dict[str, object] | None) -> tuple[datetime, uuid.UUID] | None:
    """(created_at, id) of a decoded keyset cursor."""
    if after is None:
        return None
    try:
        return datetime.fromisoformat(str(after["created_at"])), uuid.UUID(str(after["id"]))
    except (KeyError, ValueError, TypeError) as exc:
        raise BadRequest("the cursor is not one this API issued",
                         errors=[{"field": "query.cursor", "message": "invalid cursor"}]) from exc


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
