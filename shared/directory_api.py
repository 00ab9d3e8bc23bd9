"""Shared read endpoint over a service's customer directory (what it has learned from the registry)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Security
from pydantic import BaseModel, ConfigDict

from shared.app import Session
from shared.auth import Principal, current_principal
from shared.errors import NotFound
from shared.problems import PROBLEM_RESPONSES


class KnownCustomerRead(BaseModel):
    """A customer as this service knows it from the registry's events."""

    model_config = ConfigDict(from_attributes=True)
    id: uuid.UUID
    name: str
    kind: str
    lifecycle: str
    segment: str
    region: str | None
    registered_at: datetime
    updated_at: datetime


def directory_router(model: Any, read_scope: str, tag: str) -> APIRouter:
    router = APIRouter(prefix="/v1", tags=[tag], responses=PROBLEM_RESPONSES)
    Reader = Annotated[Principal, Security(current_principal, scopes=[read_scope])]

    @router.get("/customers/{customer_id}", response_model=KnownCustomerRead,
                summary="A customer as this service knows it from the registry")
    async def get_known_customer(customer_id: uuid.UUID, session: Session, _principal: Reader) -> Any:
        """404 until the registry's `customer_registered` event has been applied here."""
        row = await session.get(model, customer_id)
        if row is None:
            raise NotFound(f"customer {customer_id} is not known here (yet)")
        return row

    return router
