"""Credit checks of an order."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field

from services.credit.domain.checks import CheckReason, Decision
from services.credit.domain.grades import Grade
from services.credit.schemas.common import READ
from shared.currency import Currency
from shared.money import PositiveMoney


class CreditCheckCreate(BaseModel):
    """What an order system asks before it ships."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"customer_id": "7b0f5c1e-2f4a-4a57-9f57-0d3c3b7f3b11", "amount": "15000.00"}]},
    )
    customer_id: uuid.UUID
    amount: PositiveMoney
    currency: Currency | None = Field(None, description="must match the profile currency when given")
    prepaid: bool = Field(
        False, description="paid in advance: no credit is extended, so it is approved whatever the limit or hold"
    )
    cash: bool = Field(False, description="paid in cash on delivery: like prepaid, no credit is extended")


class CreditCheckRead(BaseModel):
    """Approve or block with every reason, and the arithmetic behind it."""

    model_config = READ
    id: uuid.UUID
    customer_id: uuid.UUID
    amount: Decimal
    currency: str
    prepaid: bool
    cash: bool = False
    decision: Decision
    reasons: list[CheckReason] = Field(
        description="blocking reasons first, then notes that never block (prepaid/cash, credit-standard breaches)"
    )
    grade: Grade | None
    on_hold: bool
    credit_limit: Decimal
    exposure_before: Decimal
    exposure_after: Decimal
    available_before: Decimal
    oldest_overdue_days: int
    counted_as_order: bool
    checked_by: str
    created_at: datetime
