"""All SQL of the collections service's use cases: load and list invoices, cases, agencies; write case history.

The sweep (``sweep/``) keeps its own set-based SQL; everything else that reads or writes rows goes through here.
"""

from __future__ import annotations

import json
import unicodedata
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any, cast

from sqlalchemy import Date, Row, Table, bindparam, func, select, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from services.collections.domain.billing import BilledInvoice
from services.collections.domain.escalation import CaseFacts
from services.collections.domain.limitation import LimitationBasis, LimitationStart, interrupt
from services.collections.domain.stages import CaseStatus, ClauseKind, DisputeResolution, Segment
from services.collections.models import (
    Agency,
    BillingRecordWaiting,
    Case,
    CaseAction,
    CaseHistory,
    CustomerProfile,
    Invoice,
    KnownCustomer,
)
from shared.db import after_keyset, after_sorted_keyset, insert_columns
from shared.errors import NotFound
from shared.stage import Stage

_READ_INVOICE = select(Invoice.__table__).where(Invoice.__table__.c.id == bindparam("invoice_id"))


async def read_invoice(connection: AsyncConnection, invoice_id: uuid.UUID) -> Row[Any]:
    """The invoice's columns as a Core row (a read tracks no ORM object), or 404."""
    invoice = (await connection.execute(_READ_INVOICE, {"invoice_id": invoice_id})).first()
    if invoice is None:
        raise NotFound(f"no invoice {invoice_id}")
    return invoice


async def get_invoice(session: AsyncSession, invoice_id: uuid.UUID, *, lock: bool = False) -> Invoice:
    invoice = await session.get(Invoice, invoice_id, with_for_update=lock)
    if invoice is None:
        raise NotFound(f"no invoice {invoice_id}")
    return invoice


async def list_invoices(
    session: AsyncSession,
    *,
    limit: int,
    after: tuple[datetime, uuid.UUID] | None,
    customer_id: uuid.UUID | None,
    status: str | None,
) -> list[Invoice]:
    query = select(Invoice)
    if customer_id:
        query = query.where(Invoice.customer_id == customer_id)
    if status:
        query = query.where(Invoice.status == status)
    if (keyset := after_keyset(Invoice.created_at, Invoice.id, after)) is not None:
        query = query.where(keyset)
    return list((await session.scalars(query.order_by(Invoice.created_at, Invoice.id).limit(limit))).all())


_SET_CHUNK = 5000
"""Rows per set query: far below both databases' bound-parameter limits (SQLite 32,766)."""


async def known_customer_ids(session: AsyncSession, customer_ids: set[uuid.UUID]) -> set[uuid.UUID]:
    """Which of ``customer_ids`` the registry has announced: one query per 5,000 ids."""
    ids = list(customer_ids)
    found: set[uuid.UUID] = set()
    for start in range(0, len(ids), _SET_CHUNK):
        chunk = ids[start : start + _SET_CHUNK]
        found.update((await session.scalars(select(KnownCustomer.id).where(KnownCustomer.id.in_(chunk)))).all())
    return found


async def contract_terms(session: AsyncSession, customer_ids: set[uuid.UUID]) -> dict[uuid.UUID, str]:
    """The credit terms of the customers' contracts, where a contract gave any."""
    ids = list(customer_ids)
    terms: dict[uuid.UUID, str] = {}
    for start in range(0, len(ids), _SET_CHUNK):
        query = select(CustomerProfile.customer_id, CustomerProfile.credit_terms).where(
            CustomerProfile.customer_id.in_(ids[start : start + _SET_CHUNK]), CustomerProfile.credit_terms.is_not(None)
        )
        terms.update({row.customer_id: row.credit_terms for row in (await session.execute(query)).all()})
    return terms


async def contract_penalty_rates(session: AsyncSession, customer_ids: set[uuid.UUID]) -> dict[uuid.UUID, Decimal]:
    """The penalty interest rates the customers' contracts agree, where one does."""
    ids = list(customer_ids)
    rates: dict[uuid.UUID, Decimal] = {}
    for start in range(0, len(ids), _SET_CHUNK):
        query = select(CustomerProfile.customer_id, CustomerProfile.penalty_interest_annual_rate).where(
            CustomerProfile.customer_id.in_(ids[start : start + _SET_CHUNK]),
            CustomerProfile.penalty_interest_annual_rate.is_not(None),
        )
        rates.update({row[0]: row[1] for row in (await session.execute(query)).all()})
    return rates


