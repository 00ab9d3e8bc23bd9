"""Request and response models of the credit API.

Money is ``Decimal`` (a JSON string), percentages are 0–100 unless a field says ``fraction``.
Range rules that belong to the domain (factor scores 0–100, non-negative balance-sheet figures,
terms) are checked by ``services.credit.domain`` and ``shared.terms`` so they live in one place;
the models here check shape, types and currency codes.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from services.credit.domain.checks import BlockReason, Decision
from services.credit.domain.grades import Grade
from services.credit.domain.limits import DEFAULT_GRADE_LIMITS, LimitPolicy
from services.credit.domain.policy import CollectionStage, SalesPolicy
from shared.inputs import BusinessDate, VisibleText
from shared.money import Money, PositiveMoney

DEFAULT_LIMIT_POLICY = LimitPolicy()
STRICT = ConfigDict(extra="forbid", str_strip_whitespace=True)
READ = ConfigDict(from_attributes=True)

# ISO 4217 codes the suite accepts; a short list on purpose, extend when a customer needs another.
KNOWN_CURRENCIES = frozenset(
    {
        "CNY",
        "HKD",
        "TWD",
        "JPY",
        "KRW",
        "SGD",
        "USD",
        "CAD",
        "EUR",
        "GBP",
        "CHF",
        "AUD",
        "NZD",
        "INR",
        "RUB",
        "BRL",
        "MXN",
        "ZAR",
        "SEK",
        "NOK",
        "DKK",
        "PLN",
        "THB",
        "MYR",
        "IDR",
        "VND",
        "PHP",
        "AED",
    }
)


def _known_currency(code: str) -> str:
    code = code.upper()
    if code not in KNOWN_CURRENCIES:
        raise ValueError(f"{code} is not a supported ISO 4217 currency code")
    return code


Currency = Annotated[str, Field(min_length=3, max_length=3, examples=["CNY"]), AfterValidator(_known_currency)]
Score = Annotated[Decimal, Field(max_digits=7, decimal_places=2, description="0–100")]


# --- assessments -------------------------------------------------------------------------------


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


# --- profiles and limits -----------------------------------------------------------------------


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


# --- credit checks -----------------------------------------------------------------------------


class CreditCheckCreate(BaseModel):
    """What an order system asks before it ships."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"customer_id": "7b0f5c1e-2f4a-4a57-9f57-0d3c3b7f3b11", "amount": "15000.00"}]},
    )
    customer_id: uuid.UUID
    amount: PositiveMoney
    currency: Currency | None = Field(None, description="must match the profile currency when given")
    prepaid: bool = Field(False, description="paid in advance: lifts the grade-D block only")


class CreditCheckRead(BaseModel):
    """Approve or block with every reason, and the arithmetic behind it."""

    model_config = READ
    id: uuid.UUID
    customer_id: uuid.UUID
    amount: Decimal
    currency: str
    prepaid: bool
    decision: Decision
    reasons: list[BlockReason]
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


# --- policy --------------------------------------------------------------------------------------


class GradePolicyBody(BaseModel):
    """Credit standard and sales policy of one grade."""

    model_config = STRICT
    max_expected_dso_days: int
    max_bad_debt_rate: Annotated[Decimal, Field(max_digits=7, decimal_places=6, description="fraction")]
    sales_policy: SalesPolicy
    max_overdue_days: int
    stop_supply_stage: CollectionStage = CollectionStage.AGENCY


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
    ungraded_stop_supply_stage: CollectionStage = CollectionStage.AGENCY
    thresholds: ThresholdsBody = Field(default_factory=ThresholdsBody)
    weights: WeightsBody = Field(default_factory=WeightsBody)
    limits: LimitPolicyBody = Field(default_factory=LimitPolicyBody)


class PolicyRead(PolicyBody):
    model_config = ConfigDict(extra="ignore")
    version: int
    updated_by: str | None = None
    updated_at: datetime | None = None


# --- terms ----------------------------------------------------------------------------------------


