"""Receivables per customer and currency, as ``receivables_changed`` events: one home for the rule.

Read incrementally from the (customer, currency, due date) buckets that triggers on ``invoices`` keep
(``ReceivablesByDue``): a few rows per customer, never all of its open invoices. Every writer — an invoice
or a bulk run, a payment, a dispute, the sweep — announces through here.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from services.collections import repository
from shared.events.collections import ReceivablesChanged
from shared.money import ZERO, to_cents
from shared.outbox import emit_many
from shared.stage import highest_stage


async def announce_receivables(
    session: AsyncSession, customers: set[uuid.UUID], now: datetime, as_of: date | None = None
) -> None:
    """One ReceivablesChanged per customer (and currency) in ``customers``, in the outbox."""
    await emit_many(session, await receivables_events(session, customers, as_of or now.date(), now), at=now)


async def receivables_events(
    session: AsyncSession, customer_ids: set[uuid.UUID], as_of: date, now: datetime
) -> list[ReceivablesChanged]:
    """The ReceivablesChanged event of each customer (and currency), from the receivables buckets.

    Incremental: the buckets (``ReceivablesByDue``) move with every write to an invoice, so this reads a
    few rows per customer (a test holds them equal to a re-sum of the open invoices). A customer with
    nothing open still gets one event (in CNY) saying so.
    """
    totals = await repository.receivables_totals(session, customer_ids, as_of)
    stages = await repository.open_case_stages(session, customer_ids)
    events = []
    for customer_id in sorted(customer_ids, key=str):
        stage = highest_stage(stages.get(customer_id, []))
        for currency_totals in totals.get(customer_id) or [None]:
            oldest = currency_totals.oldest_overdue if currency_totals is not None else None
            events.append(
                ReceivablesChanged(
                    customer_id=customer_id,
                    currency=currency_totals.currency if currency_totals is not None else "CNY",
                    open_receivables=to_cents(currency_totals.open if currency_totals is not None else ZERO),
                    overdue_amount=to_cents(currency_totals.overdue if currency_totals is not None else ZERO),
                    oldest_overdue_days=(as_of - oldest).days if oldest else 0,
                    highest_open_stage=str(stage) if stage else None,
                    as_of=now,
                )
            )
    return events
