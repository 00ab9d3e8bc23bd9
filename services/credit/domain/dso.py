"""Days sales outstanding (应收账款周转天数), simple and countback, for a customer or the portfolio.

The same functions serve one customer and the whole portfolio: pass that customer's receivables
and credit sales, or everybody's. Results are days rounded to 2 dp, ROUND_HALF_UP.
"""

from __future__ import annotations

import calendar
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from services.credit.domain.rounding import round_places
from shared.errors import field_error, raise_if_any


class DsoMethod(StrEnum):
    """How DSO was computed."""

    SIMPLE = "simple"
    COUNTBACK = "countback"


@dataclass(frozen=True)
class SalesPeriod:
    """Credit sales of one period (usually a calendar month) and its length in days."""

    days: int
    credit_sales: Decimal

    def __post_init__(self) -> None:
        errors = []
        if self.days <= 0:
            errors.append(field_error("days", "must be greater than 0"))
        if self.credit_sales < 0:
            errors.append(field_error("credit_sales", "must not be negative"))
        raise_if_any(errors)

    @classmethod
    def calendar_month(cls, year: int, month: int, credit_sales: Decimal) -> SalesPeriod:
        """A calendar month with its real number of days (28–31)."""
        return cls(days=calendar.monthrange(year, month)[1], credit_sales=credit_sales)


@dataclass(frozen=True)
class DsoResult:
    """DSO in days (2 dp); ``complete`` is False when countback ran out of history (a lower bound)."""

    method: DsoMethod
    days: Decimal
    complete: bool = True


def simple_dso(receivables: Decimal, credit_sales: Decimal, days_in_period: int) -> DsoResult:
    """Receivables / credit sales of the period × days in the period."""
    errors = []
    if receivables < 0:
        errors.append(field_error("receivables", "must not be negative"))
    if days_in_period <= 0:
        errors.append(field_error("days_in_period", "must be greater than 0"))
    if credit_sales < 0 or (credit_sales == 0 and receivables > 0):
        errors.append(field_error("credit_sales", "must be greater than 0 when there are receivables"))
    raise_if_any(errors)
    if receivables == 0:
        return DsoResult(DsoMethod.SIMPLE, Decimal("0.00"))
    return DsoResult(DsoMethod.SIMPLE, round_places(receivables / credit_sales * days_in_period, 2))


def countback_dso(receivables: Decimal, periods_most_recent_first: Sequence[SalesPeriod]) -> DsoResult:
    """Walk back from the latest period, absorbing each period's sales into receivables, counting its days.

    The period that absorbs the rest contributes remaining / its sales × its days. If the history is
    exhausted with receivables left, the result is the days of the whole history and ``complete`` False.
    """
    if receivables < 0:
        raise_if_any([field_error("receivables", "must not be negative")])
    remaining = receivables
    days = Decimal(0)
    for period in periods_most_recent_first:
        if remaining <= 0:
            break
        if remaining >= period.credit_sales:
            # A period with no sales absorbs nothing: its days all count and the walk goes on.
            days += period.days
            remaining -= period.credit_sales
        else:
            days += remaining / period.credit_sales * period.days
            remaining = Decimal(0)
    return DsoResult(DsoMethod.COUNTBACK, round_places(days, 2), complete=remaining <= 0)
