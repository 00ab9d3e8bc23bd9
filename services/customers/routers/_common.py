"""What every customers router shares: scopes and cursor decoding."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from fastapi import Security

from shared.auth import Principal, current_principal
from shared.errors import BadRequest
from shared.http import decode_cursor, encode_cursor

Reader = Annotated[Principal, Security(current_principal, scopes=["customers:read"])]
Writer = Annotated[Principal, Security(current_principal, scopes=["customers:write"])]
Admin = Annotated[Principal, Security(current_principal, scopes=["admin"])]


def keyset_position(cursor: str | None) -> tuple[datetime, uuid.UUID] | None:
    """The (created_at, id) a cursor this API issued points after."""
    after = decode_cursor(cursor)
    if after is None:
        return None
    try:
        return datetime.fromisoformat(after["created_at"]), uuid.UUID(after["id"])
    except (KeyError, ValueError, TypeError) as exc:
        raise BadRequest("the cursor is not one this API issued",
                         errors=[{"field": "query.cursor", "message": "invalid cursor"}]) from exc


def next_cursor(rows: list[object], limit: int) -> str | None:
    """The cursor after the last row of a page fetched with ``limit + 1``."""
    if len(rows) <= limit:
        return None
    last = rows[limit - 1]
    return encode_cursor({"created_at": last.created_at.isoformat(), "id": str(last.id)})  # type: ignore[attr-defined]