async def taken_numbers(session: AsyncSession, keys: list[tuple[uuid.UUID, str]]) -> list[tuple[uuid.UUID, str]]:
    """Which invoices are already recorded for (customer, number key) pairs — returned as (customer, number as
    recorded) — by ONE join against the batch passed as two arrays (PostgreSQL ``unnest``) or one JSON
    array (SQLite ``json_each``): a single bound parameter or two, whatever the batch size.

    Never one OR term per pair (SQLite refuses an expression tree deeper than 1,000), nor a VALUES list
    (SQLAlchemy compiles 20,000 bound parameters for 10,000 pairs: most of a second).
    """
    if not keys:
        return []
    if session.get_bind().dialect.name == "postgresql":
        query = text(
            "SELECT i.customer_id, i.number FROM invoices AS i"
            " JOIN unnest(CAST(:customers AS uuid[]), CAST(:number_keys AS text[])) AS batch(customer_id, number_key)"
            " ON i.customer_id = batch.customer_id AND i.number_key = batch.number_key"
        )
        params: dict[str, Any] = {
            "customers": [customer for customer, _ in keys],
            "number_keys": [key for _, key in keys],
        }
    else:
        query = text(
            "SELECT i.customer_id, i.number FROM json_each(:batch) AS batch"
            " JOIN invoices AS i ON i.customer_id = json_extract(batch.value, '$[0]')"
            " AND i.number_key = json_extract(batch.value, '$[1]')"
        )
        params = {"batch": json.dumps([[str(customer), key] for customer, key in keys])}
    rows = (await session.execute(query, params)).all()
    return [(row[0] if isinstance(row[0], uuid.UUID) else uuid.UUID(str(row[0])), row[1]) for row in rows]


async def insert_invoices(session: AsyncSession, columns: dict[str, list[Any]]) -> None:
    """Many invoices, given column by column, in few statements (unnest / executemany), below the ORM."""
    await insert_columns(session, cast(Table, Invoice.__table__), columns)


def _customers_batch(session: AsyncSession, customer_ids: set[uuid.UUID]) -> tuple[str, dict[str, Any]]:
    """A FROM item ``batch(id)`` of ``customer_ids`` in one bound parameter: unnest (PostgreSQL), json_each."""
    if session.get_bind().dialect.name == "postgresql":
        return "unnest(CAST(:customers AS uuid[])) AS batch(id)", {"customers": list(customer_ids)}
    return "(SELECT value AS id FROM json_each(:customers)) AS batch", {
        "customers": json.dumps([str(customer) for customer in customer_ids])
    }


@dataclass(frozen=True, slots=True)
class ReceivablesTotals:
    """A customer's open invoices in one currency: what is open, what of it is overdue, the oldest overdue due date."""

    currency: str
    open: Decimal
    overdue: Decimal
    oldest_overdue: date | None


async def receivables_totals(
    session: AsyncSession, customer_ids: set[uuid.UUID], as_of: date
) -> dict[uuid.UUID, list[ReceivablesTotals]]:
    """The customers' receivables per currency, from their (currency, due date) buckets (``ReceivablesByDue``,
    kept by triggers): a few rows per customer, never all of its invoices. Currencies with nothing open
    are left out."""
    if not customer_ids:
        return {}
    batch, params = _customers_batch(session, customer_ids)
    query = text(
        "SELECT r.customer_id, r.currency, sum(r.open_amount) AS open,"
        " sum(CASE WHEN r.due_date < :as_of THEN r.open_amount ELSE 0 END) AS overdue,"
        " min(CASE WHEN r.due_date < :as_of AND r.open_count > 0 THEN r.due_date END) AS oldest"
        f" FROM {batch} JOIN receivables_by_due AS r ON r.customer_id = batch.id"
        " GROUP BY r.customer_id, r.currency HAVING sum(r.open_count) > 0"
        " ORDER BY r.customer_id, r.currency"
    ).bindparams(bindparam("as_of", type_=Date()))
    totals: dict[uuid.UUID, list[ReceivablesTotals]] = {}
    for customer, currency, opened, overdue, oldest in (await session.execute(query, {**params, "as_of": as_of})).all():
        totals.setdefault(customer if isinstance(customer, uuid.UUID) else uuid.UUID(customer), []).append(
            ReceivablesTotals(
                currency,
                Decimal(opened),
                Decimal(overdue),
                oldest if isinstance(oldest, date) or oldest is None else date.fromisoformat(str(oldest)[:10]),
            )
        )
    return totals


