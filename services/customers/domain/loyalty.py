"""Loyalty measures from purchase history: repeat-purchase rate, frequency, recency and lapse detection."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from services.customers.domain.customer import Lifecycle
from services.customers.domain.ratios import to_ratio
from shared.errors import FieldErrors
from shared.money import to_cents

DAYS_PER_YEAR = 365


@dataclass(frozen=True)
class Purchase:
    on: date
    amount: Decimal


@dataclass(frozen=True)
class LoyaltyProfile:
    purchase_count: int  # purchases within the period
    total_amount: Decimal
    average_amount: Decimal | None  # None without purchases; cents
    first_purchase_on: date | None  # within the period
    last_purchase_on: date | None  # latest on or before period_end, even if before period_start
    days_since_last_purchase: int | None  # counted to period_end
    purchases_per_year: Decimal  # 2 places
    is_repeat_customer: bool  # ≥ 2 purchases within the period


@dataclass(frozen=True)
class LapseCandidate:
    customer_id: str
    lifecycle: Lifecycle
    last_purchase_on: date | None


def _check_lapse_days(lapse_after_days: int) -> None:
    errors = FieldErrors()
    errors.check(lapse_after_days >= 1, "lapse_after_days", "must be at least 1 day")
    errors.raise_if_any("Invalid lapse rule")


def days_since_last_purchase(purchase_dates: Iterable[date], as_of: date) -> int | None:
    """Days from the latest purchase on or before ``as_of`` to ``as_of``; None if there is none."""
    past = [day for day in purchase_dates if day <= as_of]
    return (as_of - max(past)).days if past else None


def purchase_frequency(purchase_count: int, period_start: date, period_end: date) -> Decimal:
    """Purchases per year: count × 365 / days in the period (both ends inclusive), rounded to 2 places."""
    errors = FieldErrors()
    errors.check(period_start <= period_end, "period_end", "must not be before period_start")
    errors.check(purchase_count >= 0, "purchase_count", "must not be negative")
    errors.raise_if_any("Invalid period")
    period_days = (period_end - period_start).days + 1
    return (Decimal(purchase_count) * DAYS_PER_YEAR / period_days).quantize(Decimal("0.01"), ROUND_HALF_UP)


def loyalty_profile(purchases: Sequence[Purchase], period_start: date, period_end: date) -> LoyaltyProfile:
    """One customer's loyalty figures over [period_start, period_end]; recency is measured at period_end."""
    errors = FieldErrors()
    for index, purchase in enumerate(purchases):
        if errors.require_finite(purchase.amount, f"purchases[{index}].amount"):
            errors.check(purchase.amount >= 0, f"purchases[{index}].amount", "must not be negative")
    errors.raise_if_any("Invalid purchases")
    in_period = [purchase for purchase in purchases if period_start <= purchase.on <= period_end]
    total = sum((purchase.amount for purchase in in_period), Decimal(0))
    count = len(in_period)
    return LoyaltyProfile(
        purchase_count=count,
        total_amount=total,
        average_amount=to_cents(total / count) if count else None,
        first_purchase_on=min((purchase.on for purchase in in_period), default=None),
        last_purchase_on=max((purchase.on for purchase in purchases if purchase.on <= period_end), default=None),
        days_since_last_purchase=days_since_last_purchase((purchase.on for purchase in purchases), period_end),
        purchases_per_year=purchase_frequency(count, period_start, period_end),
        is_repeat_customer=count >= 2,
    )


def repeat_purchase_rate(purchase_counts: Iterable[int]) -> Decimal:
    """Share of a group's buyers (≥ 1 purchase) who bought again (≥ 2 purchases), 4 places; 0 without buyers.

    Customers who bought nothing in the period are not in the denominator: a repeat-purchase rate asks how
    many of those who bought came back, and a dormant account never had the chance to repeat.
    """
    counts = list(purchase_counts)
    errors = FieldErrors()
    errors.check(all(count >= 0 for count in counts), "purchase_counts", "must not be negative")
    errors.raise_if_any("Invalid purchase counts")
    buyers = [count for count in counts if count >= 1]
    if not buyers:
        return Decimal("0.0000")
    repeaters = sum(1 for count in buyers if count >= 2)
    return to_ratio(Decimal(repeaters) / len(buyers))


def is_lapsed(last_purchase_on: date | None, as_of: date, lapse_after_days: int) -> bool:
    """True when more than ``lapse_after_days`` days have passed since the last purchase.

    A purchase exactly N days ago still counts as "within N days" (not lapsed); N + 1 days is lapsed.
    Without any purchase there is nothing to measure from, so the customer is not judged (False).
    """
    _check_lapse_days(lapse_after_days)
    if last_purchase_on is None:
        return False
    return (as_of - last_purchase_on).days > lapse_after_days


def lapse_transition(
    lifecycle: Lifecycle, last_purchase_on: date | None, as_of: date, lapse_after_days: int
) -> Lifecycle | None:
    """``Lifecycle.LAPSED`` if an active customer has lapsed, else None (only active customers lapse)."""
    _check_lapse_days(lapse_after_days)
    if lifecycle is Lifecycle.ACTIVE and is_lapsed(last_purchase_on, as_of, lapse_after_days):
        return Lifecycle.LAPSED
    return None


def find_lapsed(candidates: Iterable[LapseCandidate], as_of: date, lapse_after_days: int) -> list[str]:
    """Ids of the active customers that should move to ``lapsed`` now, sorted."""
    _check_lapse_days(lapse_after_days)
    return sorted(
        candidate.customer_id
        for candidate in candidates
        if lapse_transition(candidate.lifecycle, candidate.last_purchase_on, as_of, lapse_after_days)
    )
