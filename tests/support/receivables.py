"""Receivables re-summed from every open invoice: the reference the incremental buckets are held to.

The service announces receivables from its (customer, currency, due date) buckets
(``services.collections.service.receivables``); this full recomputation is what they must always equal
(tests/api/test_collections_receivables_buckets.py) and what ``bench/chaos.py`` checks the events against.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Date, case, func, literal, null, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.collections.models import Case, Invoice
from shared.events.collections import ReceivablesChanged
from shared.money import to_cents
from shared.stage import highest_stage

invoices = Invoice.__table__
cases = Case.__table__


async def resummed_receivables_events(
    session: AsyncSession, customer_ids: set[uuid.UUID], as_of: date, now: datetime
) -> list[ReceivablesChanged]:
    """The reference: each customer's ReceivablesChanged re-summed from every open invoice and case."""
    if not customer_ids:
        return []
    due = invoices.c.principal_outstanding + invoices.c.interest_outstanding + invoices.c.costs_outstanding
    overdue = invoices.c.due_date < literal(as_of, Date)
    query = (
        select(
            invoices.c.customer_id,
            invoices.c.currency,
            func.sum(due).label("open"),
            func.sum(case((overdue, due), else_=0)).label("overdue"),
            func.min(case((overdue, invoices.c.due_date), else_=null())).label("oldest"),
        )
        .where(invoices.c.status == "open")
        .group_by(invoices.c.customer_id, invoices.c.currency)
    )
    if len(customer_ids) <= 500:
        query = query.where(invoices.c.customer_id.in_(customer_ids))
    # The stages by name: arbitration and litigation share a rank, so a rank cannot say which one it was.
    stages_query = (
        select(cases.c.customer_id, cases.c.stage)
        .where(cases.c.status.in_(["open", "on_hold"]), cases.c.stage.is_not(None))
        .group_by(cases.c.customer_id, cases.c.stage)
    )
    if len(customer_ids) <= 500:
        stages_query = stages_query.where(cases.c.customer_id.in_(customer_ids))
    open_stages: dict[uuid.UUID, list[str]] = {}
    for customer_id, stage_name in (await session.execute(stages_query)).all():
        open_stages.setdefault(customer_id, []).append(stage_name)
    by_customer: dict[uuid.UUID, list[Any]] = {}
    for currency_totals in (await session.execute(query)).all():
        if currency_totals.customer_id in customer_ids:
            by_customer.setdefault(currency_totals.customer_id, []).append(currency_totals)
    events = []
    for customer_id in sorted(customer_ids, key=str):
        # A customer with nothing open any more still gets one event (in CNY) that says so.
        per_currency: list[Any] = by_customer.get(customer_id) or [None]
        for totals in per_currency:
            oldest = _as_date(totals.oldest) if totals is not None and totals.oldest is not None else None
            stage = highest_stage(open_stages.get(customer_id, []))
            events.append(
                ReceivablesChanged(
                    customer_id=customer_id,
                    currency=totals.currency if totals is not None else "CNY",
                    open_receivables=to_cents(Decimal(totals.open if totals is not None else 0)),
                    overdue_amount=to_cents(Decimal(totals.overdue if totals is not None else 0)),
                    oldest_overdue_days=(as_of - oldest).days if oldest else 0,
                    highest_open_stage=str(stage) if stage else None,
                    as_of=now,
                )
            )
    return events


def _as_date(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])
