"""Step 1 of the sweep: open a case for every open overdue invoice without one, in one statement."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    Boolean,
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
from shared.tables import outbox


async def open_cases(session: AsyncSession, as_of: date, now: datetime, outcome: SweepOutcome, headers: str) -> None:
    """One INSERT … SELECT opening a case for every open overdue invoice without one."""
    dialect = session.get_bind().dialect.name
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
        .where(
            invoices.c.status == "open",
            invoices.c.principal_outstanding > 0,
            invoices.c.due_date < literal(as_of, Date),
            ~exists(select(cases.c.id).where(cases.c.invoice_id == invoices.c.id)),
        )
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
    if events:
        await session.execute(insert(outbox), events)
    outcome.cases_opened = len(rows)