async def open_case_stages(session: AsyncSession, customer_ids: set[uuid.UUID]) -> dict[uuid.UUID, list[str]]:
    """The stages the customers' open (or held) cases are at, by name, joined against the batch."""
    if not customer_ids:
        return {}
    batch, params = _customers_batch(session, customer_ids)
    query = text(
        f"SELECT DISTINCT c.customer_id, c.stage FROM {batch} JOIN cases AS c ON c.customer_id = batch.id"
        " WHERE c.status IN ('open', 'on_hold') AND c.stage IS NOT NULL"
    )
    stages: dict[uuid.UUID, list[str]] = {}
    for customer, stage in (await session.execute(query, params)).all():
        stages.setdefault(customer if isinstance(customer, uuid.UUID) else uuid.UUID(customer), []).append(stage)
    return stages


async def recorded_invoices(
    session: AsyncSession, keys: list[tuple[uuid.UUID, str]]
) -> dict[tuple[uuid.UUID, str], BilledInvoice]:
    """What the invoices recorded under (customer, number key) pairs state.

    Two expanding IN lists (customers, keys) then the pairs kept in Python: a VALUES list of 500 pairs took
    half a second to compile, and one OR term per pair is what SQLite refuses past 1,000.
    """
    recorded: dict[tuple[uuid.UUID, str], BilledInvoice] = {}
    for start in range(0, len(keys), _SET_CHUNK):
        wanted = set(keys[start : start + _SET_CHUNK])
        query = select(
            Invoice.customer_id,
            Invoice.number_key,
            Invoice.issue_date,
            Invoice.due_date,
            Invoice.currency,
            Invoice.amount,
            Invoice.credit_terms,
        ).where(
            Invoice.customer_id.in_({customer for customer, _ in wanted}),
            Invoice.number_key.in_({key for _, key in wanted}),
        )
        for row in (await session.execute(query)).all():
            if (row.customer_id, row.number_key) in wanted:
                recorded[(row.customer_id, row.number_key)] = BilledInvoice(
                    issue_date=row.issue_date,
                    currency=row.currency,
                    amount=Decimal(row.amount),
                    due_date=row.due_date,
                    credit_terms=row.credit_terms,
                )
    return recorded


def case_facts(case: Case) -> CaseFacts:
    return CaseFacts(
        due_date=case.due_date,
        outstanding=Decimal(case.outstanding),
        current_stage=Stage(case.stage) if case.stage else None,
        status=CaseStatus(case.status),
        disputed_amount=Decimal(case.disputed_amount),
        segment=Segment(case.segment),
        dispute_resolution=DisputeResolution(ClauseKind(case.clause_kind), case.commission),
        promise_to_pay=case.promise_to_pay,
        manual_hold=case.status == CaseStatus.ON_HOLD,
        malicious=case.malicious,
        case_id=case.id,
        limitation=limitation_of(case),
    )


def limitation_of(case: Case) -> LimitationStart:
    """Where the case's limitation period runs from: its last interruption, else its due date."""
    if case.limitation_from is None:
        return LimitationStart.from_due_date(case.due_date)
    return LimitationStart(case.limitation_from, LimitationBasis(case.limitation_basis))


def interrupt_limitation(case: Case, on: date, basis: LimitationBasis, years: int) -> None:
    """Record an interruption of the limitation period (PRC Civil Code art. 195) when it restarts it."""
    current = limitation_of(case)
    after = interrupt(current, on, basis, years)
    if after != current:
        case.limitation_from, case.limitation_basis = after.running_from, after.basis.value


