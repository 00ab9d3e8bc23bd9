"""All SQL of the customers service."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import date, datetime
from decimal import Decimal
from typing import Any, cast

from sqlalchemy import Table, bindparam, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.customers.models import Complaint, ComplaintStep, Contract, Customer, CustomerOverview, Sale
from shared.db import Database, KeyRead, after_keyset, insert_rows, update_rows


async def get(session: AsyncSession, customer_id: uuid.UUID) -> Customer | None:
    return await session.get(Customer, customer_id)


_READ_CUSTOMER = KeyRead(select(Customer.__table__).where(Customer.__table__.c.id == bindparam("customer_id")))


async def read(db: Database, customer_id: uuid.UUID) -> Any | None:
    """The customer's columns as a row: what a read answers with, without an ORM object to track."""
    return await db.read_row(_READ_CUSTOMER, {"customer_id": customer_id})


async def tax_id_taken(session: AsyncSession, tax_id: str, exclude: uuid.UUID | None = None) -> bool:
    query = select(Customer.id).where(Customer.tax_id == tax_id)
    if exclude is not None:
        query = query.where(Customer.id != exclude)
    return (await session.scalar(query.limit(1))) is not None


async def page(
    session: AsyncSession,
    *,
    limit: int,
    after: tuple[datetime, uuid.UUID] | None,
    kind: str | None = None,
    lifecycle: str | None = None,
    region: str | None = None,
    segment: str | None = None,
) -> list[Customer]:
    """Keyset page ordered by (created_at, id): stable while rows are added."""
    query = select(Customer)
    if segment:
        query = query.where(Customer.segment == segment)
    if kind:
        query = query.where(Customer.kind == kind)
    if lifecycle:
        query = query.where(Customer.lifecycle == lifecycle)
    if region:
        query = query.where(Customer.region == region)
    if (keyset := after_keyset(Customer.created_at, Customer.id, after)) is not None:
        query = query.where(keyset)
    query = query.order_by(Customer.created_at, Customer.id).limit(limit)
    return list((await session.scalars(query)).all())


async def existing_ids(session: AsyncSession, customer_ids: Iterable[uuid.UUID]) -> set[uuid.UUID]:
    """Which of ``customer_ids`` are registered."""
    wanted = set(customer_ids)
    if not wanted:
        return set()
    found = await session.scalars(select(Customer.id).where(Customer.id.in_(wanted)))
    return set(found.all())


async def customers_by_lifecycle(session: AsyncSession, lifecycle: str) -> list[Customer]:
    query = select(Customer).where(Customer.lifecycle == lifecycle).order_by(Customer.created_at, Customer.id)
    return list((await session.scalars(query)).all())


async def all_customers(
    session: AsyncSession, *, kind: str | None = None, region: str | None = None, customer_id: uuid.UUID | None = None
) -> list[Customer]:
    query = select(Customer)
    if kind:
        query = query.where(Customer.kind == kind)
    if region:
        query = query.where(Customer.region == region)
    if customer_id:
        query = query.where(Customer.id == customer_id)
    return list((await session.scalars(query.order_by(Customer.created_at, Customer.id))).all())


# --- contracts ---------------------------------------------------------------------------------


async def contract_number_taken(session: AsyncSession, number: str) -> bool:
    return (await session.scalar(select(Contract.id).where(Contract.number == number).limit(1))) is not None


async def get_contract(session: AsyncSession, contract_id: uuid.UUID) -> Contract | None:
    return await session.get(Contract, contract_id)


async def contracts_page(
    session: AsyncSession, customer_id: uuid.UUID, *, limit: int, after: tuple[datetime, uuid.UUID] | None
) -> list[Contract]:
    query = select(Contract).where(Contract.customer_id == customer_id)
    if (keyset := after_keyset(Contract.created_at, Contract.id, after)) is not None:
        query = query.where(keyset)
    return list((await session.scalars(query.order_by(Contract.created_at, Contract.id).limit(limit))).all())


# --- sales -------------------------------------------------------------------------------------


async def sale_by_invoice(session: AsyncSession, invoice_id: uuid.UUID) -> Sale | None:
    return await session.scalar(select(Sale).where(Sale.invoice_id == invoice_id))


async def taken_references(session: AsyncSession, references: Iterable[str]) -> set[str]:
    wanted = set(references)
    if not wanted:
        return set()
    return set((await session.scalars(select(Sale.reference).where(Sale.reference.in_(wanted)))).all())  # type: ignore[arg-type]


async def revenue_by_customer(
    session: AsyncSession, *, currency: str, period_from: date, period_to: date
) -> dict[uuid.UUID, Decimal]:
    """Sales amount per customer within the period (both ends inclusive), in one currency."""
    query = (
        select(Sale.customer_id, func.sum(Sale.amount))
        .where(Sale.currency == currency, Sale.sold_on >= period_from, Sale.sold_on <= period_to)
        .group_by(Sale.customer_id)
    )
    return {row[0]: Decimal(row[1]) for row in (await session.execute(query)).all()}


async def sales_in(
    session: AsyncSession, *, currency: str | None, period_to: date, customer_ids: Iterable[uuid.UUID] | None = None
) -> list[Sale]:
    """Every sale on or before ``period_to`` (optionally in one currency, for some customers)."""
    query = select(Sale).where(Sale.sold_on <= period_to)
    if currency:
        query = query.where(Sale.currency == currency)
    if customer_ids is not None:
        query = query.where(Sale.customer_id.in_(set(customer_ids)))
    return list((await session.scalars(query.order_by(Sale.sold_on, Sale.id))).all())


