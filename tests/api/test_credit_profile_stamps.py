"""A credit profile GET reads the customer's invoice stamp, not its invoice sums, while its kept answer stands.

The stamp (``invoice_stamps``, bumped by triggers) must change with every write of the customer's invoice
records, by any writer, and only with those; a GET after each write must answer what a service that never
answered before answers (status, headers, bytes); and the stamp read must be exactly the leading columns of
the full read (what a kept answer is filed under).
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest
from sqlalchemy import delete, insert, update
from sqlalchemy.ext.asyncio import AsyncSession

from bench.get_bench import seed
from services.credit import repository
from services.credit.app import SPEC
from services.credit.models import CreditProfile, InvoiceRecord, KnownCustomer
from services.credit.service import profiles
from services.credit.service.dso import sales_windows
from services.credit.settings import CreditSettings
from shared.app import create_service_app
from shared.auth import mint_token
from shared.clock import FixedClock
from shared.db import Database
from tests.support.databases import DatabaseFactory

CLOCK = FixedClock(datetime(2026, 3, 1, 9, 0, tzinfo=UTC))
INVOICES = InvoiceRecord.__table__
FIRST, SECOND = uuid.UUID(int=0xA1), uuid.UUID(int=0xB2)


@asynccontextmanager
async def _app(url: str) -> AsyncIterator[tuple[httpx.AsyncClient, Any]]:
    settings = CreditSettings(
        database_url=url,
        relay_enabled=False,
        consumer_enabled=False,
        kafka_create_topics=False,
        kafka_bootstrap_servers="127.0.0.1:9",
        http_rate_limit="",
        log_json=False,
    )
    app = create_service_app(SPEC, settings, CLOCK, configure_logs=False)
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://credit.test") as client:
            yield client, app.state.runtime


def _invoice(invoice_id: uuid.UUID, customer_id: uuid.UUID, issued: date, amount: str) -> dict[str, Any]:
    return {
        "invoice_id": invoice_id,
        "customer_id": customer_id,
        "number": f"INV-{invoice_id.int}",
        "issue_date": issued,
        "due_date": issued + timedelta(days=30),
        "currency": "CNY",
        "amount": Decimal(amount),
        "outstanding": Decimal(amount),
        "paid_amount": Decimal("0.00"),
        "status": "open",
        "created_at": CLOCK.now(),
        "updated_at": CLOCK.now(),
    }


Write = Callable[[AsyncSession, uuid.UUID, uuid.UUID], Any]


async def _core_insert(session: AsyncSession, customer: uuid.UUID, _other: uuid.UUID) -> None:
    await session.execute(insert(INVOICES).values(_invoice(FIRST, customer, date(2026, 2, 20), "1000.10")))


async def _orm_add(session: AsyncSession, customer: uuid.UUID, _other: uuid.UUID) -> None:
    session.add(InvoiceRecord(**_invoice(SECOND, customer, date(2025, 12, 5), "250.00")))
    await session.flush()


async def _pay(session: AsyncSession, _customer: uuid.UUID, _other: uuid.UUID) -> None:
    invoice = await session.get(InvoiceRecord, FIRST)
    assert invoice is not None
    invoice.outstanding, invoice.paid_amount, invoice.status = Decimal("400.10"), Decimal("600.00"), "partly_paid"
    await session.flush()


async def _write_off(session: AsyncSession, _customer: uuid.UUID, _other: uuid.UUID) -> None:
    await session.execute(update(INVOICES).where(INVOICES.c.invoice_id == SECOND).values(status="written_off"))


async def _bulk_update(session: AsyncSession, customer: uuid.UUID, _other: uuid.UUID) -> None:
    await session.execute(update(INVOICES).where(INVOICES.c.customer_id == customer).values(amount=Decimal("99.99")))


async def _move_to_other(session: AsyncSession, _customer: uuid.UUID, other: uuid.UUID) -> None:
    await session.execute(update(INVOICES).where(INVOICES.c.invoice_id == FIRST).values(customer_id=other))


async def _move_back(session: AsyncSession, customer: uuid.UUID, _other: uuid.UUID) -> None:
    await session.execute(update(INVOICES).where(INVOICES.c.invoice_id == FIRST).values(customer_id=customer))


async def _delete(session: AsyncSession, _customer: uuid.UUID, _other: uuid.UUID) -> None:
    await session.execute(delete(INVOICES).where(INVOICES.c.invoice_id == SECOND))


# (what is written, whose stamp moves: the customer read, the other customer)
WRITES: list[tuple[Write, bool, bool]] = [
    (_core_insert, True, False),
    (_orm_add, True, False),
    (_pay, True, False),
    (_write_off, True, False),
    (_bulk_update, True, False),
    (_move_to_other, True, True),
    (_move_back, True, True),
    (_delete, True, False),
]


async def _customers(client: httpx.AsyncClient, url: str) -> tuple[str, uuid.UUID, uuid.UUID]:
    """The bench's profile (a customer with a grade B profile) and another known customer without one."""
    path, _admin = await seed("credit", url, client)
    other = uuid.uuid4()
    db = Database(url)
    try:
        async with db.transaction() as session:
            session.add(
                KnownCustomer(
                    id=other,
                    name="Other",
                    kind="commercial",
                    lifecycle="active",
                    segment="general",
                    registered_at=CLOCK.now(),
                    updated_at=CLOCK.now(),
                )
            )
    finally:
        await db.dispose()
    return path, uuid.UUID(path.rpartition("/")[2]), other