async def get_case(session: AsyncSession, case_id: uuid.UUID, *, lock: bool = False) -> Case:
    row = await session.get(Case, case_id, with_for_update=lock)
    if row is None:
        raise NotFound(f"no case {case_id}")
    return row


async def case_history(session: AsyncSession, case_id: uuid.UUID) -> list[CaseHistory]:
    return list(
        (
            await session.scalars(select(CaseHistory).where(CaseHistory.case_id == case_id).order_by(CaseHistory.id))
        ).all()
    )


async def case_actions(session: AsyncSession, case_id: uuid.UUID) -> list[CaseAction]:
    return list(
        (
            await session.scalars(
                select(CaseAction).where(CaseAction.case_id == case_id).order_by(CaseAction.created_at, CaseAction.id)
            )
        ).all()
    )


class CaseSort(StrEnum):
    """Orders of the case list; each pages by keyset on (its column, id)."""

    OPENED_AT = "opened_at"
    DAYS_OVERDUE = "days_overdue"
    AMOUNT = "amount"


@dataclass(frozen=True)
class CaseOrder:
    """A sort of the case list as SQL: the column, its direction, and how a cursor value reads back."""

    column: Any
    descending: bool
    parse: Callable[[Any], Any]

    @staticmethod
    def of(sort: CaseSort, descending: bool) -> CaseOrder:
        if sort is CaseSort.DAYS_OVERDUE:  # more days overdue is an earlier due date
            return CaseOrder(Case.due_date, not descending, date.fromisoformat)
        if sort is CaseSort.AMOUNT:
            return CaseOrder(Case.outstanding, descending, Decimal)
        return CaseOrder(Case.opened_at, descending, datetime.fromisoformat)

    def value_of(self, case: Case) -> Any:
        value = getattr(case, self.column.key)
        return str(value) if isinstance(value, Decimal) else value.isoformat()


def normalised_name(text: str) -> str:
    """A name as searched: NFKC (full-width letters to ASCII), case folded, spaces collapsed."""
    return " ".join(unicodedata.normalize("NFKC", text).casefold().split())


async def list_cases(
    session: AsyncSession,
    *,
    limit: int,
    after: tuple[Any, uuid.UUID] | None,
    order: CaseOrder | None = None,
    stage: str | None = None,
    status: str | None = None,
    customer_id: uuid.UUID | None = None,
    segment: str | None = None,
    due_on_or_before: date | None = None,
    name_contains: str | None = None,
) -> list[tuple[Case, str | None]]:
    """One page of cases with their customer's name (one statement, an outer join on the directory).

    Without ``order`` the page is in opening order, paged by (created_at, id).
    """
    query = select(Case, KnownCustomer.name).outerjoin(KnownCustomer, KnownCustomer.id == Case.customer_id)
    if stage:
        query = query.where(Case.stage == stage)
    if status:
        query = query.where(Case.status == status)
    if customer_id:
        query = query.where(Case.customer_id == customer_id)
    if segment:
        query = query.where(Case.segment == segment)
    if due_on_or_before is not None:
        query = query.where(Case.due_date <= due_on_or_before)
    if name_contains:
        # lower() folds ASCII on SQLite and all of Unicode on PostgreSQL; the needle is normalised here.
        query = query.where(func.lower(KnownCustomer.name).contains(normalised_name(name_contains), autoescape=True))
    if order is None:
        keyset = after_keyset(Case.created_at, Case.id, after)
        ordering = [Case.created_at, Case.id]
    else:
        keyset = after_sorted_keyset(order.column, Case.id, after, descending=order.descending)
        ordering = [order.column.desc(), Case.id.desc()] if order.descending else [order.column.asc(), Case.id.asc()]
    if keyset is not None:
        query = query.where(keyset)
    rows = (await session.execute(query.order_by(*ordering).limit(limit))).all()
    return [(row[0], row[1]) for row in rows]


def add_history(
    session: AsyncSession,
    case: Case,
    event: str,
    reason: str,
    actor: str,
    now: datetime,
    *,
    from_stage: str | None = None,
    to_stage: str | None = None,
    rule: str | None = None,
    policy_version: int | None = None,
    as_of: date | None = None,
) -> None:
    session.add(
        CaseHistory(
            **history_values(
                case,
                event,
                reason,
                actor,
                now,
                from_stage=from_stage,
                to_stage=to_stage,
                rule=rule,
                policy_version=policy_version,
                as_of=as_of,
            )
        )
    )


