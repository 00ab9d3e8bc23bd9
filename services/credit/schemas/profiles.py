"""Credit profiles and manual limit overrides."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field

from services.credit.domain.grades import Grade
from services.credit.domain.policy import SalesPolicy, StandardBreach
from services.credit.schemas.common import READ
from shared.currency import Currency
from shared.money import Money


class DsoRead(BaseModel):
    simple_days: Decimal | None = Field(None, description="null when there were no credit sales in the period")
    simple_period_days: int
    countback_days: Decimal | None = None
    countback_complete: bool = True
    receivables: Decimal
    credit_sales_in_period: Decimal


class ProfileRead(BaseModel):
    """The credit picture of one customer.

    Receivables are recorded per currency as collections reports them. Only the limit currency's figure is
    exposure; there is no currency conversion, so receivables in another currency are shown apart and make every
    credit check block with ``currency_mismatch`` until they are settled or the limit is set in that currency.
    """

    customer_id: uuid.UUID
    name: str
    grade: Grade | None = Field(None, description="A (best) to D; null before the first assessment")
    score: Decimal | None = None
    credit_limit: Decimal | None = None
    limit_method: str | None = None
    recommended_limit: Decimal | None = None
    currency: str = "CNY"
    open_receivables: Decimal = Decimal("0.00")
    open_orders: Decimal = Decimal("0.00")
    receivables_by_currency: dict[str, Decimal] = Field(
        default_factory=dict,
        description="collections' last open receivables per currency; only the limit"
        " currency's figure is in open_receivables and exposure (no conversion)",
    )
    other_currency_exposure: list[str] = Field(
        default_factory=list,
        description="currencies other than the limit's with open receivables: credit checks"
        " block with currency_mismatch while this is not empty",
    )
    exposure: Decimal = Decimal("0.00")
    overdue_amount: Decimal | None = None
    oldest_overdue_days: int = 0
    collection_stage: str | None = None
    on_hold: bool = False
    hold_reasons: list[str] = Field(default_factory=list)
    sales_policy: SalesPolicy | None = None
    bad_debt_rate: Decimal | None = Field(None, description="written off / billed, a fraction; null before billing")
    standard_breaches: list[StandardBreach] = Field(
        default_factory=list, description="where DSO or bad-debt rate exceed the grade's credit standard"
    )
    dso: DsoRead | None = None
    latest_assessment_id: uuid.UUID | None = None


class LimitOverrideCreate(BaseModel):
    """A manual limit: amount, why, and the second person who approved it."""

    model_config = ConfigDict(
        extra="forbid",
        str_strip_whitespace=True,
        json_schema_extra={
            "examples": [{"amount": "250000.00", "reason": "bank guarantee received", "approved_by": "head-of-credit"}]
        },
    )
    amount: Money
    reason: str = Field(max_length=2000)
    approved_by: str = Field(max_length=200)
    currency: Currency | None = Field(None, description="must match the profile currency when given")


class LimitCancellationCreate(BaseModel):
    """Cancel the credit limit (取消信用额度): it becomes 0 until a new assessment or an approved override."""

    model_config = ConfigDict(
        extra="forbid",
        str_strip_whitespace=True,
        json_schema_extra={"examples": [{"reason": "arrears marked malicious; legal action started"}]},
    )
    reason: str = Field(min_length=1, max_length=2000)


class LimitChangeRead(BaseModel):
    """A change of a customer's credit limit."""

    model_config = READ
    id: uuid.UUID
    customer_id: uuid.UUID
    method: str
    previous_limit: Decimal | None
    credit_limit: Decimal
    recommended_limit: Decimal | None
    above_recommended: bool = False
    currency: str
    reason: str | None
    requested_by: str
    approved_by: str | None
    created_at: datetime