async def last_purchase_dates(
    session: AsyncSession, as_of: date, customer_id: uuid.UUID | None = None
) -> dict[uuid.UUID, date]:
    """The latest sale on or before ``as_of`` per customer."""
    query = select(Sale.customer_id, func.max(Sale.sold_on)).where(Sale.sold_on <= as_of)
    if customer_id is not None:
        query = query.where(Sale.customer_id == customer_id)
    query = query.group_by(Sale.customer_id)
    return {row[0]: row[1] for row in (await session.execute(query)).all()}


async def customer_sales(session: AsyncSession, customer_id: uuid.UUID, limit: int = 500) -> list[Sale]:
    query = select(Sale).where(Sale.customer_id == customer_id).order_by(Sale.sold_on.desc(), Sale.id).limit(limit)
    return list((await session.scalars(query)).all())


# --- complaints --------------------------------------------------------------------------------


async def get_complaint(
    session: AsyncSession, complaint_id: uuid.UUID, *, for_update: bool = False
) -> Complaint | None:
    if for_update:
        return await session.scalar(select(Complaint).where(Complaint.id == complaint_id).with_for_update())
    return await session.get(Complaint, complaint_id)


async def complaint_history(session: AsyncSession, complaint_id: uuid.UUID) -> list[ComplaintStep]:
    query = select(ComplaintStep).where(ComplaintStep.complaint_id == complaint_id).order_by(ComplaintStep.sequence)
    return list((await session.scalars(query)).all())


async def complaints_page(
    session: AsyncSession,
    *,
    limit: int,
    after: tuple[datetime, uuid.UUID] | None,
    customer_id: uuid.UUID | None = None,
    state: str | None = None,
) -> list[Complaint]:
    query = select(Complaint)
    if customer_id:
        query = query.where(Complaint.customer_id == customer_id)
    if state:
        query = query.where(Complaint.state == state)
    if (keyset := after_keyset(Complaint.created_at, Complaint.id, after)) is not None:
        query = query.where(keyset)
    return list((await session.scalars(query.order_by(Complaint.created_at, Complaint.id).limit(limit))).all())


async def complaints_in_states(
    session: AsyncSession, states: Iterable[str], customer_id: uuid.UUID | None = None
) -> list[Complaint]:
    query = select(Complaint).where(Complaint.state.in_(list(states)))
    if customer_id:
        query = query.where(Complaint.customer_id == customer_id)
    return list((await session.scalars(query)).all())


# --- overview ----------------------------------------------------------------------------------


async def overview_for_update(session: AsyncSession, customer_id: uuid.UUID, now: datetime) -> CustomerOverview:
    """The customer's overview row, created empty the first time another service reports on it."""
    row = await session.get(CustomerOverview, customer_id, with_for_update=True)
    if row is None:
        row = CustomerOverview(
            customer_id=customer_id,
            credit_hold=False,
            credit_hold_reasons=[],
            open_case_stages={},
            alerts=[],
            updated_at=now,
        )
        session.add(row)
        await session.flush()
    return row


async def overviews_for_update(
    session: AsyncSession, customer_ids: set[uuid.UUID], now: datetime
) -> dict[uuid.UUID, CustomerOverview]:
    """The overview rows of many customers in one locking query; missing ones created empty in one flush."""
    rows = {
        row.customer_id: row
        for row in (
            await session.execute(
                select(CustomerOverview).where(CustomerOverview.customer_id.in_(customer_ids)).with_for_update()
            )
        ).scalars()
    }
    for customer_id in customer_ids - rows.keys():
        rows[customer_id] = CustomerOverview(
            customer_id=customer_id,
            credit_hold=False,
            credit_hold_reasons=[],
            open_case_stages={},
            alerts=[],
            updated_at=now,
        )
        session.add(rows[customer_id])
    await session.flush()
    return rows


async def update_overviews(session: AsyncSession, rows: list[dict[str, Any]]) -> None:
    """Write many overview rows (their ``customer_id`` and the columns to set) in one statement."""
    await update_rows(session, cast(Table, CustomerOverview.__table__), rows, match={"customer_id": "customer_id"})


async def overview_case_stages(
    session: AsyncSession, customer_ids: set[uuid.UUID]
) -> dict[uuid.UUID, tuple[dict[str, int] | None, dict[str, str]]]:
    """The applied sequences and open case stages of many customers' overview rows, locked, in one Core query
    (no ORM objects); a customer without a row is absent."""
    table = cast(Table, CustomerOverview.__table__)
    query = (
        select(table.c.customer_id, table.c.applied_sequences, table.c.open_case_stages)
        .where(table.c.customer_id.in_(customer_ids))
        .with_for_update()
    )
    return {row[0]: (row[1], row[2]) for row in (await session.execute(query)).all()}


async def create_overviews(session: AsyncSession, rows: list[dict[str, Any]]) -> None:
    """Insert many new overview rows (``customer_id``, ``open_case_stages``, ``applied_sequences``,
    ``updated_at``) in one statement, the other columns as an empty row has them (``overview_for_update``)."""
    empty = {"credit_hold": False, "credit_hold_reasons": [], "alerts": []}
    await insert_rows(session, cast(Table, CustomerOverview.__table__), [{**empty, **row} for row in rows])


def expire_overviews(session: AsyncSession, customer_ids: Iterable[uuid.UUID]) -> None:
    """Overview rows written around the ORM: an object of one the session holds reloads on its next read."""
    for customer_id in customer_ids:
        held = session.identity_map.get(session.identity_key(CustomerOverview, customer_id))  # type: ignore[arg-type]
        if held is not None:
            session.expire(held)


async def get_overview(session: AsyncSession, customer_id: uuid.UUID) -> CustomerOverview | None:
    return await session.get(CustomerOverview, customer_id)
