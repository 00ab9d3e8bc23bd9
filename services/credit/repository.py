"""All SQL of the credit service."""

from __future__ import annotations

import functools
import json
import uuid
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any, cast

from sqlalchemy import Date, Select, Table, Text, and_, any_, bindparam, case, func, select, true
from sqlalchemy import cast as sql_cast
from sqlalchemy.dialects.postgresql import ARRAY, UUID
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.exc import StaleDataError

from services.credit.models import (
    Assessment,
    CreditCheck,
    CreditPolicyDocument,
    CreditProfile,
    InvoiceRecord,
    InvoiceStamp,
    KnownCustomer,
    LimitChange,
)
from shared.db import GUID, Database, KeyRead, after_keyset, insert_rows, update_rows

POLICY_ROW_ID = 1


async def known_customer(session: AsyncSession, customer_id: uuid.UUID) -> KnownCustomer | None:
    return await session.get(KnownCustomer, customer_id)


async def profile(session: AsyncSession, customer_id: uuid.UUID) -> CreditProfile | None:
    return await session.get(CreditProfile, customer_id)


async def load_profiles(session: AsyncSession, customer_ids: set[uuid.UUID]) -> None:
    """Load many profiles into the session in one query (later ``profile()`` calls need no SQL)."""
    await session.execute(select(CreditProfile).where(CreditProfile.customer_id.in_(customer_ids)))


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


_POLICY_STAMP = select(CreditPolicyDocument.version, CreditPolicyDocument.updated_at).where(
    CreditPolicyDocument.id == POLICY_ROW_ID
)


async def policy_stamp(session: AsyncSession) -> tuple[int, datetime] | None:
    """The stored policy's version and update time (not its document), or None before one was stored."""
    row = (await session.execute(_POLICY_STAMP)).first()
    return None if row is None else (row.version, row.updated_at)


async def invoice(session: AsyncSession, invoice_id: uuid.UUID) -> InvoiceRecord | None:
    return await session.get(InvoiceRecord, invoice_id)


async def invoices_of(session: AsyncSession, customer_id: uuid.UUID) -> list[InvoiceRecord]:
    query = select(InvoiceRecord).where(InvoiceRecord.customer_id == customer_id).order_by(InvoiceRecord.issue_date)
    return list((await session.scalars(query)).all())


def _window_sums(windows: int) -> list[Any]:
    # A bound parameter per window edge: the statement is built once per shape, only the dates change.
    return [
        func.sum(
            case(
                (
                    and_(
                        InvoiceRecord.issue_date >= bindparam(f"since_{n}", type_=Date),
                        InvoiceRecord.issue_date <= bindparam(f"until_{n}", type_=Date),
                    ),
                    InvoiceRecord.amount,
                ),
                else_=0,
            )
        ).label(f"sales_{n}")
        for n in range(windows)
    ]


_IN_WINDOWS = and_(
    InvoiceRecord.issue_date >= bindparam("earliest", type_=Date),
    InvoiceRecord.issue_date <= bindparam("latest", type_=Date),
)


@functools.lru_cache(maxsize=8)
def _sales_in_windows_query(windows: int, one_customer: bool) -> Select[Any]:
    # Built once per shape: building the SUM(CASE) expressions (13 of them by default) cost milliseconds.
    query = (
        select(InvoiceRecord.customer_id, *_window_sums(windows)).where(_IN_WINDOWS).group_by(InvoiceRecord.customer_id)
    )
    if one_customer:
        query = query.where(InvoiceRecord.customer_id == bindparam("customer_id", type_=GUID()))
    return query


def _window_params(windows: list[tuple[date, date]]) -> dict[str, Any]:
    params: dict[str, Any] = {
        "earliest": min(since for since, _ in windows),
        "latest": max(until for _, until in windows),
    }
    for n, (since, until) in enumerate(windows):
        params[f"since_{n}"], params[f"until_{n}"] = since, until
    return params


