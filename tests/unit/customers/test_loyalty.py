"""Loyalty: recency, frequency, repeat-purchase rate and lapse detection."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest

from services.customers.domain.customer import Lifecycle
from services.customers.domain.loyalty import (
    LapseCandidate,
    Purchase,
    days_since_last_purchase,
    find_lapsed,
    is_lapsed,
    lapse_transition,
    loyalty_profile,
    purchase_frequency,
    repeat_purchase_rate,
)
from shared.errors import DomainRuleViolation

AS_OF = date(2024, 3, 31)


@pytest.mark.parametrize(
    ("dates", "expected"),
    [
        ([date(2024, 1, 10), date(2024, 3, 1)], 30),
        ([date(2024, 3, 31)], 0),
        ([date(2024, 3, 1), date(2024, 4, 15)], 30),  # a purchase after as_of is ignored
        ([date(2024, 4, 15)], None),
        ([], None),
    ],
    ids=["latest-counts", "same-day", "future-ignored", "only-future", "never"],
)
def test_days_since_last_purchase(dates: list[date], expected: int | None) -> None:
    assert days_since_last_purchase(dates, AS_OF) == expected


@pytest.mark.parametrize(
    ("count", "start", "end", "expected"),
    [
        (6, date(2023, 1, 1), date(2023, 12, 31), "6.00"),  # 365 days
        (6, date(2024, 1, 1), date(2024, 12, 31), "5.98"),  # 6 × 365 / 366 = 5.9836
        (3, date(2024, 1, 1), date(2024, 3, 31), "12.03"),  # 3 × 365 / 91 = 12.0329
        (1, date(2024, 1, 1), date(2024, 1, 1), "365.00"),  # one day
        (0, date(2024, 1, 1), date(2024, 3, 31), "0.00"),
    ],
    ids=["common-year", "leap-year", "quarter", "single-day", "no-purchases"],
)
def test_purchase_frequency(count: int, start: date, end: date, expected: str) -> None:
    assert purchase_frequency(count, start, end) == Decimal(expected)


def test_purchase_frequency_rejects_reversed_period() -> None:
    with pytest.raises(DomainRuleViolation):
        purchase_frequency(1, date(2024, 2, 1), date(2024, 1, 31))


def test_loyalty_profile_worked_example() -> None:
    purchases = [
        Purchase(date(2023, 12, 20), Decimal(50)),  # before the period: only recency sees it
        Purchase(date(2024, 1, 15), Decimal(100)),
        Purchase(date(2024, 2, 10), Decimal(200)),
        Purchase(date(2024, 4, 5), Decimal(300)),  # after the period: ignored
    ]
    profile = loyalty_profile(purchases, date(2024, 1, 1), AS_OF)
    assert profile.purchase_count == 2
    assert profile.total_amount == Decimal(300)
    assert profile.average_amount == Decimal("150.00")
    assert (profile.first_purchase_on, profile.last_purchase_on) == (date(2024, 1, 15), date(2024, 2, 10))
    assert profile.days_since_last_purchase == 50  # Feb 10 → Mar 31 in a leap year: 19 + 31
    assert profile.purchases_per_year == Decimal("8.02")  # 2 × 365 / 91 = 8.0219
    assert profile.is_repeat_customer


def test_loyalty_profile_recency_reaches_before_the_period() -> None:
    profile = loyalty_profile([Purchase(date(2023, 12, 31), Decimal(10))], date(2024, 1, 1), AS_OF)
    assert (profile.purchase_count, profile.average_amount, profile.first_purchase_on) == (0, None, None)
    assert (profile.last_purchase_on, profile.days_since_last_purchase) == (date(2023, 12, 31), 91)
    assert not profile.is_repeat_customer


@pytest.mark.parametrize("amount", ["-1", "NaN"], ids=["negative", "nan"])
def test_loyalty_profile_rejects_bad_amounts(amount: str) -> None:
    with pytest.raises(DomainRuleViolation) as raised:
        loyalty_profile([Purchase(date(2024, 1, 2), Decimal(amount))], date(2024, 1, 1), AS_OF)
    assert raised.value.errors[0]["field"] == "purchases[0].amount"


@pytest.mark.parametrize(
    ("counts", "expected"),
    [
        ([0, 1, 2, 5], "0.6667"),  # 2 of the 3 buyers bought again; the one who bought nothing is no buyer
        ([3, 1, 1], "0.3333"),
        ([1, 1, 1], "0.0000"),
        ([2, 3, 2], "1.0000"),
        ([0, 0, 2], "1.0000"),
        ([0, 0], "0.0000"),
        ([], "0.0000"),
    ],
    ids=["buyers-only", "third", "none-repeat", "all-repeat", "dormant-ignored", "no-buyers", "empty-group"],
)
def test_repeat_purchase_rate(counts: list[int], expected: str) -> None:
    assert repeat_purchase_rate(counts) == Decimal(expected)


def test_repeat_purchase_rate_rejects_negative_counts() -> None:
    with pytest.raises(DomainRuleViolation):
        repeat_purchase_rate([1, -1])


@pytest.mark.parametrize(
    ("days_ago", "expected"),
    [(0, False), (89, False), (90, False), (91, True), (400, True), (-5, False), (None, False)],
    ids=["today", "n-minus-1", "exactly-n", "n-plus-1", "long-ago", "future-date", "never-bought"],
)
def test_is_lapsed_boundaries(days_ago: int | None, expected: bool) -> None:
    last = None if days_ago is None else AS_OF - timedelta(days=days_ago)
    assert is_lapsed(last, AS_OF, 90) is expected


@pytest.mark.parametrize(
    ("lifecycle", "days_ago", "expected"),
    [
        (Lifecycle.ACTIVE, 91, Lifecycle.LAPSED),
        (Lifecycle.ACTIVE, 90, None),
        (Lifecycle.LAPSED, 200, None),  # already lapsed
        (Lifecycle.PROSPECT, 200, None),  # prospects never lapse
        (Lifecycle.LOST, 200, None),
    ],
    ids=["active-lapses", "active-on-boundary", "already-lapsed", "prospect", "lost"],
)
def test_lapse_transition(lifecycle: Lifecycle, days_ago: int, expected: Lifecycle | None) -> None:
    assert lapse_transition(lifecycle, AS_OF - timedelta(days=days_ago), AS_OF, 90) == expected


def test_find_lapsed_lists_active_customers_past_the_window_sorted() -> None:
    candidates = [
        LapseCandidate("c3", Lifecycle.ACTIVE, date(2023, 1, 1)),
        LapseCandidate("c1", Lifecycle.ACTIVE, date(2023, 6, 1)),
        LapseCandidate("c2", Lifecycle.ACTIVE, date(2024, 3, 1)),  # 30 days: fine
        LapseCandidate("c4", Lifecycle.LAPSED, date(2023, 1, 1)),
        LapseCandidate("c5", Lifecycle.ACTIVE, None),
    ]
    assert find_lapsed(candidates, AS_OF, 90) == ["c1", "c3"]


@pytest.mark.parametrize("days", [0, -1], ids=["zero", "negative"])
def test_lapse_window_must_be_positive(days: int) -> None:
    with pytest.raises(DomainRuleViolation) as raised:
        find_lapsed([], AS_OF, days)
    assert raised.value.errors[0]["field"] == "lapse_after_days"
