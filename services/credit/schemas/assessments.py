"""6C assessments: the factors, Altman Z inputs, payment behaviour, the documented decision."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from services.credit.domain.grades import Grade
from services.credit.schemas.common import READ, STRICT, Score
from shared.currency import Currency
from shared.money import Money


class FactorInput(BaseModel):
    """One of the six Cs: a 0–100 score and the evidence for it."""

    model_config = STRICT
    score: Score
    evidence: str = Field(min_length=1, max_length=4000)


class FactorsInput(BaseModel):
    """The six Cs, each scored with evidence."""

    model_config = STRICT
    character: FactorInput
    capacity: FactorInput
    capital: FactorInput
    collateral: FactorInput
    condition: FactorInput
    continuity: FactorInput


class FinancialsInput(BaseModel):
    """Balance-sheet and income figures in the assessment currency; retained earnings and EBIT may be negative."""

    model_config = STRICT
    total_assets: Money
    current_assets: Money
    current_liabilities: Money
    total_liabilities: Money
    retained_earnings: Money
    ebit: Money
    sales: Money = Field(description="annual sales")
    market_value_of_equity: Money | None = Field(None, description="public companies; enables the original Z")


class PaymentBehaviourInput(BaseModel):
    """How the customer paid: collection rate (fraction 0–1) and average days late."""

    model_config = STRICT
    collection_rate: Annotated[Decimal, Field(max_digits=7, decimal_places=6)]
    average_days_late: Annotated[Decimal, Field(max_digits=7, decimal_places=2)]


class AssessmentCreate(BaseModel):
    """A 6C assessment of a known customer."""

    model_config = ConfigDict(
        extra="forbid",
        str_strip_whitespace=True,
        json_schema_extra={
            "examples": [
                {
                    "customer_id": "7b0f5c1e-2f4a-4a57-9f57-0d3c3b7f3b11",
                    "currency": "CNY",
                    "factors": {
                        name: {"score": "80", "evidence": "..."}
                        for name in ("character", "capacity", "capital", "collateral", "condition", "continuity")
                    },
                    "financials": {
                        "total_assets": "5000000.00",
                        "current_assets": "2500000.00",
                        "current_liabilities": "1000000.00",
                        "total_liabilities": "2000000.00",
                        "retained_earnings": "800000.00",
                        "ebit": "600000.00",
                        "sales": "7000000.00",
                    },
                }
            ]
        },
    )
    customer_id: uuid.UUID
    currency: Currency = "CNY"
    factors: FactorsInput
    financials: FinancialsInput
    assessed_by: str | None = Field(None, min_length=1, max_length=200, description="defaults to the token subject")
    payment_behaviour: PaymentBehaviourInput | None = Field(
        None, description="omit to derive it from collections' invoice and payment events (if any)"
    )
    liquidation_value: Money | None = Field(None, description="enables the liquidation-value limit method")
    average_monthly_sales: Money | None = None
    notes: str | None = Field(None, max_length=4000)


class FactorContributionRead(BaseModel):
    factor: str
    score: Decimal
    weight: Decimal
    contribution: Decimal
    evidence: str


class AltmanRead(BaseModel):
    model: str
    score: Decimal
    zone: str
    x1: Decimal
    x2: Decimal
    x3: Decimal
    x4: Decimal
    x5: Decimal | None = None


class BehaviourRead(BaseModel):
    source: str = Field(description="request or collections")
    collection_rate: Decimal
    average_days_late: Decimal
    days_late_deduction: Decimal
    collection_rate_deduction: Decimal
    applied_deduction: Decimal
    capped: bool


class LimitFigureRead(BaseModel):
    method: str
    computed: Decimal
    capped: Decimal


class LimitRecommendationRead(BaseModel):
    figures: list[LimitFigureRead]
    net_assets: Decimal
    working_capital: Decimal
    cap: Decimal
    recommended: Decimal
    recommended_method: str


class AssessmentRead(BaseModel):
    """A stored credit decision: inputs, who made it, score, grade, contributions, Altman, limit."""

    model_config = READ
    id: uuid.UUID
    customer_id: uuid.UUID
    assessed_by: str
    currency: str
    score: Decimal
    base_score: Decimal
    grade: Grade
    contributions: list[FactorContributionRead]
    payment_behaviour: BehaviourRead | None = None
    altman_z: AltmanRead | None = None
    altman_z_double_prime: AltmanRead | None = None
    altman_notes: list[str] = Field(default_factory=list)
    limit: LimitRecommendationRead
    credit_limit_after: Decimal = Field(description="the customer's limit once this decision was applied")
    inputs: dict[str, Any]
    created_at: datetime