async def credit_sales_in_windows(
    session: AsyncSession, windows: list[tuple[date, date]], customer_id: uuid.UUID | None = None
) -> dict[uuid.UUID, list[Decimal]]:
    """Invoiced amounts per customer in each [since, until] window, in ONE query (a SUM(CASE) per window)."""
    params = _window_params(windows)
    if customer_id is not None:
        params["customer_id"] = customer_id
    query = _sales_in_windows_query(len(windows), customer_id is not None)
    rows = (await session.execute(query, params)).all()
    return {row[0]: [Decimal(value or 0) for value in row[1:]] for row in rows}


@dataclass(frozen=True)
class InvoiceTotals:
    """Sums over the invoices credit knows of one customer."""

    billed: Decimal
    outstanding: Decimal
    written_off_outstanding: Decimal


@functools.cache
def _invoice_totals_query() -> Select[Any]:
    written_off = case((InvoiceRecord.status == "written_off", InvoiceRecord.outstanding), else_=0)
    return select(
        func.coalesce(func.sum(InvoiceRecord.amount), 0).label("billed"),
        func.coalesce(func.sum(InvoiceRecord.outstanding), 0).label("outstanding"),
        func.coalesce(func.sum(written_off), 0).label("written_off_outstanding"),
    ).where(InvoiceRecord.customer_id == bindparam("customer_id", type_=GUID()))


async def invoice_totals(session: AsyncSession, customer_id: uuid.UUID) -> InvoiceTotals:
    """Billed, outstanding and written-off outstanding of a customer's invoices, summed by the database."""
    result = await session.execute(_invoice_totals_query(), {"customer_id": customer_id})
    billed, outstanding, written_off_outstanding = result.one()
    return InvoiceTotals(Decimal(billed), Decimal(outstanding), Decimal(written_off_outstanding))


PROFILE_VIEW_COLUMNS = (
    "customer_id",
    "grade",
    "score",
    "credit_limit",
    "limit_method",
    "recommended_limit",
    "currency",
    "open_receivables",
    "open_orders",
    "receivables_by_currency",
    "overdue_amount",
    "oldest_overdue_days",
    "collection_stage",
    "on_hold",
    "hold_reasons",
    "latest_assessment_id",
)
"""The profile's columns its view is computed from (the others, e.g. the applied sequences, it never reads)."""

PROFILE_JSON_COLUMNS = ("receivables_by_currency", "hold_reasons")
"""Of those, the JSON ones: read as text by ``profile_stamp`` and ``read_profile`` (see ``profile_json_of``)."""


def profile_json_of(row: Any) -> Any:
    """``row`` (of ``profile_stamp`` or ``read_profile``) with its JSON columns parsed, as the ORM reads them."""
    return row._replace(
        **{name: None if (text := getattr(row, name)) is None else json.loads(text) for name in PROFILE_JSON_COLUMNS}
    )


@functools.cache
def _profile_stamp_columns() -> tuple[list[Any], Any]:
    """The columns of ``profile_stamp`` and the FROM they are read from (``customer_id`` the key)."""
    customer = KnownCustomer.__table__
    profile = CreditProfile.__table__
    stamps = InvoiceStamp.__table__
    policy = CreditPolicyDocument.__table__
    columns = [
        customer.c.name.label("customer_name"),
        *(
            # JSON as its stored text: compared as text on every GET, parsed only to render (profile_json_of)
            sql_cast(profile.c[name], Text).label(name) if name in PROFILE_JSON_COLUMNS else profile.c[name]
            for name in PROFILE_VIEW_COLUMNS
        ),
        policy.c.version.label("policy_version"),
        policy.c.updated_at.label("policy_updated_at"),
        stamps.c.stamp.label("invoices_stamp"),
    ]
    joined = (
        customer.outerjoin(profile, profile.c.customer_id == customer.c.id)
        .outerjoin(stamps, stamps.c.customer_id == customer.c.id)
        .outerjoin(policy, policy.c.id == POLICY_ROW_ID)  # one lookup for both columns (null before a policy)
    )
    return columns, joined


_CUSTOMER_ID = bindparam("customer_id", type_=GUID())