async def _stamp(db: Database, customer_id: uuid.UUID) -> Any:
    row = await repository.profile_stamp(db, customer_id)
    assert row is not None
    return row.invoices_stamp


async def test_every_write_of_invoice_records_bumps_its_customers_stamps(databases: DatabaseFactory) -> None:
    url = await databases.create("credit")
    async with _app(url) as (client, runtime):
        _path, customer, other = await _customers(client, url)
        assert await _stamp(runtime.db, customer) is None  # no invoice written yet
        for write, moves_customer, moves_other in WRITES:
            before = (await _stamp(runtime.db, customer), await _stamp(runtime.db, other))
            async with runtime.db.transaction() as session:
                await write(session, customer, other)
            after = (await _stamp(runtime.db, customer), await _stamp(runtime.db, other))
            assert (after[0] != before[0], after[1] != before[1]) == (moves_customer, moves_other), write.__name__
        before = await _stamp(runtime.db, customer)
        with pytest.raises(RuntimeError):
            async with runtime.db.transaction() as session:
                invoice = _invoice(uuid.uuid4(), customer, date(2026, 2, 21), "5.00")
                await session.execute(insert(INVOICES).values(invoice))
                raise RuntimeError("rolled back")
        assert await _stamp(runtime.db, customer) == before  # a write rolled back moves nothing


