"""Prospect temperature boundaries and the customer lifecycle state machine."""

from __future__ import annotations

from datetime import date
from itertools import product

import pytest

from services.customers.domain.customer import (
    LIFECYCLE_TRANSITIONS,
    Lifecycle,
    Temperature,
    add_months,
    allowed_lifecycle_targets,
    lifecycle_after_purchase,
    prospect_temperature,
    temperature,
    transition_lifecycle,
)
from shared.errors import Conflict


@pytest.mark.parametrize(
    ("day", "months", "expected"),
    [
        (date(2024, 1, 15), 1, date(2024, 2, 15)),
        (date(2024, 1, 31), 1, date(2024, 2, 29)),  # leap year: clamped to Feb 29
        (date(2023, 1, 31), 1, date(2023, 2, 28)),  # common year: clamped to Feb 28
        (date(2024, 1, 31), 3, date(2024, 4, 30)),  # April has 30 days
        (date(2024, 11, 30), 3, date(2025, 2, 28)),  # crosses the year end
        (date(2024, 12, 15), 1, date(2025, 1, 15)),
        (date(2024, 3, 31), -1, date(2024, 2, 29)),
    ],
    ids=["mid-month", "jan31-leap", "jan31-common", "jan31-plus3", "year-wrap-plus3", "dec-plus1", "minus1"],
)
def test_add_months_clamps_to_month_end(day: date, months: int, expected: date) -> None:
    assert add_months(day, months) == expected


@pytest.mark.parametrize(
    ("today", "expected_order", "expected"),
    [
        (date(2024, 1, 31), date(2024, 1, 30), Temperature.HOT),  # overdue prospect: still hot
        (date(2024, 1, 31), date(2023, 6, 1), Temperature.HOT),
        (date(2024, 1, 31), date(2024, 1, 31), Temperature.HOT),  # today
        (date(2024, 1, 31), date(2024, 2, 29), Temperature.HOT),  # exactly +1 month (clamped, leap)
        (date(2024, 1, 31), date(2024, 3, 1), Temperature.WARM),  # +1 month +1 day
        (date(2024, 1, 31), date(2024, 4, 30), Temperature.WARM),  # exactly +3 months (clamped)
        (date(2024, 1, 31), date(2024, 5, 1), Temperature.COLD),  # +3 months +1 day
        (date(2023, 1, 31), date(2023, 2, 28), Temperature.HOT),  # common year: Feb 28 is +1 month
        (date(2023, 1, 31), date(2023, 3, 1), Temperature.WARM),
        (date(2024, 3, 15), date(2024, 4, 15), Temperature.HOT),
        (date(2024, 3, 15), date(2024, 4, 16), Temperature.WARM),
        (date(2024, 3, 15), date(2024, 6, 15), Temperature.WARM),
        (date(2024, 3, 15), date(2024, 6, 16), Temperature.COLD),
        (date(2024, 11, 30), date(2025, 2, 28), Temperature.WARM),  # +3 months across the year end
        (date(2024, 11, 30), date(2025, 3, 1), Temperature.COLD),
        (date(2024, 3, 15), date(2026, 1, 1), Temperature.COLD),
    ],
    ids=[
        "past-yesterday",
        "past-long-ago",
        "today",
        "plus1m-leap",
        "plus1m-plus1d",
        "plus3m",
        "plus3m-plus1d",
        "plus1m-common-year",
        "plus1m-plus1d-common",
        "mid-plus1m",
        "mid-plus1m-plus1d",
        "mid-plus3m",
        "mid-plus3m-plus1d",
        "year-wrap-plus3m",
        "year-wrap-plus3m-plus1d",
        "far-future",
    ],
)
def test_temperature_boundaries(today: date, expected_order: date, expected: Temperature) -> None:
    assert temperature(expected_order, today) is expected


@pytest.mark.parametrize(
    ("lifecycle", "expected_order", "expected"),
    [
        (Lifecycle.PROSPECT, date(2024, 2, 1), Temperature.HOT),
        (Lifecycle.PROSPECT, None, None),  # a prospect without an expected date has no temperature
        (Lifecycle.ACTIVE, date(2024, 2, 1), None),
        (Lifecycle.LAPSED, date(2024, 2, 1), None),
        (Lifecycle.LOST, date(2024, 2, 1), None),
    ],
    ids=["prospect", "prospect-no-date", "active", "lapsed", "lost"],
)
def test_only_prospects_have_a_temperature(
    lifecycle: Lifecycle, expected_order: date | None, expected: Temperature | None
) -> None:
    assert prospect_temperature(lifecycle, expected_order, date(2024, 1, 15)) == expected


LEGAL_LIFECYCLE = [
    (Lifecycle.PROSPECT, Lifecycle.ACTIVE),
    (Lifecycle.PROSPECT, Lifecycle.LOST),
    (Lifecycle.ACTIVE, Lifecycle.LAPSED),
    (Lifecycle.ACTIVE, Lifecycle.LOST),
    (Lifecycle.LAPSED, Lifecycle.ACTIVE),
    (Lifecycle.LAPSED, Lifecycle.LOST),
    (Lifecycle.LOST, Lifecycle.ACTIVE),
    (Lifecycle.LOST, Lifecycle.PROSPECT),
]


def test_lifecycle_table_is_exactly_the_documented_one() -> None:
    table = {(source, target) for source, targets in LIFECYCLE_TRANSITIONS.items() for target in targets}
    assert table == set(LEGAL_LIFECYCLE)


@pytest.mark.parametrize(("current", "target"), LEGAL_LIFECYCLE, ids=[f"{a}->{b}" for a, b in LEGAL_LIFECYCLE])
def test_legal_lifecycle_changes(current: Lifecycle, target: Lifecycle) -> None:
    assert transition_lifecycle(current, target) is target


@pytest.mark.parametrize("state", list(Lifecycle), ids=str)
def test_staying_in_the_same_lifecycle_is_a_no_op(state: Lifecycle) -> None:
    assert transition_lifecycle(state, state) is state


ILLEGAL_LIFECYCLE = [(a, b) for a, b in product(Lifecycle, Lifecycle) if a is not b and (a, b) not in LEGAL_LIFECYCLE]


@pytest.mark.parametrize(("current", "target"), ILLEGAL_LIFECYCLE, ids=[f"{a}->{b}" for a, b in ILLEGAL_LIFECYCLE])
def test_illegal_lifecycle_changes_are_refused(current: Lifecycle, target: Lifecycle) -> None:
    with pytest.raises(Conflict) as raised:
        transition_lifecycle(current, target)
    assert raised.value.status == 409
    assert raised.value.extensions["current_state"] == current
    assert raised.value.extensions["allowed_next_states"] == allowed_lifecycle_targets(current)
    assert str(current) in raised.value.detail


def test_illegal_lifecycle_list_covers_prospect_lapse_and_return_to_prospect() -> None:
    # The four refusals a reader would look for first.
    assert set(ILLEGAL_LIFECYCLE) == {
        (Lifecycle.PROSPECT, Lifecycle.LAPSED),
        (Lifecycle.ACTIVE, Lifecycle.PROSPECT),
        (Lifecycle.LAPSED, Lifecycle.PROSPECT),
        (Lifecycle.LOST, Lifecycle.LAPSED),
    }


@pytest.mark.parametrize("state", list(Lifecycle), ids=str)
def test_a_purchase_makes_any_customer_active(state: Lifecycle) -> None:
    assert lifecycle_after_purchase(state) is Lifecycle.ACTIVE
