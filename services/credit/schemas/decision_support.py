"""Decision support: credit terms quotes, the DSO report, credit-period analysis."""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from services.credit.schemas.common import STRICT
from services.credit.schemas.profiles import DsoRead
from shared.inputs import BusinessDate, VisibleText
from shared.money import Money


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


class CustomerDsoRead(BaseModel):
    customer_id: uuid.UUID
    name: str
    dso: DsoRead


class DsoReportRead(BaseModel):
    """DSO of the portfolio and of each customer with receivables or sales, both methods."""

    as_of: date
    portfolio: DsoRead
    customers: list[CustomerDsoRead]


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