async def test_a_kept_profile_answer_follows_every_invoice_and_policy_write(databases: DatabaseFactory) -> None:
    """After each write of the invoices or the policy, the service that kept its answers answers what a service
    that never answered does."""
    url = await databases.create("credit")
    token = mint_token(CreditSettings(), ["credit:read"], subject="tester", now=datetime.now(UTC))
    headers = {"Authorization": f"Bearer {token}", "X-Request-Id": "stamps"}
    async with _app(url) as (client, runtime):
        path, customer, other = await _customers(client, url)
        previous = await client.get(path, headers=headers)
        assert previous.status_code == 200
        for write, _moves_customer, _moves_other in WRITES:
            async with runtime.db.transaction() as session:
                await write(session, customer, other)
            kept = await client.get(path, headers=headers)
            async with _app(url) as (fresh_client, _runtime):
                fresh = await fresh_client.get(path, headers=headers)
            assert (kept.status_code, kept.headers.multi_items(), kept.content) == (
                fresh.status_code,
                fresh.headers.multi_items(),
                fresh.content,
            ), write.__name__
            assert kept.content != previous.content, write.__name__  # every step changes a figure shown
            previous = kept
        async with runtime.db.transaction() as session:  # the JSON columns (read as text) change
            await session.execute(
                update(CreditProfile.__table__)
                .where(CreditProfile.__table__.c.customer_id == customer)
                .values(
                    receivables_by_currency={"CNY": "20000.00", "USD": "15.50"}, hold_reasons=["overdue_outstanding"]
                )
            )
        kept = await client.get(path, headers=headers)
        async with _app(url) as (fresh_client, _runtime):
            fresh = await fresh_client.get(path, headers=headers)
        assert (kept.headers.multi_items(), kept.content) == (fresh.headers.multi_items(), fresh.content)
        assert kept.json()["other_currency_exposure"] == ["USD"] and kept.json()["hold_reasons"] == [
            "overdue_outstanding"
        ]
        for step in range(2):  # the policy stored (its first version), then replaced: its stamp moves
            admin = {"Authorization": f"Bearer {mint_token(CreditSettings(), ['admin'], now=datetime.now(UTC))}"}
            policy = await client.get("/v1/policy", headers=admin)
            document = policy.json()
            body = {key: document[key] for key in ("grades", "ungraded_stop_supply_stage", "thresholds", "weights")}
            body["grades"]["B"]["sales_policy"] = ("cash_or_prepayment", "reduced_limit")[step]
            put = await client.put("/v1/policy", json=body, headers={**admin, "If-Match": policy.headers["etag"]})
            assert put.status_code == 200, put.text
            kept = await client.get(path, headers=headers)
            async with _app(url) as (fresh_client, _runtime):
                fresh = await fresh_client.get(path, headers=headers)
            assert (kept.headers.multi_items(), kept.content) == (fresh.headers.multi_items(), fresh.content)
            assert kept.json()["sales_policy"] == body["grades"]["B"]["sales_policy"]


async def test_the_stamp_read_is_the_leading_columns_of_the_full_read(databases: DatabaseFactory) -> None:
    url = await databases.create("credit")
    async with _app(url) as (client, runtime):
        _path, customer, other = await _customers(client, url)
        windows = sales_windows(CLOCK.now().date(), runtime.settings)
        for write in (None, _core_insert, _orm_add):
            if write is not None:
                async with runtime.db.transaction() as session:
                    await write(session, customer, other)
            for customer_id in (customer, other):  # with a profile, and without (its columns all null)
                full = await repository.read_profile(runtime.db, customer_id, windows)
                stamp = await profiles.profile_stamp(runtime.db, customer_id)
                assert profiles.stamp_of_row(full) == stamp
                assert [type(value) for value in stamp] == [type(value) for value in profiles.stamp_of_row(full)]
        assert await repository.profile_stamp(runtime.db, uuid.uuid4()) is None


async def test_a_profile_get_reads_once_unless_its_kept_answer_is_stale(
    databases: DatabaseFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The first GET reads the sums only (nothing kept to compare a stamp with), a repeated GET the stamp only,
    a GET after a write the stamp and then the sums; an unknown customer is read once."""
    reads: list[str] = []
    original = Database.read_row

    async def named(self: Database, read: Any, params: dict[str, Any]) -> Any:
        reads.append("stamp" if read is repository._profile_stamp_read() else "sums")
        return await original(self, read, params)

    monkeypatch.setattr(Database, "read_row", named)
    url = await databases.create("credit")
    token = mint_token(CreditSettings(), ["credit:read"], subject="tester", now=datetime.now(UTC))
    headers = {"Authorization": f"Bearer {token}"}
    async with _app(url) as (client, runtime):
        path, customer, other = await _customers(client, url)
        steps: list[tuple[Write | None, list[str]]] = [
            (None, ["sums"]),
            (None, ["stamp"]),
            (_core_insert, ["stamp", "sums"]),
            (None, ["stamp"]),
        ]
        for write, expected in steps:
            if write is not None:
                async with runtime.db.transaction() as session:
                    await write(session, customer, other)
            reads.clear()
            assert (await client.get(path, headers=headers)).status_code == 200
            assert reads == expected, write
        reads.clear()
        assert (await client.get(f"/v1/profiles/{uuid.uuid4()}", headers=headers)).status_code == 404
        assert reads == ["sums"]
