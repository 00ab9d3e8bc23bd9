"""The customer overview: the registry's view with credit and collections facts."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, Field

from services.customers.schemas.customers import CustomerRead


class OverviewAlert(BaseModel):
    kind: str = Field(examples=["servqual_below_threshold"])
    at: datetime
    details: dict[str, Any]


class CustomerOverviewRead(CustomerRead):
    """Registry data plus what credit, collections and survey last reported about the customer."""

    credit_grade: str | None = None
    credit_score: Decimal | None = None
    credit_limit: Decimal | None = None
    credit_limit_currency: str | None = None
    credit_hold: bool = False
    credit_hold_reasons: list[str] = Field(default_factory=list)
    open_receivables: Decimal | None = None
    overdue_amount: Decimal | None = None
    receivables_currency: str | None = None
    oldest_overdue_days: int | None = None
    collection_stage: str | None = Field(None, description="highest stage among the open collection cases")
    servqual_weighted_gap: Decimal | None = None
    servqual_unweighted_gap: Decimal | None = None
    servqual_measured_at: datetime | None = None
    open_complaints: int = 0
    last_purchase_on: date | None = None
    alerts: list[OverviewAlert] = Field(default_factory=list)
