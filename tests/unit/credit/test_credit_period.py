"""Credit-period analysis: marginal analysis and daily NPV against a base period.

Worked example, by hand (360-day year; variable-cost ratio 0.6 and cost of capital 10 % in every scenario):

                          base n/30        n/60             n/90
  annual sales            3,600,000        4,320,000        4,500,000
  bad-debt rate           1 %              2 %              5 %
  collection cost         20,000           30,000           50,000
  contribution (× 0.4)    1,440,000        1,728,000        1,800,000
  avg receivables         10,000×30        12,000×60        12,500×90
                          = 300,000        = 720,000        = 1,125,000
  investment (× 0.6)      180,000          432,000          675,000
  carrying cost (× 10 %)  18,000           43,200           67,500
  bad debts               36,000           86,400           225,000
  net benefit             1,366,000        1,568,400        1,457,500

  marginal vs base        n/60: Δcontribution 288,000 − Δcarrying 25,200 − Δbad debts 50,400
                                − Δcollection 10,000 = 202,400
                          n/90: 360,000 − 49,500 − 189,000 − 30,000 = 91,500
  → n/60 earns most.

  daily NPV = S(1 − b)/(1 + 0.10/360)^t − 0.6·S − C/360, with S = sales/360:
    n/30: (1 + 0.000277…)^30 = e^(30 × 0.00027774) = 1.0083670; 10,000 × 0.99 / 1.0083670 = 9,817.854
          − 6,000 − 55.556 = 3,762.298 → 3,762.30
    n/60: 1.0168040; 12,000 × 0.98 / 1.0168040 = 11,565.651 − 7,200 − 83.333 = 4,282.318 → 4,282.32
    n/90: 1.0253116; 12,500 × 0.95 / 1.0253116 = 11,581.845 − 7,500 − 138.889 = 3,942.956 → 3,942.96
  → NPV agrees: n/60.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from decimal import Decimal

import pytest

from services.credit.domain.credit_period import (
    CreditPeriodScenario,
    analyse_credit_periods,
    npv_per_day,
    scenario_figures,
)
from shared.errors import DomainRuleViolation

D = Decimal


def scenario(
    days: int,
    sales: int,
    bad_debt_rate: str,
    collection_cost: int,
    variable_cost_ratio: str = "0.6",
    cost_of_capital: str = "0.10",
) -> CreditPeriodScenario:
    return CreditPeriodScenario(
        credit_period_days=days,
        annual_sales=D(sales),
        variable_cost_ratio=D(variable_cost_ratio),
        bad_debt_rate=D(bad_debt_rate),
        collection_cost=D(collection_cost),
        cost_of_capital=D(cost_of_capital),
        label=f"n/{days}",
    )


BASE = scenario(30, 3_600_000, "0.01", 20_000)
N60 = scenario(60, 4_320_000, "0.02", 30_000)
N90 = scenario(90, 4_500_000, "0.05", 50_000)


@pytest.mark.parametrize(
    ("given", "contribution", "receivables", "investment", "carrying", "bad_debts", "net_benefit", "npv"),
    [
        (BASE, "1440000.00", "300000.00", "180000.00", "18000.00", "36000.00", "1366000.00", "3762.30"),
        (N60, "1728000.00", "720000.00", "432000.00", "43200.00", "86400.00", "1568400.00", "4282.32"),
        (N90, "1800000.00", "1125000.00", "675000.00", "67500.00", "225000.00", "1457500.00", "3942.96"),
    ],
    ids=["n30", "n60", "n90"],
)
def test_scenario_figures(
    given: CreditPeriodScenario,
    contribution: str,
    receivables: str,
    investment: str,
    carrying: str,
    bad_debts: str,
    net_benefit: str,
    npv: str,
) -> None:
    figures = scenario_figures(given)
    assert (
        figures.contribution_margin,
        figures.average_receivables,
        figures.receivables_investment,
        figures.carrying_cost,
        figures.bad_debts,
        figures.net_benefit,
        figures.npv_per_day,
    ) == tuple(D(value) for value in (contribution, receivables, investment, carrying, bad_debts, net_benefit, npv))


@pytest.mark.parametrize(
    ("index", "sales", "contribution", "carrying", "bad_debts", "collection", "net"),
    [
        (0, "720000.00", "288000.00", "25200.00", "50400.00", "10000.00", "202400.00"),
        (1, "900000.00", "360000.00", "49500.00", "189000.00", "30000.00", "91500.00"),
    ],
    ids=["n60-vs-n30", "n90-vs-n30"],
)
def test_marginal_analysis(
    index: int, sales: str, contribution: str, carrying: str, bad_debts: str, collection: str, net: str
) -> None:
    comparison = analyse_credit_periods(BASE, [N60, N90]).marginal[index]
    assert (
        comparison.incremental_sales,
        comparison.incremental_contribution,
        comparison.incremental_carrying_cost,
        comparison.incremental_bad_debts,
        comparison.incremental_collection_cost,
        comparison.net_incremental_profit,
    ) == tuple(D(value) for value in (sales, contribution, carrying, bad_debts, collection, net))


@pytest.mark.parametrize(
    ("base", "alternatives", "by_marginal", "by_npv", "agree"),
    [
        (BASE, [N60, N90], 60, 60, True),  # the worked example
        (BASE, [N90], 90, 90, True),  # without n/60, n/90 still beats the base (91,500 > 0; 3,942.96 > 3,762.30)
        # A longer period that only loses: sales flat, more bad debts → keep the base.
        (BASE, [scenario(60, 3_600_000, "0.02", 20_000)], 30, 30, True),
        # Identical economics at two periods tie on net benefit only if the carrying cost is 0: the
        # shorter period wins the tie.
        (
            scenario(30, 3_600_000, "0.01", 0, cost_of_capital="0"),
            [scenario(45, 3_600_000, "0.01", 0, cost_of_capital="0")],
            30,
            30,
            True,
        ),
        # The methods can disagree. Variable-cost ratio 0.2, cost of capital 20 %, no collection cost,
        # 1 % bad debts; n/60 sells 20,000 more than n/30 (3,600,000):
        #   marginal: Δcontribution 20,000 × 0.8 = 16,000; carrying n/30 300,000 × 0.2 × 0.2 = 12,000,
        #   n/60 603,333.33 × 0.2 = 120,666.67 × 0.2 = 24,133.33 → Δ 12,133.33; Δbad debts 200
        #   → +3,666.67: marginal prefers n/60.
        #   NPV: n/30 10,000 × 0.99 / (1 + 0.2/360)^30 = 9,900 / 1.016802 = 9,736.41 − 2,000 = 7,736.41;
        #   n/60 10,055.56 × 0.99 / 1.033886 = 9,628.72 − 2,011.11 = 7,617.61: NPV prefers n/30, because it
        #   discounts the whole receipt, not just the variable-cost investment.
        (
            scenario(30, 3_600_000, "0.01", 0, variable_cost_ratio="0.2", cost_of_capital="0.2"),
            [scenario(60, 3_620_000, "0.01", 0, variable_cost_ratio="0.2", cost_of_capital="0.2")],
            60,
            30,
            False,
        ),
    ],
    ids=["worked-example", "n90-only", "longer-loses", "tie-goes-shorter", "methods-disagree"],
)
def test_recommended_period(
    base: CreditPeriodScenario,
    alternatives: list[CreditPeriodScenario],
    by_marginal: int,
    by_npv: int,
    agree: bool,
) -> None:
    analysis = analyse_credit_periods(base, alternatives)
    assert (
        analysis.recommended_period_days,
        analysis.recommended_by_npv_period_days,
        analysis.methods_agree,
    ) == (by_marginal, by_npv, agree)


def test_npv_of_disagreeing_example() -> None:
    n30 = scenario(30, 3_600_000, "0.01", 0, variable_cost_ratio="0.2", cost_of_capital="0.2")
    n60 = scenario(60, 3_620_000, "0.01", 0, variable_cost_ratio="0.2", cost_of_capital="0.2")
    assert (npv_per_day(n30), npv_per_day(n60)) == (D("7736.41"), D("7617.61"))


@pytest.mark.parametrize(
    ("build", "field"),
    [
        (lambda: scenario(-1, 1, "0.01", 0), "scenarios[n/-1].credit_period_days"),
        (lambda: scenario(30, -1, "0.01", 0), "scenarios[n/30].annual_sales"),
        (lambda: scenario(30, 1, "1.01", 0), "scenarios[n/30].bad_debt_rate"),
        (lambda: scenario(30, 1, "0.01", -1), "scenarios[n/30].collection_cost"),
        (lambda: scenario(30, 1, "0.01", 0, variable_cost_ratio="-0.1"), "scenarios[n/30].variable_cost_ratio"),
        (lambda: scenario(30, 1, "0.01", 0, cost_of_capital="-0.1"), "scenarios[n/30].cost_of_capital"),
    ],
    ids=["negative-days", "negative-sales", "bad-debt-above-1", "negative-collection", "negative-vcr", "negative-coc"],
)
def test_invalid_scenario(build: Callable[[], object], field: str) -> None:
    with pytest.raises(DomainRuleViolation) as raised:
        build()
    assert [e["field"] for e in raised.value.errors] == [field]


@pytest.mark.parametrize(
    ("alternatives", "message"),
    [
        ([], "at least one alternative"),
        ([scenario(30, 4_000_000, "0.01", 0)], "repeated: [30]"),
        ([N60, scenario(60, 4_000_000, "0.01", 0)], "repeated: [60]"),
    ],
    ids=["no-alternatives", "same-as-base", "duplicate-alternatives"],
)
def test_invalid_analysis(alternatives: list[CreditPeriodScenario], message: str) -> None:
    with pytest.raises(DomainRuleViolation, match=re.escape(message)):
        analyse_credit_periods(BASE, alternatives)
