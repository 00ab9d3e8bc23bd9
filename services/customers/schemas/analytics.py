"""Customer analyses: pyramid, ABC, value matrix, CLV, loyalty, lapse sweeps."""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from services.customers.schemas.customers import STRICT, Fraction
from shared.currency import Currency
from shared.money import Money


class PeriodRead(BaseModel):
    period_from: date
    period_to: date
    currency: str


class PyramidEntryRead(BaseModel):
    rank: int
    customer_id: uuid.UUID
    revenue: Decimal
    share: Decimal
    tier: str


class PyramidTierRead(BaseModel):
    tier: str
    customers: int
    revenue: Decimal
    share: Decimal


class PyramidRead(PeriodRead):
    cuts: dict[str, Decimal]
    total_revenue: Decimal
    tiers: list[PyramidTierRead]
    entries: list[PyramidEntryRead]


class AbcEntryRead(BaseModel):
    rank: int
    customer_id: uuid.UUID
    revenue: Decimal
    share: Decimal
    cumulative_share: Decimal
    abc_class: str


class AbcClassRead(BaseModel):
    abc_class: str
    customers: int
    revenue: Decimal
    share: Decimal


class AbcRead(PeriodRead):
    cuts: dict[str, Decimal]
    total_revenue: Decimal
    classes: list[AbcClassRead]
    entries: list[AbcEntryRead]


class ValueMatrixEntryRead(BaseModel):
    customer_id: uuid.UUID
    current_value: Decimal
    future_value: Decimal
    current_level: str
    future_level: str
    value_class: str
    strategy: str


class ValueMatrixRead(PeriodRead):
    cuts: dict[str, Decimal]
    assumptions: dict[str, Decimal | int]
    counts: dict[str, int]
    entries: list[ValueMatrixEntryRead]


class ClvGroup(BaseModel):
    model_config = STRICT
    group: str = Field(min_length=1, max_length=100, examples=["key accounts"])
    initial_customers: int = Field(gt=0, le=10_000_000, examples=[1000])
    revenue_per_customer: Money | list[Money] = Field(
        examples=["1000.00"], description="one amount for every year, or one per year"
    )
    cost_per_customer: Money | list[Money] = Field(examples=["600.00"])
    retention_rate: Fraction | list[Fraction] = Field(examples=["0.8"], description="one rate or one per year")
    discount_rate: Annotated[Decimal, Field(ge=0, le=10, max_digits=9, decimal_places=6, examples=["0.1"])]
    horizon_years: int = Field(ge=1, le=100, examples=[5])


class ClvRequest(BaseModel):
    """Customer groups and their yearly economics (Dwyer's retention model)."""

    model_config = ConfigDict(
        extra="forbid",
        str_strip_whitespace=True,
        json_schema_extra={
            "examples": [
                {
                    "currency": "CNY",
                    "groups": [
                        {
                            "group": "key accounts",
                            "initial_customers": 1000,
                            "revenue_per_customer": "1000.00",
                            "cost_per_customer": "600.00",
                            "retention_rate": "0.8",
                            "discount_rate": "0.1",
                            "horizon_years": 5,
                        }
                    ],
                }
            ]
        },
    )
    currency: Currency
    groups: list[ClvGroup] = Field(min_length=1, max_length=50)


class ClvYearRead(BaseModel):
    year: int
    customers: Decimal
    retention_rate: Decimal | None
    revenue: Decimal
    cost: Decimal
    profit: Decimal
    discount_factor: Decimal
    npv: Decimal
    cumulative_npv: Decimal
    cumulative_clv_per_customer: Decimal


class ClvGroupRead(BaseModel):
    group: str
    initial_customers: int
    clv_per_customer: Decimal
    retention_multiple: Decimal | None = Field(
        None, description="r / (1 + i - r) to 4 places, when one retention rate is given"
    )
    years: list[ClvYearRead]
    measured: dict[str, Any] | None = Field(
        None, description="GET only: the figures measured from the sales history that fed the table"
    )


class ClvRead(BaseModel):
    currency: str
    groups: list[ClvGroupRead]


class ClvGroupBy(StrEnum):
    kind = "kind"
    channel_role = "channel_role"
    region = "region"
    industry = "industry"
    segment = "segment"


class ClvMeasuredRead(ClvRead):
    group_by: ClvGroupBy
    as_of: date
    skipped: list[str] = Field(
        default_factory=list, description="groups without buyers in the previous year: retention unknown"
    )


class LoyaltyEntryRead(BaseModel):
    customer_id: uuid.UUID
    lifecycle: str
    purchase_count: int
    total_amount: Decimal
    average_amount: Decimal | None
    first_purchase_on: date | None
    last_purchase_on: date | None
    days_since_last_purchase: int | None
    purchases_per_year: Decimal
    is_repeat_customer: bool


class LoyaltyRead(PeriodRead):
    customers: int
    repeat_purchase_rate: Decimal
    entries: list[LoyaltyEntryRead]


class LapseSweep(BaseModel):
    """Move active customers without a purchase in more than ``days`` days (as of ``as_of``) to lapsed."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"as_of": "2026-03-01", "days": 180}]})
    as_of: date
    days: int = Field(ge=1, le=3650)


class LapseSweepResult(BaseModel):
    as_of: date
    days: int
    lapsed: list[uuid.UUID]
