"""Credit-period decision support: marginal analysis (边际分析法) and NPV comparison (净现值流量法).

Conventions (textbook): a 360-day year; rates are fractions; ``collection_cost`` is an annual amount.
For each scenario, rounded to 2 dp (ROUND_HALF_UP) before any difference is taken, so the shown
figures add up exactly:

    contribution margin     = sales × (1 − variable-cost ratio)
    average receivables     = sales / 360 × credit period
    receivables investment  = average receivables × variable-cost ratio
    carrying cost           = receivables investment × cost of capital
    bad debts               = sales × bad-debt rate
    net benefit             = contribution − carrying cost − bad debts − collection cost

Marginal analysis takes each alternative minus the base; net incremental profit = Δcontribution −
Δcarrying cost − Δbad debts − Δcollection cost (= Δnet benefit).

NPV per day of sales (the daily cash-flow form):
    NPV = S·(1 − b) / (1 + k/360)^t − S·v − C/360,  S = sales / 360, b bad-debt rate, k annual cost of
    capital, t credit period in days, v variable-cost ratio, C annual collection cost.

The recommended period has the highest net benefit (base included); the NPV method's choice is shown
next to it. Ties go to the shorter credit period, which ties up less capital.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal, localcontext

from shared.errors import field_error, raise_if_any
from shared.money import to_cents

DAYS_IN_YEAR = Decimal(360)


@dataclass(frozen=True)
class CreditPeriodScenario:
    """One credit period and what we expect from it over a year."""

    credit_period_days: int
    annual_sales: Decimal
    variable_cost_ratio: Decimal
    bad_debt_rate: Decimal
    collection_cost: Decimal
    cost_of_capital: Decimal
    label: str = ""

    def __post_init__(self) -> None:
        prefix = f"scenarios[{self.label or self.credit_period_days}]"
        errors = []
        if self.credit_period_days < 0:
            errors.append(field_error(f"{prefix}.credit_period_days", "must not be negative"))
        for name in ("annual_sales", "collection_cost", "cost_of_capital"):
            if getattr(self, name) < 0:
                errors.append(field_error(f"{prefix}.{name}", "must not be negative"))
        for name in ("variable_cost_ratio", "bad_debt_rate"):
            if not 0 <= getattr(self, name) <= 1:
                errors.append(field_error(f"{prefix}.{name}", "must be a fraction between 0 and 1"))
        raise_if_any(errors)


@dataclass(frozen=True)
class ScenarioFigures:
    """A scenario's yearly figures (2 dp) and its NPV per day of sales (2 dp)."""

    scenario: CreditPeriodScenario
    contribution_margin: Decimal
    average_receivables: Decimal
    receivables_investment: Decimal
    carrying_cost: Decimal
    bad_debts: Decimal
    collection_cost: Decimal
    net_benefit: Decimal
    npv_per_day: Decimal


@dataclass(frozen=True)
class MarginalComparison:
    """An alternative against the base: each increment and the net incremental profit (2 dp)."""

    credit_period_days: int
    label: str
    incremental_sales: Decimal
    incremental_contribution: Decimal
    incremental_carrying_cost: Decimal
    incremental_bad_debts: Decimal
    incremental_collection_cost: Decimal
    net_incremental_profit: Decimal


@dataclass(frozen=True)
class CreditPeriodAnalysis:
    """Figures per scenario, the marginal comparisons, and the period each method recommends."""

    base: ScenarioFigures
    alternatives: tuple[ScenarioFigures, ...]
    marginal: tuple[MarginalComparison, ...]
    recommended_period_days: int
    recommended_by_npv_period_days: int
    methods_agree: bool


def npv_per_day(scenario: CreditPeriodScenario) -> Decimal:
    """Daily NPV: S(1 − b)/(1 + k/360)^t − S·v − C/360 with S = sales/360; 2 dp."""
    with localcontext() as context:
        context.prec = 34
        daily_sales = scenario.annual_sales / DAYS_IN_YEAR
        daily_rate = scenario.cost_of_capital / DAYS_IN_YEAR
        discounted_receipts = (
            daily_sales * (1 - scenario.bad_debt_rate) / (1 + daily_rate) ** scenario.credit_period_days
        )
        daily_variable_cost = daily_sales * scenario.variable_cost_ratio
        daily_collection_cost = scenario.collection_cost / DAYS_IN_YEAR
        return to_cents(discounted_receipts - daily_variable_cost - daily_collection_cost)


