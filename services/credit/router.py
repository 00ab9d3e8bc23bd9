"""HTTP API of the credit service."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Annotated

from fastapi import APIRouter, Security
from pydantic import BaseModel, Field

from services.credit.models import KnownCustomer
from shared.app import Session
from shared.auth import Principal, current_principal
from shared.errors import NotFound
from shared.problems import PROBLEM_RESPONSES

router = APIRouter(prefix="/v1", tags=["profiles"], responses=PROBLEM_RESPONSES)
Reader = Annotated[Principal, Security(current_principal, scopes=["credit:read"])]


class ProfileRead(BaseModel):
    """The credit picture of one customer."""

    customer_id: uuid.UUID
    name: str
    grade: str | None = Field(None, description="A (best) to D; null before the first assessment")
    score: Decimal | None = None
    credit_limit: Decimal | None = None
    exposure: Decimal = Decimal("0.00")
    on_hold: bool = False
    hold_reasons: list[str] = Field(default_factory=list)


@router.get("/profiles/{customer_id}", response_model=ProfileRead, summary="Credit profile of a customer")
async def get_profile(customer_id: uuid.UUID, session: Session, _principal: Reader) -> ProfileRead:
    """404 until the registry's `customer_registered` event has been applied here."""
    customer = await session.get(KnownCustomer, customer_id)
    if customer is None:
        raise NotFound(f"customer {customer_id} is not known to credit (yet)")
    return ProfileRead(customer_id=customer.id, name=customer.name)
