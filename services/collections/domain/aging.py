"""Aging of receivables: buckets by days overdue, per customer and overall."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import Any
from uuid import UUID

from services.collections.domain.money import require_non_negative
from shared.money import ZERO

CustomerId = UUID | str


class AgingBucket(StrEnum):
    """Aging buckets: current means not yet due (day 0 or earlier)."""

    CURRENT = "current"
    DAYS_1_30 = "1-30"
    DAYS_31_60 = "31-60"
    DAYS_61_90 = "61-90"
    DAYS_91_180 = "91-180"
    OVER_180 = "over_180"


# Upper bound (inclusive) of days overdue for each bucket but the last.
_UPPER_BOUNDS: tuple[tuple[int, AgingBucket], ...] = (
    (0, AgingBucket.CURRENT),
    (30, AgingBucket.DAYS_1_30),
    (60, AgingBucket.DAYS_31_60),
    (90, AgingBucket.DAYS_61_90),
    (180, AgingBucket.DAYS_91_180),
)


def aging_bucket(days_overdue: int) -> AgingBucket:
    """Bucket of an invoice ``days_overdue`` days past its due date (0 or less is current)."""
    for upper, bucket in _UPPER_BOUNDS:
        if days_overdue <= upper:
            return bucket
    return AgingBucket.OVER_180


@dataclass(frozen=True)
class AgingRow:
    """One open invoice: who owes, when it fell due, how much is outstanding."""

    customer_id: CustomerId
    due_date: date
    outstanding: Decimal


@dataclass
class BucketTotals:
    """Outstanding amount per bucket (every bucket present, zero when empty) and the total."""

    amounts: dict[AgingBucket, Decimal] = field(default_factory=lambda: dict.fromkeys(AgingBucket, ZERO))

    @property
    def total(self) -> Decimal:
        """Sum over the buckets."""
        return sum(self.amounts.values(), ZERO)

    def add(self, bucket: AgingBucket, amount: Decimal) -> None:
        """Add ``amount`` to ``bucket``."""
        self.amounts[bucket] += amount

    def to_dict(self) -> dict[str, str]:
        """Buckets and total as decimal strings."""
        return {**{str(bucket): str(amount) for bucket, amount in self.amounts.items()}, "total": str(self.total)}


@dataclass
class AgingReport:
    """Aging as of a date, per customer and overall."""

    as_of: date
    per_customer: dict[CustomerId, BucketTotals]
    overall: BucketTotals

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form: amounts as strings, customers keyed by their id as text."""
        return {
            "as_of": self.as_of.isoformat(),
            "customers": {str(customer): totals.to_dict() for customer, totals in self.per_customer.items()},
            "overall": self.overall.to_dict(),
        }


def aging_report(rows: Iterable[AgingRow], as_of: date) -> AgingReport:
    """Sum the outstanding amounts of ``rows`` into buckets by days overdue as of ``as_of`` (no rounding)."""
    per_customer: dict[CustomerId, BucketTotals] = {}
    overall = BucketTotals()
    for row in rows:
        require_non_negative(row.outstanding, "outstanding")
        bucket = aging_bucket((as_of - row.due_date).days)
        per_customer.setdefault(row.customer_id, BucketTotals()).add(bucket, row.outstanding)
        overall.add(bucket, row.outstanding)
    return AgingReport(as_of=as_of, per_customer=per_customer, overall=overall)