def scenario_figures(scenario: CreditPeriodScenario) -> ScenarioFigures:
    """Contribution, receivables investment and its carrying cost, bad debts, net benefit and daily NPV."""
    contribution = to_cents(scenario.annual_sales * (1 - scenario.variable_cost_ratio))
    average_receivables = to_cents(scenario.annual_sales / DAYS_IN_YEAR * scenario.credit_period_days)
    investment = to_cents(average_receivables * scenario.variable_cost_ratio)
    carrying_cost = to_cents(investment * scenario.cost_of_capital)
    bad_debts = to_cents(scenario.annual_sales * scenario.bad_debt_rate)
    collection_cost = to_cents(scenario.collection_cost)
    return ScenarioFigures(
        scenario=scenario,
        contribution_margin=contribution,
        average_receivables=average_receivables,
        receivables_investment=investment,
        carrying_cost=carrying_cost,
        bad_debts=bad_debts,
        collection_cost=collection_cost,
        net_benefit=contribution - carrying_cost - bad_debts - collection_cost,
        npv_per_day=npv_per_day(scenario),
    )


def marginal_comparison(base: ScenarioFigures, alternative: ScenarioFigures) -> MarginalComparison:
    """Increments of ``alternative`` over ``base`` and the net incremental profit."""
    incremental_contribution = alternative.contribution_margin - base.contribution_margin
    incremental_carrying_cost = alternative.carrying_cost - base.carrying_cost
    incremental_bad_debts = alternative.bad_debts - base.bad_debts
    incremental_collection_cost = alternative.collection_cost - base.collection_cost
    return MarginalComparison(
        credit_period_days=alternative.scenario.credit_period_days,
        label=alternative.scenario.label,
        incremental_sales=to_cents(alternative.scenario.annual_sales - base.scenario.annual_sales),
        incremental_contribution=incremental_contribution,
        incremental_carrying_cost=incremental_carrying_cost,
        incremental_bad_debts=incremental_bad_debts,
        incremental_collection_cost=incremental_collection_cost,
        net_incremental_profit=(
            incremental_contribution - incremental_carrying_cost - incremental_bad_debts - incremental_collection_cost
        ),
    )


def analyse_credit_periods(
    base: CreditPeriodScenario, alternatives: Sequence[CreditPeriodScenario]
) -> CreditPeriodAnalysis:
    """Compare alternatives with the base by marginal analysis and daily NPV; recommend a period."""
    errors = []
    if not alternatives:
        errors.append(field_error("scenarios", "at least one alternative to the base is required"))
    periods = [base.credit_period_days, *(scenario.credit_period_days for scenario in alternatives)]
    duplicates = sorted({days for days in periods if periods.count(days) > 1})
    if duplicates:
        errors.append(field_error("scenarios", f"each credit period may appear once; repeated: {duplicates}"))
    raise_if_any(errors)

    base_figures = scenario_figures(base)
    alternative_figures = tuple(scenario_figures(scenario) for scenario in alternatives)
    everything = (base_figures, *alternative_figures)
    # max() keeps the first of equal keys; sorting by period first makes that the shorter period.
    by_period = sorted(everything, key=lambda figures: figures.scenario.credit_period_days)
    best_marginal = max(by_period, key=lambda figures: figures.net_benefit)
    best_npv = max(by_period, key=lambda figures: figures.npv_per_day)
    return CreditPeriodAnalysis(
        base=base_figures,
        alternatives=alternative_figures,
        marginal=tuple(marginal_comparison(base_figures, figures) for figures in alternative_figures),
        recommended_period_days=best_marginal.scenario.credit_period_days,
        recommended_by_npv_period_days=best_npv.scenario.credit_period_days,
        methods_agree=best_marginal is best_npv,
    )
