"""Days sales outstanding of a customer from its sales history and receivables."""

from __future__ import annotations

import functools
import uuid
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession

from services.credit import repository
from services.credit.domain.dso import DsoResult, SalesPeriod, countback_dso, simple_dso
from services.credit.models import CreditProfile
from services.credit.schemas.profiles import DsoRead
from services.credit.settings import CreditSettings
from shared.money import to_cents


@dataclass
class SalesHistory:
    """A customer's credit sales: the simple-DSO window and calendar months, most recent first."""

    simple_window: Decimal
    months: list[SalesPeriod]

    @classmethod
    def empty(cls, today: date, settings: CreditSettings) -> SalesHistory:
        return cls(Decimal(0), [SalesPeriod(days, Decimal(0)) for _, _, days in _months(today, settings)])


def _months(today: date, settings: CreditSettings) -> tuple[tuple[date, date, int], ...]:
    """(first day, last day counted, days counted) of the current month (to today) and the months before."""
    return _calendar_months(today, settings.dso_countback_months)


@functools.lru_cache(maxsize=64)
def _calendar_months(today: date, count: int) -> tuple[tuple[date, date, int], ...]:
    # Cached: every profile read of a day asks for the same months (twice), a tenth of its CPU otherwise.
    months = []
    end = today
    for _ in range(count):
        start = end.replace(day=1)
        months.append((start, end, (end - start).days + 1))
        end = start - timedelta(days=1)
    return tuple(months)


async def sales_history(
    session: AsyncSession, today: date, settings: CreditSettings, customer_id: uuid.UUID | None = None
) -> dict[uuid.UUID, SalesHistory]:
    sales = await repository.credit_sales_in_windows(session, sales_windows(today, settings), customer_id)
    return {cid: history_of(figures, today, settings) for cid, figures in sales.items()}


def sales_windows(today: date, settings: CreditSettings) -> list[tuple[date, date]]:
    """The [since, until] windows of a sales history: the simple-DSO period, then each countback month."""
    simple_start = today - timedelta(days=settings.dso_simple_period_days - 1)
    return [(simple_start, today), *((start, end) for start, end, _ in _months(today, settings))]


def history_of(figures: list[Decimal], today: date, settings: CreditSettings) -> SalesHistory:
    """The sales history of the amounts sold in each of ``sales_windows`` (in their order)."""
    months = _months(today, settings)
    return SalesHistory(
        figures[0], [SalesPeriod(days, amount) for (_, _, days), amount in zip(months, figures[1:], strict=True)]
    )


async def receivables_of(session: AsyncSession, customer_id: uuid.UUID, profile: CreditProfile | None) -> Decimal:
    """Collections' last reported open receivables; before any report, the invoices still outstanding."""
    if profile is not None and profile.overdue_amount is not None:
        return profile.open_receivables
    return receivables_from(profile, await repository.invoice_totals(session, customer_id))


def receivables_from(profile: CreditProfile | None, totals: repository.InvoiceTotals) -> Decimal:
    """Collections' last reported open receivables; before any report, the invoices still outstanding."""
    if profile is not None and profile.overdue_amount is not None:
        return profile.open_receivables
    return to_cents(totals.outstanding)


def dso_read(receivables: Decimal, sales: SalesHistory, settings: CreditSettings) -> DsoRead:
    """Simple and countback DSO; simple is null when there were receivables but no sales in its period."""
    simple: DsoResult | None = None
    if sales.simple_window > 0 or receivables == 0:
        simple = simple_dso(receivables, sales.simple_window, settings.dso_simple_period_days)
    countback = countback_dso(receivables, sales.months)
    return DsoRead(
        simple_days=simple.days if simple else None,
        simple_period_days=settings.dso_simple_period_days,
        countback_days=countback.days,
        countback_complete=countback.complete,
        receivables=to_cents(receivables),
        credit_sales_in_period=to_cents(sales.simple_window),
    )


async def dso_report(
    session: AsyncSession, settings: CreditSettings, today: date
) -> tuple[DsoRead, list[tuple[uuid.UUID, str, DsoRead]]]:
    """DSO of each customer with a profile or invoices, and of the portfolio (everybody's sums)."""
    history = await sales_history(session, today, settings)
    names: dict[uuid.UUID, str] = {}
    profiles: dict[uuid.UUID, CreditProfile] = {}
    for profile, customer in await repository.profiles_with_customers(session):
        names[customer.id], profiles[customer.id] = customer.name, profile
    for customer in await repository.customers_with_invoices(session):
        names.setdefault(customer.id, customer.name)
    rows = []
    total_receivables = Decimal(0)
    total = SalesHistory.empty(today, settings)
    for customer_id, name in sorted(names.items(), key=lambda item: (item[1], str(item[0]))):
        receivables = await receivables_of(session, customer_id, profiles.get(customer_id))
        sales = history.get(customer_id, SalesHistory.empty(today, settings))
        rows.append((customer_id, name, dso_read(receivables, sales, settings)))
        total_receivables += receivables
        total.simple_window += sales.simple_window
        total.months = [
            SalesPeriod(a.days, a.credit_sales + b.credit_sales)
            for a, b in zip(total.months, sales.months, strict=True)
        ]
    return dso_read(total_receivables, total, settings), rows
