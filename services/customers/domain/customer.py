"""Customer values: the registry's enums, a prospect's temperature and the lifecycle state machine."""

from __future__ import annotations

import calendar
from collections.abc import Mapping
from datetime import date
from enum import StrEnum

from shared.errors import Conflict


class CustomerKind(StrEnum):
    RETAIL_INDIVIDUAL = "retail_individual"
    COMMERCIAL = "commercial"
    ORGANIZATION = "organization"


class ChannelRole(StrEnum):
    INTERMEDIARY = "intermediary"
    END_CUSTOMER = "end_customer"


class Origin(StrEnum):
    INTERNAL = "internal"
    EXTERNAL = "external"


class Lifecycle(StrEnum):
    PROSPECT = "prospect"
    ACTIVE = "active"
    LAPSED = "lapsed"
    LOST = "lost"


class PurchaseType(StrEnum):
    NEW_BUY = "new_buy"
    REBUY = "rebuy"
    MODIFIED_REBUY = "modified_rebuy"


class Temperature(StrEnum):
    HOT = "hot"
    WARM = "warm"
    COLD = "cold"


def add_months(day: date, months: int) -> date:
    """The same day ``months`` calendar months later, clamped to the month's end (Jan 31 + 1 → Feb 28/29)."""
    month_index = day.year * 12 + (day.month - 1) + months
    year, month = divmod(month_index, 12)
    last_day = calendar.monthrange(year, month + 1)[1]
    return date(year, month + 1, min(day.day, last_day))


def temperature(expected_first_order_on: date, today: date) -> Temperature:
    """Hot if the first order is expected within one calendar month of today (inclusive), warm within three, else cold.

    A date already in the past is hot: the prospect is overdue and needs attention now, not less of it.
    "Within one month" means on or before ``add_months(today, 1)``, so Jan 31 → Feb 28 (29 in a leap year).
    """
    if expected_first_order_on <= add_months(today, 1):
        return Temperature.HOT
    if expected_first_order_on <= add_months(today, 3):
        return Temperature.WARM
    return Temperature.COLD


def prospect_temperature(lifecycle: Lifecycle, expected_first_order_on: date | None, today: date) -> Temperature | None:
    """The temperature of a prospect; None for customers past the prospect stage or without an expected date."""
    if lifecycle is not Lifecycle.PROSPECT or expected_first_order_on is None:
        return None
    return temperature(expected_first_order_on, today)


# Every legal lifecycle change. Any customer may be written off as lost; a lost customer can be
# won back, either straight to active (an order arrives) or to prospect (a win-back campaign starts).
# A prospect cannot lapse (it never bought) and nobody goes back to prospect except from lost.
LIFECYCLE_TRANSITIONS: Mapping[Lifecycle, frozenset[Lifecycle]] = {
    Lifecycle.PROSPECT: frozenset({Lifecycle.ACTIVE, Lifecycle.LOST}),
    Lifecycle.ACTIVE: frozenset({Lifecycle.LAPSED, Lifecycle.LOST}),
    Lifecycle.LAPSED: frozenset({Lifecycle.ACTIVE, Lifecycle.LOST}),
    Lifecycle.LOST: frozenset({Lifecycle.ACTIVE, Lifecycle.PROSPECT}),
}


def allowed_lifecycle_targets(current: Lifecycle) -> list[Lifecycle]:
    """The lifecycles a customer in ``current`` may move to, in declaration order."""
    return [state for state in Lifecycle if state in LIFECYCLE_TRANSITIONS[current]]


def transition_lifecycle(current: Lifecycle, target: Lifecycle) -> Lifecycle:
    """Return ``target`` if the change is legal; staying put is a no-op; anything else raises Conflict (409)."""
    if target is current:
        # A PATCH repeating the current lifecycle changes nothing, so it is not an illegal transition.
        return current
    if target not in LIFECYCLE_TRANSITIONS[current]:
        allowed = allowed_lifecycle_targets(current)
        raise Conflict(
            f"A customer cannot go from lifecycle '{current}' to '{target}'; allowed: {', '.join(allowed)}",
            current_state=str(current),
            allowed_next_states=[str(state) for state in allowed],
        )
    return target


def lifecycle_after_purchase(current: Lifecycle) -> Lifecycle:
    """A purchase makes any customer active (first order, reactivation or win-back)."""
    return transition_lifecycle(current, Lifecycle.ACTIVE)
