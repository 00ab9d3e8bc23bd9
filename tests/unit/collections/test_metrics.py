"""Performance metrics on hand-computed examples."""

from __future__ import annotations

from decimal import Decimal

import pytest

from services.collections.domain.metrics import (
    ActionCost,
    CostChannel,
    collection_effectiveness_index,
    cost_per_stage,
    days_sales_outstanding,
    recovery_rate,
)
from shared.errors import DomainRuleViolation
from shared.stage import Stage

D = Decimal


@pytest.mark.parametrize(
    ("receivables", "sales", "days", "dso"),
    [
        # 150,000 / 900,000 × 90 = 15.00
        pytest.param("150000", "900000", 90, "15.00", id="quarter"),
        # 123,456.78 / 1,000,000 × 365 = 45.0617… → 45.06
        pytest.param("123456.78", "1000000", 365, "45.06", id="year"),
        # 100 / 300 × 30 = 9.999… → 10.00
        pytest.param("100", "300", 30, "10.00", id="rounds-up"),
        pytest.param("0", "300", 30, "0.00", id="nothing-open"),
    ],
)
def test_dso(receivables: str, sales: str, days: int, dso: str) -> None:
    assert days_sales_outstanding(D(receivables), D(sales), days) == D(dso)


@pytest.mark.parametrize(
    ("receivables", "sales", "days"),
    [
        pytest.param("100", "0", 30, id="no-sales"),
        pytest.param("-1", "100", 30, id="negative-receivables"),
        pytest.param("100", "100", 0, id="empty-period"),
    ],
)
def test_dso_refusals(receivables: str, sales: str, days: int) -> None:
    with pytest.raises(DomainRuleViolation):
        days_sales_outstanding(D(receivables), D(sales), days)


@pytest.mark.parametrize(
    ("begin", "sales", "end_total", "end_current", "cei"),
    [
        # (200,000 + 600,000 − 250,000) / (200,000 + 600,000 − 150,000) = 550,000 / 650,000 = 84.615… → 84.62
        pytest.param("200000", "600000", "250000", "150000", "84.62", id="typical"),
        # everything overdue collected: end total = end current → 100.00
        pytest.param("100000", "300000", "80000", "80000", "100.00", id="perfect"),
        # (50,000 + 100,000 − 120,000) / (50,000 + 100,000 − 30,000) = 30,000 / 120,000 = 25.00
        pytest.param("50000", "100000", "120000", "30000", "25.00", id="poor"),
    ],
)
def test_cei(begin: str, sales: str, end_total: str, end_current: str, cei: str) -> None:
    assert collection_effectiveness_index(D(begin), D(sales), D(end_total), D(end_current)) == D(cei)


@pytest.mark.parametrize(
    ("begin", "sales", "end_total", "end_current"),
    [
        pytest.param("0", "100", "100", "100", id="zero-denominator"),
        pytest.param("100", "100", "50", "60", id="current-above-total"),
        pytest.param("-1", "100", "50", "10", id="negative"),
    ],
)
def test_cei_refusals(begin: str, sales: str, end_total: str, end_current: str) -> None:
    with pytest.raises(DomainRuleViolation):
        collection_effectiveness_index(D(begin), D(sales), D(end_total), D(end_current))


@pytest.mark.parametrize(
    ("recovered", "placed", "rate"),
    [
        pytest.param("45000", "60000", "0.7500", id="three-quarters"),
        pytest.param("1", "3", "0.3333", id="third"),
        pytest.param("2", "3", "0.6667", id="two-thirds-rounds-up"),
        pytest.param("0", "3", "0.0000", id="nothing"),
    ],
)
def test_recovery_rate(recovered: str, placed: str, rate: str) -> None:
    assert recovery_rate(D(recovered), D(placed)) == D(rate)


def test_recovery_rate_needs_something_placed() -> None:
    with pytest.raises(DomainRuleViolation):
        recovery_rate(D("1"), D("0"))


def test_cost_per_stage_and_channel() -> None:
    report = cost_per_stage(
        [
            ActionCost("c1", Stage.LETTER, D("5.00")),
            ActionCost("c1", Stage.LETTER, D("5.00")),
            ActionCost("c1", Stage.VISIT, D("200.00")),
            ActionCost("c2", Stage.LETTER, D("5.00")),
            ActionCost("c2", Stage.AGENCY, D("1500.00")),
            ActionCost("c3", Stage.LITIGATION, D("5000.00")),
        ]
    )
    letter = report.per_stage[Stage.LETTER]
    # 3 letters to 2 cases: 15.00 in all, 7.50 a case
    assert (letter.actions, letter.cases, letter.total, letter.average_per_case) == (3, 2, D("15.00"), D("7.50"))
    in_house = report.per_channel[CostChannel.IN_HOUSE]
    # letters and the visit: 215.00 over cases c1 and c2 = 107.50 a case
    assert (in_house.actions, in_house.cases, in_house.total, in_house.average_per_case) == (
        4,
        2,
        D("215.00"),
        D("107.50"),
    )
    assert report.per_channel[CostChannel.AGENCY].total == D("1500.00")
    assert report.per_channel[CostChannel.LEGAL].to_dict() == {
        "actions": 1,
        "cases": 1,
        "total": "5000.00",
        "average_per_case": "5000.00",
    }
    assert report.per_stage[Stage.ARBITRATION].average_per_case == 0
    assert set(report.to_dict()["per_stage"]) == {str(stage) for stage in Stage}
