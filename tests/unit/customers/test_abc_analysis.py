"""ABC analysis: the crossing customer, ties, a single customer, zero revenue, configurable cuts."""

from __future__ import annotations

from decimal import Decimal

import pytest

from services.customers.domain.abc_analysis import AbcClass, AbcCuts, abc_analysis
from services.customers.domain.ranking import CustomerRevenue
from shared.errors import DomainRuleViolation

A, B, C = AbcClass.A, AbcClass.B, AbcClass.C


def revenues(*amounts: str | int) -> list[CustomerRevenue]:
    return [CustomerRevenue(f"c{index:02d}", Decimal(amount)) for index, amount in enumerate(amounts)]


@pytest.mark.parametrize(
    ("amounts", "classes", "cumulative"),
    [
        # Total 1000; cumulative 50, 80, 90, 96, 100 %. Share before: 0, 50, 80, 90, 96 %.
        # 80 % exactly is A (≤ 80 %); the next starts at 80 % → B; 90 % → B; 96 % → C.
        ((500, 300, 100, 60, 40), [A, A, B, B, C], ["0.5000", "0.8000", "0.9000", "0.9600", "1.0000"]),
        # 700 then 200 crosses 80 % (reaching 90 %) but started at 70 % → still A (classic rule).
        ((700, 200, 100), [A, A, B], ["0.7000", "0.9000", "1.0000"]),
        # Crossing 95 %: starts at 94 % → B although it ends at 99 %.
        ((800, 140, 50, 10), [A, B, B, C], ["0.8000", "0.9400", "0.9900", "1.0000"]),
        # Thirds: 33.33 / 66.67 / 100 % with every share-before below 80 % → all A.
        ((100, 100, 100), [A, A, A], ["0.3333", "0.6667", "1.0000"]),
    ],
    ids=["textbook", "crossing-80", "crossing-95", "thirds"],
)
def test_classes_follow_the_crossing_rule(
    amounts: tuple[int, ...], classes: list[AbcClass], cumulative: list[str]
) -> None:
    result = abc_analysis(revenues(*amounts))
    assert [e.abc_class for e in result.entries] == classes
    assert [e.cumulative_share for e in result.entries] == [Decimal(c) for c in cumulative]


def test_totals_per_class_worked_example() -> None:
    result = abc_analysis(revenues(40, 300, 60, 500, 100))  # shuffled input; ranking sorts it
    assert [e.customer_id for e in result.entries] == ["c03", "c01", "c04", "c02", "c00"]
    assert [e.share for e in result.entries] == [Decimal(s) for s in ("0.5000", "0.3000", "0.1000", "0.0600", "0.0400")]
    totals = {t.abc_class: (t.customers, t.revenue, t.share) for t in result.totals}
    assert totals == {
        A: (2, Decimal(800), Decimal("0.8000")),
        B: (2, Decimal(160), Decimal("0.1600")),
        C: (1, Decimal(40), Decimal("0.0400")),
    }
    assert result.total_revenue == Decimal(1000)


def test_single_customer_is_a() -> None:
    (entry,) = abc_analysis(revenues("123.45")).entries
    assert (entry.abc_class, entry.share, entry.cumulative_share) == (A, Decimal("1.0000"), Decimal("1.0000"))


def test_ties_are_split_by_customer_id() -> None:
    # Five equal revenues: shares before 0, 20, 40, 60, 80 % → the highest id is the one that is B.
    result = abc_analysis(list(reversed(revenues(*[200] * 5))))
    assert [(e.customer_id, e.abc_class) for e in result.entries] == [
        ("c00", A),
        ("c01", A),
        ("c02", A),
        ("c03", A),
        ("c04", B),
    ]


def test_zero_revenue_customers_are_c() -> None:
    result = abc_analysis(revenues(100, 0, 0))
    assert [e.abc_class for e in result.entries] == [A, C, C]
    assert result.entries[1].share == Decimal("0.0000")


def test_zero_total_revenue_is_all_c() -> None:
    result = abc_analysis(revenues(0, 0))
    assert [e.abc_class for e in result.entries] == [C, C]
    assert {t.abc_class: t.customers for t in result.totals} == {A: 0, B: 0, C: 2}


def test_no_customers() -> None:
    result = abc_analysis([])
    assert result.entries == ()
    assert [t.customers for t in result.totals] == [0, 0, 0]


def test_configurable_cuts() -> None:
    # A ≤ 50 %, B ≤ 90 %: shares before 0, 50, 80, 90, 96 % → A, B, B, C, C.
    result = abc_analysis(revenues(500, 300, 100, 60, 40), AbcCuts(Decimal("0.5"), Decimal("0.9")))
    assert [e.abc_class for e in result.entries] == [A, B, B, C, C]


def test_decision_uses_exact_sums_not_rounded_shares() -> None:
    # Total 100000. The first customer's cumulative share 79.996 % is shown as 0.8000, yet the
    # second starts below 80 % exactly, so it is A; the third starts at 99.996 % → C.
    result = abc_analysis(revenues(79996, 4, 20000))
    assert [e.cumulative_share for e in result.entries] == [Decimal("0.8000"), Decimal("1.0000"), Decimal("1.0000")]
    assert [e.abc_class for e in result.entries] == [A, A, C]


@pytest.mark.parametrize(
    ("a_up_to", "b_up_to", "field"),
    [
        ("0", "0.95", "a_up_to"),
        ("0.8", "0.8", "b_up_to"),
        ("0.9", "0.8", "b_up_to"),
        ("0.8", "1.01", "b_up_to"),
        ("NaN", "0.95", "a_up_to"),
    ],
    ids=["zero-a", "equal", "b-below-a", "b-over-100", "nan"],
)
def test_invalid_cuts_are_refused(a_up_to: str, b_up_to: str, field: str) -> None:
    with pytest.raises(DomainRuleViolation) as raised:
        AbcCuts(Decimal(a_up_to), Decimal(b_up_to))
    assert field in [error["field"] for error in raised.value.errors]


def test_b_may_reach_100_percent() -> None:
    assert AbcCuts(Decimal("0.8"), Decimal("1")).b_up_to == 1
