"""Step 1 of the sweep: open a case for every open overdue invoice without one, in one statement."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    Boolean,
    ColumnElement,
    Date,
    Integer,
    Numeric,
    String,
    exists,
    func,
    insert,
    literal,
    null,
    select,
)
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.collections.sweep.announcements import record_customers
from services.collections.sweep.rules_sql import (
    SweepOutcome,
    cases,
    invoices,
    known,
    new_uuid_sql,
    outbox_row,
    profiles,
    route_sql,
    segment_sql,
)
from shared.db import UTCDateTime
from shared.events.collections import CaseOpened, InvoiceOverdue
from shared.outbox import outbox_written
from shared.tables import outbox


def _uncased_overdue(as_of: date) -> list[ColumnElement[bool]]:
    """Invoices the sweep opens a case for: open, something outstanding, overdue, no case yet."""
    return [
        invoices.c.status == "open",
        invoices.c.principal_outstanding > 0,
        invoices.c.due_date < literal(as_of, Date),
        ~exists(select(cases.c.id).where(cases.c.invoice_id == invoices.c.id)),
    ]


async def open_cases(
    session: AsyncSession,
    as_of: date,
    now: datetime,
    outcome: SweepOutcome,
    headers: str,
    *,
    after: uuid.UUID | None = None,
    limit: int | None = None,
) -> uuid.UUID | None:
    """One INSERT … SELECT opening a case for every open overdue invoice without one.

    With ``limit``: only for the next ``limit`` such invoices in id order after ``after`` (a keyset chunk,
    its own transaction in the caller), and the last of them is returned when there may be more (None:
    none left). Finding them is a read that locks nothing, so a payment never waits behind it.
    """
    dialect = session.get_bind().dialect.name
    conditions = _uncased_overdue(as_of)
    last: uuid.UUID | None = None
    if limit is not None:
        picking = select(invoices.c.id).where(*conditions).order_by(invoices.c.id).limit(limit)
        if after is not None:
            picking = picking.where(invoices.c.id > after)
        picked = list((await session.execute(picking)).scalars())
        if not picked:
            return None
        # The rows between the first and the last picked: the picked ones (and any invoice that became
        # due since, which is as well opened now as in the next sweep).
        conditions += [invoices.c.id >= picked[0], invoices.c.id <= picked[-1]]
        last = picked[-1] if len(picked) == limit else None
    source = (
        select(
            new_uuid_sql(dialect),
            invoices.c.id,
            invoices.c.customer_id,
            null(),
            literal(-1, Integer),
            literal("open", String),
            segment_sql(),
            route_sql(),
            func.coalesce(profiles.c.clause_kind, "unknown"),
            profiles.c.commission,
            invoices.c.due_date,
            invoices.c.currency,
            invoices.c.principal_outstanding,
            literal(Decimal("0"), Numeric(18, 2)),
            literal(False, Boolean),
            literal(False, Boolean),
            literal(now, UTCDateTime()),
            literal(1, Integer),
            literal(now, UTCDateTime()),
            literal(now, UTCDateTime()),
        )
        .select_from(
            invoices.outerjoin(known, known.c.id == invoices.c.customer_id).outerjoin(
                profiles, profiles.c.customer_id == invoices.c.customer_id
            )
        )
        .where(*conditions)
    )
    columns = [
        "id",
        "invoice_id",
        "customer_id",
        "stage",
        "stage_rank",
        "status",
        "segment",
        "route",
        "clause_kind",
        "commission",
        "due_date",
        "currency",
        "outstanding",
        "disputed_amount",
        "malicious",
        "write_off_review",
        "opened_at",
        "version",
        "created_at",
        "updated_at",
    ]
    # ON CONFLICT DO NOTHING: a sweep running at the same time on another replica may have opened the
    # same invoice's case a moment ago; the unique invoice_id makes this one skip it instead of failing.
    dialect_insert: Any = postgresql_insert if dialect == "postgresql" else sqlite_insert
    statement = (
        dialect_insert(cases)
        .from_select(columns, source)
        .on_conflict_do_nothing(index_elements=["invoice_id"])
        .returning(
            cases.c.id, cases.c.invoice_id, cases.c.customer_id, cases.c.due_date, cases.c.currency, cases.c.outstanding
        )
    )
    rows = (await session.execute(statement)).all()
    events: list[dict[str, Any]] = []
    for row in rows:
        days = (as_of - row.due_date).days
        events.append(
            outbox_row(
                InvoiceOverdue(
                    customer_id=row.customer_id,
                    invoice_id=row.invoice_id,
                    due_date=row.due_date,
                    days_overdue=days,
                    currency=row.currency,
                    outstanding=row.outstanding,
                ),
                now,
                headers,
            )
        )
        events.append(
            outbox_row(
                CaseOpened(
                    customer_id=row.customer_id,
                    case_id=row.id,
                    invoice_id=row.invoice_id,
                    opened_at=now,
                    currency=row.currency,
                    outstanding=row.outstanding,
                ),
                now,
                headers,
            )
        )
        outcome.customers.add(row.customer_id)
    await record_customers(session, (row.customer_id for row in rows))
    if events:
        await session.execute(insert(outbox), events)
        await outbox_written(session)  # the chunk's commit wakes the relay, as a moving chunk's does
    outcome.cases_opened += len(rows)
    return last
