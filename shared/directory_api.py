"""Shared read endpoint over a service's customer directory (what it has learned from the registry).

No postponed annotations here: the route is built inside a function and FastAPI must resolve its
parameter types at definition time.
"""

import uuid
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Security
from pydantic import BaseModel, ConfigDict

from shared.app import Session
from shared.auth import Principal, current_principal
from shared.errors import NotFound
from shared.openapi import api_router


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
    router = api_router(tags=[tag])

    @router.get(
        "/customers/{customer_id}",
        response_model=KnownCustomerRead,
        summary="A customer as this service knows it from the registry",
    )
    async def get_known_customer(
        customer_id: uuid.UUID,
        session: Session,
        _principal: Annotated[Principal, Security(current_principal, scopes=[read_scope])],
    ) -> Any:
        """404 until the registry's `customer_registered` event has been applied here."""
        row = await session.get(model, customer_id)
        if row is None:
            raise NotFound(f"customer {customer_id} is not known here (yet)")
        return row

    return router