@functools.cache
def _profile_stamp_read() -> KeyRead:
    columns, joined = _profile_stamp_columns()
    return KeyRead(select(*columns).select_from(joined).where(KnownCustomer.__table__.c.id == _CUSTOMER_ID))


PROFILE_STAMP_WIDTH = len(_profile_stamp_columns()[0])
"""How many leading columns of ``read_profile``'s row are ``profile_stamp``'s."""


async def profile_stamp(db: Database, customer_id: uuid.UUID) -> Any | None:
    """What a profile's view depends on besides the day, without summing the invoices: the known customer's
    name, its profile's viewed columns (all null without a profile), the stored policy's stamp and the
    customer's invoice stamp (``InvoiceStamp``, None before any write); None when credit does not know the
    customer. Equal to the first ``PROFILE_STAMP_WIDTH`` columns of ``read_profile``'s row."""
    return await db.read_row(_profile_stamp_read(), {"customer_id": customer_id})


@functools.lru_cache(maxsize=8)
def _profile_read(windows: int) -> KeyRead:
    """What a profile GET reads, in ONE statement: the columns of ``profile_stamp``, then the invoice totals
    and the credit sales in each window (``sales_<n>``), all as of one snapshot."""
    columns, joined = _profile_stamp_columns()
    totals = _invoice_totals_query().subquery()
    sales = select(*_window_sums(windows)).where(_IN_WINDOWS, InvoiceRecord.customer_id == _CUSTOMER_ID).subquery()
    return KeyRead(
        select(*columns, *totals.c, *sales.c)
        .select_from(joined.join(totals, true()).join(sales, true()))
        .where(KnownCustomer.__table__.c.id == _CUSTOMER_ID)
    )


async def read_profile(db: Database, customer_id: uuid.UUID, windows: list[tuple[date, date]]) -> Any | None:
    """The row of ``_profile_read`` for ``customer_id`` with the sales ``windows`` ([since, until]), or None
    when credit does not know the customer."""
    return await db.read_row(_profile_read(len(windows)), {"customer_id": customer_id, **_window_params(windows)})


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


async def profile_rows_for_update(session: AsyncSession, customer_ids: list[uuid.UUID]) -> list[dict[str, Any]]:
    """Many profiles' rows in one query, locked (PostgreSQL), as plain values: the caller writes them in bulk
    (``update_profiles``), so the session first forgets the ones it holds (it would serve them stale)."""
    await session.flush()
    wanted = set(customer_ids)
    for instance in [o for o in session.identity_map.values() if isinstance(o, CreditProfile)]:
        if instance.customer_id in wanted:
            session.expunge(instance)
    table = cast(Table, CreditProfile.__table__)
    if session.get_bind().dialect.name == "postgresql":
        # One array parameter: the same statement for any number of ids, prepared once per connection (an
        # IN list is a new statement of a thousand parameters, prepared and planned again, every fetch).
        ids = bindparam("customer_ids", customer_ids, type_=ARRAY(UUID(as_uuid=True)))
        query = select(table).where(table.c.customer_id == any_(ids)).with_for_update()
    else:
        query = select(table).where(table.c.customer_id.in_(customer_ids)).with_for_update()
    return [dict(row) for row in (await session.execute(query)).mappings()]


async def insert_profiles(session: AsyncSession, rows: list[dict[str, Any]]) -> None:
    await insert_rows(session, cast(Table, CreditProfile.__table__), rows)


async def update_profiles(session: AsyncSession, rows: list[dict[str, Any]]) -> None:
    """Write changed profiles in one statement; each only if still at ``read_version`` (else StaleDataError)."""
    matched = await update_rows(
        session,
        cast(Table, CreditProfile.__table__),
        rows,
        match={"customer_id": "customer_id", "version": "read_version"},
    )
    if matched != len(rows):
        raise StaleDataError(f"{len(rows) - matched} of {len(rows)} credit profiles changed meanwhile")


async def insert_limit_changes(session: AsyncSession, rows: list[dict[str, Any]]) -> None:
    await insert_rows(session, cast(Table, LimitChange.__table__), rows)
