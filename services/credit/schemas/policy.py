"""The credit policy: standards and sales policy per grade, stop-supply stages, limits."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from services.credit.domain.grades import Grade
from services.credit.domain.limits import DEFAULT_GRADE_LIMITS
from services.credit.domain.policy import SalesPolicy
from services.credit.schemas.common import DEFAULT_LIMIT_POLICY, STRICT, Score
from shared.money import Money
from shared.stage import Stage


class GradePolicyBody(BaseModel):
    """Credit standard and sales policy of one grade."""

    model_config = STRICT
    max_expected_dso_days: int
    max_bad_debt_rate: Annotated[Decimal, Field(max_digits=7, decimal_places=6, description="fraction")]
    sales_policy: SalesPolicy
    max_overdue_days: int
    stop_supply_stage: Stage = Stage.AGENCY


class ThresholdsBody(BaseModel):
    model_config = STRICT
    a: Score = Decimal(80)
    b: Score = Decimal(65)
    c: Score = Decimal(50)


class WeightsBody(BaseModel):
    model_config = STRICT
    character: Score = Decimal(25)
    capacity: Score = Decimal(20)
    capital: Score = Decimal(20)
    collateral: Score = Decimal(15)
    condition: Score = Decimal(10)
    continuity: Score = Decimal(10)


Percent = Annotated[Decimal, Field(max_digits=7, decimal_places=4, description="0–100")]


class GradeLimitBody(BaseModel):
    """A grade's limit: exactly one of a fixed ``amount`` or a ``monthly_sales_multiple``."""

    model_config = STRICT
    amount: Money | None = None
    monthly_sales_multiple: Annotated[
        Decimal | None,
        Field(max_digits=9, decimal_places=4, description="times the assessment's average_monthly_sales"),
    ] = None


def _default_grade_limits() -> dict[Grade, GradeLimitBody]:
    return {
        grade: GradeLimitBody(amount=rule.amount, monthly_sales_multiple=rule.monthly_sales_multiple)
        for grade, rule in DEFAULT_GRADE_LIMITS.items()
    }


class LimitPolicyBody(BaseModel):
    """How assessments recommend a limit: per-grade amount or multiple, percentages of working capital and of
    liquidation value. Validated by the domain: no negative amount or multiple, percentages above 0 and at most
    100, every grade present; each problem is listed in the 422."""

    model_config = STRICT
    grades: dict[Grade, GradeLimitBody] = Field(default_factory=_default_grade_limits)
    working_capital_percent: Percent = DEFAULT_LIMIT_POLICY.working_capital_percent
    liquidation_value_percent: Percent = DEFAULT_LIMIT_POLICY.liquidation_value_percent


class PolicyBody(BaseModel):
    """The credit policy: per-grade standards and stop-supply stages, grade thresholds, factor weights and the
    limit policy (omitted sections take the defaults)."""

    model_config = STRICT
    grades: dict[Grade, GradePolicyBody]
    ungraded_stop_supply_stage: Stage = Stage.AGENCY
    cancel_limit_stage: Stage | None = Field(
        Stage.ARBITRATION,
        description="a case at or past this stage cancels the credit limit (arbitration and litigation share a"
        " rank); null: only a manual cancellation does",
    )
    thresholds: ThresholdsBody = Field(default_factory=ThresholdsBody)
    weights: WeightsBody = Field(default_factory=WeightsBody)
    limits: LimitPolicyBody = Field(default_factory=LimitPolicyBody)


class PolicyRead(PolicyBody):
    model_config = ConfigDict(extra="ignore")
    version: int
    updated_by: str | None = None
    updated_at: datetime | None = None
