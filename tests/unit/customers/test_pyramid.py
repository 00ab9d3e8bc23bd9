"""Customer pyramid: tier boundaries (ceil of cumulative cut), ties, single customer, zero revenue."""

from __future__ import annotations

from decimal import Decimal

import pytest

from services.customers.domain.pyramid import (
    PyramidCuts,
    PyramidTier,
    customer_pyramid,
    tier_boundaries,
)
from services.customers.domain.ranking import CustomerRevenue
from shared.errors import DomainRuleViolation

TOP, MAJOR, ORDINARY, SMALL = PyramidTier.TOP, PyramidTier.MAJOR, PyramidTier.ORDINARY, PyramidTier.SMALL


def revenues(*amounts: str | int) -> list[CustomerRevenue]:
    """Customers c00, c01, … with the given revenues."""
    return [CustomerRevenue(f"c{index:02d}", Decimal(amount)) for index, amount in enumerate(amounts)]


@pytest.mark.parametrize(
    ("count", "expected"),
    [
        (0, (0, 0, 0)),
        (1, (1, 1, 1)),  # ceil(0.01), ceil(0.05), ceil(0.20) → the one customer is top
        (10, (1, 1, 2)),  # ceil(0.1)=1, ceil(0.5)=1 → major empty, ceil(2.0)=2
        (20, (1, 1, 4)),  # ceil(0.2)=1, ceil(1.0)=1, ceil(4.0)=4
        (100, (1, 5, 20)),  # exactly 1 / 4 / 15 / 80
        (101, (2, 6, 21)),  # ceil(1.01)=2, ceil(5.05)=6, ceil(20.2)=21
        (200, (2, 10, 40)),
    ],
    ids=["none", "one", "ten", "twenty", "hundred", "hundred-one", "two-hundred"],
)
def test_tier_boundaries_ceil_the_cumulative_cut(count: int, expected: tuple[int, int, int]) -> None:
    assert tier_boundaries(count, PyramidCuts()) == expected


def test_hundred_customers_split_1_4_15_80() -> None:
    result = customer_pyramid(revenues(*range(100, 0, -1)))
    counts = {summary.tier: summary.customers for summary in result.tiers}
    assert counts == {TOP: 1, MAJOR: 4, ORDINARY: 15, SMALL: 80}
    assert [entry.rank for entry in result.entries] == list(range(1, 101))


def test_ten_customers_worked_example() -> None:
    # Total 1000. Boundaries for n = 10: top rank 1, major none, ordinary rank 2, small ranks 3–10.
    result = customer_pyramid(revenues(10, 400, 100, 200, 50, 100, 50, 40, 30, 20))
    assert result.total_revenue == Decimal(1000)
    assert [(e.customer_id, e.tier) for e in result.entries[:3]] == [("c01", TOP), ("c03", ORDINARY), ("c02", SMALL)]
    summary = {s.tier: (s.customers, s.revenue, s.share) for s in result.tiers}
    assert summary == {
        TOP: (1, Decimal(400), Decimal("0.4000")),
        MAJOR: (0, Decimal(0), Decimal("0.0000")),
        ORDINARY: (1, Decimal(200), Decimal("0.2000")),
        SMALL: (8, Decimal(400), Decimal("0.4000")),
    }
    assert [s.tier for s in result.tiers] == [TOP, MAJOR, ORDINARY, SMALL]


@pytest.mark.parametrize(
    ("amount", "tier", "share"),
    [("500.00", TOP, Decimal("1.0000")), ("0", SMALL, Decimal("0.0000"))],
    ids=["with-revenue", "zero-revenue"],
)
def test_single_customer(amount: str, tier: PyramidTier, share: Decimal) -> None:
    (entry,) = customer_pyramid(revenues(amount)).entries
    assert (entry.rank, entry.tier, entry.share) == (1, tier, share)