def history_values(
    case: Case,
    event: str,
    reason: str,
    actor: str,
    now: datetime,
    *,
    from_stage: str | None = None,
    to_stage: str | None = None,
    rule: str | None = None,
    policy_version: int | None = None,
    as_of: date | None = None,
) -> dict[str, Any]:
    """A history row's values (``add_history`` adds it to the session; a run of stage events inserts many)."""
    return {
        "case_id": case.id,
        "as_of": as_of or now.date(),
        "event": event,
        "from_stage": from_stage,
        "to_stage": to_stage,
        "at": now,
        "rule": rule,
        "reason": reason,
        "policy_version": policy_version,
        "actor": actor,
    }


async def close_case(
    session: AsyncSession, case: Case, status: CaseStatus, resolution: str, reason: str, actor: str, now: datetime
) -> None:
    case.status, case.resolution, case.closed_at = status.value, resolution, now
    case.updated_at = now
    add_history(session, case, str(status), reason, actor, now, from_stage=case.stage, to_stage=case.stage)
    await session.flush()


async def case_for_invoice(session: AsyncSession, invoice_id: uuid.UUID) -> Case | None:
    """The collection case of an invoice, if one was opened."""
    return await session.scalar(select(Case).where(Case.invoice_id == invoice_id))


async def list_agencies(session: AsyncSession) -> list[Agency]:
    """Every registered collection agency, by name."""
    return list((await session.scalars(select(Agency).order_by(Agency.name))).all())


async def get_letter(session: AsyncSession, case_id: uuid.UUID, letter_id: uuid.UUID) -> CaseAction:
    """The letter action ``letter_id`` of case ``case_id``, or NotFound."""
    action = await session.get(CaseAction, letter_id)
    if action is None or action.case_id != case_id or action.kind != "letter":
        raise NotFound(f"no letter {letter_id} on case {case_id}")
    return action


async def park_billing_records(session: AsyncSession, rows: list[dict[str, Any]]) -> None:
    """Park published invoices until their customer registers; a record already parked stays as it is."""
    module: Any = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    table: Any = BillingRecordWaiting.__table__
    await session.execute(module.insert(table).on_conflict_do_nothing(index_elements=["record_id"]), rows)


async def waiting_billing_records(session: AsyncSession, customer_ids: set[uuid.UUID]) -> list[tuple[str, str]]:
    """(record id, invoice JSON) of the invoices waiting for these customers, in the order they were published."""
    ids = list(customer_ids)
    found: list[tuple[int, str, str]] = []
    for start in range(0, len(ids), _SET_CHUNK):
        query = (
            select(BillingRecordWaiting.seq, BillingRecordWaiting.record_id, BillingRecordWaiting.invoice)
            .where(
                BillingRecordWaiting.customer_id.in_(ids[start : start + _SET_CHUNK]),
                BillingRecordWaiting.status == "waiting",
            )
            .with_for_update()
        )
        found += [(row[0], row[1], row[2]) for row in (await session.execute(query)).all()]
    return [(record_id, invoice) for _, record_id, invoice in sorted(found)]


async def settle_billing_records(
    session: AsyncSession, record_ids: list[str], refusals: dict[str, str], now: datetime
) -> None:
    """The waiting records released: the recorded ones go, the refused ones stay with their reason."""
    table = cast(Table, BillingRecordWaiting.__table__)
    recorded = [record_id for record_id in record_ids if record_id not in refusals]
    for start in range(0, len(recorded), _SET_CHUNK):
        await session.execute(table.delete().where(table.c.record_id.in_(recorded[start : start + _SET_CHUNK])))
    for record_id, reason in refusals.items():
        await session.execute(
            table.update().where(table.c.record_id == record_id).values(status="refused", reason=reason, updated_at=now)
        )


async def billing_records_waiting_by_status(session: AsyncSession) -> dict[str, int]:
    table = BillingRecordWaiting.__table__
    rows = await session.execute(select(table.c.status, func.count()).group_by(table.c.status))
    return {status: int(count) for status, count in rows.all()}
