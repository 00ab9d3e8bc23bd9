"""All SQL of the credit service."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Any, cast

from sqlalchemy import Table, and_, bindparam, case, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from services.credit.models import (
    Assessment,
    CreditCheck,
    CreditPolicyDocument,
    CreditProfile,
    InvoiceRecord,
    KnownCustomer,
)
from shared.db import after_keyset

POLICY_ROW_ID = 1


async def known_customer(session: AsyncSession, customer_id: uuid.UUID) -> KnownCustomer | None:
    return await session.get(KnownCustomer, customer_id)


async def profile(session: AsyncSession, customer_id: uuid.UUID) -> CreditProfile | None:
    return await session.get(CreditProfile, customer_id)


_STATE_COLUMNS = (
    "grade",
    "currency",
    "receivables_by_currency",
    "open_receivables",
    "overdue_amount",
    "oldest_overdue_days",
    "collection_stage",
    "on_hold",
    "hold_reasons",
    "hold_changed_at",
    "updated_at",
)


async def profile_states(session: AsyncSession, customer_ids: set[uuid.UUID]) -> list[Any]:
    """The columns collections' events change, of the given customers' profiles, in one query (rows)."""
    table = cast(Table, CreditProfile.__table__)
    query = select(table.c.customer_id, *(table.c[name] for name in _STATE_COLUMNS))
    return list((await session.execute(query.where(table.c.customer_id.in_(customer_ids)))).all())


async def insert_profiles(session: AsyncSession, rows: list[dict[str, Any]]) -> None:
    if rows:
        await session.execute(insert(cast(Table, CreditProfile.__table__)), rows)


async def update_profile_states(session: AsyncSession, rows: list[dict[str, Any]]) -> None:
    """Write those columns of many profiles in one executemany; ORM copies of them are expired."""
    if not rows:
        return
    table = cast(Table, CreditProfile.__table__)
    columns = [name for name in rows[0] if name != "customer_id"]
    await session.execute(
        update(table)
        .where(table.c.customer_id == bindparam("b_customer_id"))
        .values({name: bindparam(name) for name in columns}),
        [{**row, "b_customer_id": row["customer_id"]} for row in rows],
    )
    changed = {row["customer_id"] for row in rows}
    for loaded in list(session.identity_map.values()):
        if isinstance(loaded, CreditProfile) and loaded.customer_id in changed:
            session.expire(loaded)


async def add(session: AsyncSession, row: object) -> None:
    session.add(row)
    await session.flush()


async def assessment(session: AsyncSession, assessment_id: uuid.UUID) -> Assessment | None:
    return await session.get(Assessment, assessment_id)


async def assessments_page(
    session: AsyncSession, *, customer_id: uuid.UUID | None, limit: int, after: tuple[datetime, uuid.UUID] | None
) -> list[Assessment]:
    """Keyset page ordered by (created_at, id)."""
    query = select(Assessment)
    if customer_id is not None:
        query = query.where(Assessment.customer_id == customer_id)
    if (keyset := after_keyset(Assessment.created_at, Assessment.id, after)) is not None:
        query = query.where(keyset)
    query = query.order_by(Assessment.created_at, Assessment.id).limit(limit)
    return list((await session.scalars(query)).all())


async def credit_check(session: AsyncSession, check_id: uuid.UUID) -> CreditCheck | None:
    return await session.get(CreditCheck, check_id)


async def policy_document(session: AsyncSession) -> CreditPolicyDocument | None:
    return await session.get(CreditPolicyDocument, POLICY_ROW_ID)


async def invoice(session: AsyncSession, invoice_id: uuid.UUID) -> InvoiceRecord | None:
    return await session.get(InvoiceRecord, invoice_id)


async def invoices_of(session: AsyncSession, customer_id: uuid.UUID) -> list[InvoiceRecord]:
    query = select(InvoiceRecord).where(InvoiceRecord.customer_id == customer_id).order_by(InvoiceRecord.issue_date)
    return list((await session.scalars(query)).all())


async def credit_sales_in_windows(
    session: AsyncSession, windows: list[tuple[date, date]], customer_id: uuid.UUID | None = None
) -> dict[uuid.UUID, list[Decimal]]:
    """Invoiced amounts per customer in each [since, until] window, in ONE query (a SUM(CASE) per window)."""
    columns = [
        func.sum(
            case(
                (and_(InvoiceRecord.issue_date >= since, InvoiceRecord.issue_date <= until), InvoiceRecord.amount),
                else_=0,
            )
        )
        for since, until in windows
    ]
    query = (
        select(InvoiceRecord.customer_id, *columns)
        .where(
            InvoiceRecord.issue_date >= min(since for since, _ in windows),
            InvoiceRecord.issue_date <= max(until for _, until in windows),
        )
        .group_by(InvoiceRecord.customer_id)
    )
    if customer_id is not None:
        query = query.where(InvoiceRecord.customer_id == customer_id)
    return {row[0]: [Decimal(value or 0) for value in row[1:]] for row in (await session.execute(query)).all()}


async def profiles_with_customers(session: AsyncSession) -> list[tuple[CreditProfile, KnownCustomer]]:
    query = (
        select(CreditProfile, KnownCustomer)
        .join(KnownCustomer, KnownCustomer.id == CreditProfile.customer_id)
        .order_by(KnownCustomer.name, KnownCustomer.id)
    )
    return [(row[0], row[1]) for row in (await session.execute(query)).all()]


async def customers_with_invoices(session: AsyncSession) -> list[KnownCustomer]:
    query = (
        select(KnownCustomer)
        .where(KnownCustomer.id.in_(select(InvoiceRecord.customer_id).distinct()))
        .order_by(KnownCustomer.name, KnownCustomer.id)
    )
    return list((await session.scalars(query)).all())