class TermsQuoteCreate(BaseModel):
    """Quote a payment under credit terms."""

    model_config = ConfigDict(
        extra="forbid",
        str_strip_whitespace=True,
        json_schema_extra={
            "examples": [
                {"terms": "2/10, n/30", "amount": "10000.00", "issue_date": "2026-03-01", "payment_date": "2026-03-11"}
            ]
        },
    )
    terms: str = Field(max_length=200)
    amount: Money
    issue_date: BusinessDate
    payment_date: BusinessDate


class ForgoneCostRead(BaseModel):
    simple_360_percent: Decimal
    simple_365_percent: Decimal
    compounded_percent: Decimal


class TierQuoteRead(BaseModel):
    percent: Decimal
    days: int
    deadline: date
    earned: bool
    cost_of_forgoing: ForgoneCostRead


class TermsQuoteRead(BaseModel):
    """Discount earned, amount due, due dates, and the cost of forgoing each discount (percent a year)."""

    terms: str = Field(description="the terms printed canonically")
    net_days: int
    amount: Decimal
    issue_date: date
    payment_date: date
    discount_percent: Decimal
    discount_amount: Decimal
    amount_due: Decimal
    net_due_date: date
    discount_due_dates: list[date]
    is_late: bool
    days_late: int
    tiers: list[TierQuoteRead]


# --- DSO report --------------------------------------------------------------------------------


class CustomerDsoRead(BaseModel):
    customer_id: uuid.UUID
    name: str
    dso: DsoRead


class DsoReportRead(BaseModel):
    """DSO of the portfolio and of each customer with receivables or sales, both methods."""

    as_of: date
    portfolio: DsoRead
    customers: list[CustomerDsoRead]


# --- credit-period analysis ---------------------------------------------------------------------


class ScenarioInput(BaseModel):
    """One credit period and what we expect from it over a year (rates are fractions)."""

    model_config = STRICT
    credit_period_days: int
    annual_sales: Money
    variable_cost_ratio: Annotated[Decimal, Field(max_digits=7, decimal_places=6)]
    bad_debt_rate: Annotated[Decimal, Field(max_digits=7, decimal_places=6)]
    collection_cost: Money = Field(description="annual collection cost")
    cost_of_capital: Annotated[Decimal, Field(max_digits=7, decimal_places=6)]
    label: VisibleText = Field("", max_length=100)


class CreditPeriodAnalysisCreate(BaseModel):
    """The current (base) credit period and the alternatives to compare with it."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "base": {
                        "credit_period_days": 30,
                        "annual_sales": "5000000",
                        "variable_cost_ratio": "0.6",
                        "bad_debt_rate": "0.02",
                        "collection_cost": "30000",
                        "cost_of_capital": "0.1",
                    },
                    "alternatives": [
                        {
                            "credit_period_days": 60,
                            "annual_sales": "5400000",
                            "variable_cost_ratio": "0.6",
                            "bad_debt_rate": "0.03",
                            "collection_cost": "40000",
                            "cost_of_capital": "0.1",
                        }
                    ],
                }
            ]
        },
    )
    base: ScenarioInput
    alternatives: list[ScenarioInput] = Field(max_length=20)


class ScenarioFiguresRead(BaseModel):
    credit_period_days: int
    label: str
    annual_sales: Decimal
    contribution_margin: Decimal
    average_receivables: Decimal
    receivables_investment: Decimal
    carrying_cost: Decimal
    bad_debts: Decimal
    collection_cost: Decimal
    net_benefit: Decimal
    npv_per_day: Decimal


class MarginalRead(BaseModel):
    credit_period_days: int
    label: str
    incremental_sales: Decimal
    incremental_contribution: Decimal
    incremental_carrying_cost: Decimal
    incremental_bad_debts: Decimal
    incremental_collection_cost: Decimal
    net_incremental_profit: Decimal


class CreditPeriodAnalysisRead(BaseModel):
    """Figures per scenario, the marginal comparison with the base, and each method's recommended period."""

    base: ScenarioFiguresRead
    alternatives: list[ScenarioFiguresRead]
    marginal: list[MarginalRead]
    recommended_period_days: int
    recommended_by_npv_period_days: int
    methods_agree: bool