def test_ties_are_split_by_customer_id() -> None:
    # Ten equal revenues: rank follows the id, so c00 is top, c01 ordinary, the rest small.
    result = customer_pyramid(list(reversed(revenues(*[50] * 10))))
    assert [e.customer_id for e in result.entries] == [f"c{i:02d}" for i in range(10)]
    assert [e.tier for e in result.entries] == [TOP, ORDINARY] + [SMALL] * 8
    assert all(e.share == Decimal("0.1000") for e in result.entries)


def test_zero_revenue_customers_are_always_small() -> None:
    # 100 customers, two with revenue: rank 1 top, rank 2 major; ranks 3–5 would be major but bring nothing.
    result = customer_pyramid(revenues(300, 100, *[0] * 98))
    tiers = [e.tier for e in result.entries]
    assert tiers[:2] == [TOP, MAJOR]
    assert set(tiers[2:]) == {SMALL}


def test_all_zero_revenue_is_all_small_with_zero_shares() -> None:
    result = customer_pyramid(revenues(0, 0, 0))
    assert {e.tier for e in result.entries} == {SMALL}
    assert {s.share for s in result.tiers} == {Decimal("0.0000")}


def test_configurable_cuts() -> None:
    # top 10 %, major 20 %, ordinary 30 % of 10 customers → ranks 1 / 2–3 / 4–6 / 7–10.
    cuts = PyramidCuts(top=Decimal("0.10"), major=Decimal("0.20"), ordinary=Decimal("0.30"))
    result = customer_pyramid(revenues(*range(10, 0, -1)), cuts)
    assert [e.tier for e in result.entries] == [TOP, MAJOR, MAJOR, ORDINARY, ORDINARY, ORDINARY] + [SMALL] * 4


def test_cuts_may_use_up_every_customer() -> None:
    # 5 customers: top ceil(1.0)=1, major ceil(2.5)=3, ordinary ceil(5.0)=5 → nobody is small.
    cuts = PyramidCuts(top=Decimal("0.2"), major=Decimal("0.3"), ordinary=Decimal("0.5"))
    result = customer_pyramid(revenues(5, 4, 3, 2, 1), cuts)
    assert [e.tier for e in result.entries] == [TOP, MAJOR, MAJOR, ORDINARY, ORDINARY]


@pytest.mark.parametrize(
    ("top", "major", "ordinary", "field"),
    [
        ("0", "0.04", "0.15", "top"),
        ("0.01", "-0.04", "0.15", "major"),
        ("0.01", "0.04", "0", "ordinary"),
        ("0.5", "0.3", "0.3", "ordinary"),  # sums to 1.1
        ("NaN", "0.04", "0.15", "top"),
        ("0.01", "Infinity", "0.15", "major"),
    ],
    ids=["zero-top", "negative-major", "zero-ordinary", "over-100-percent", "nan", "infinite"],
)
def test_invalid_cuts_are_refused(top: str, major: str, ordinary: str, field: str) -> None:
    with pytest.raises(DomainRuleViolation) as raised:
        PyramidCuts(Decimal(top), Decimal(major), Decimal(ordinary))
    assert raised.value.status == 422
    assert field in [error["field"] for error in raised.value.errors]


@pytest.mark.parametrize(
    ("rows", "field"),
    [
        ([CustomerRevenue("a", Decimal("-1"))], "customers[0].revenue"),
        ([CustomerRevenue("a", Decimal("NaN"))], "customers[0].revenue"),
        ([CustomerRevenue("a", Decimal(1)), CustomerRevenue("a", Decimal(2))], "customers[1].customer_id"),
    ],
    ids=["negative-revenue", "nan-revenue", "duplicate-customer"],
)
def test_invalid_revenue_is_refused(rows: list[CustomerRevenue], field: str) -> None:
    with pytest.raises(DomainRuleViolation) as raised:
        customer_pyramid(rows)
    assert [error["field"] for error in raised.value.errors] == [field]
