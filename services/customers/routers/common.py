"""What every customers router shares: scopes and cursor decoding."""

from __future__ import annotations

from typing import Annotated

from fastapi import Security

from shared.auth import Principal, current_principal
from shared.http import keyset_position, next_keyset_cursor

__all__ = ["Admin", "Reader", "Writer", "keyset_position", "next_cursor"]

next_cursor = next_keyset_cursor

Reader = Annotated[Principal, Security(current_principal, scopes=["customers:read"])]
Writer = Annotated[Principal, Security(current_principal, scopes=["customers:write"])]
Admin = Annotated[Principal, Security(current_principal, scopes=["admin"])]
