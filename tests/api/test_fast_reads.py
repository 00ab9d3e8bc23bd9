"""The fast reads (shared.fast_reads) answer byte for byte as their routes, and only when they can.

Each hot GET is sent to the service as deployed and to the same service built without its fast reads (the
route answers everything), on the same database, with the same request id: status, headers and body must
be identical for a found record (id in either case), not found, a bad id, no token, a bad token, a missing
scope and a caller over its rate; the fast path must have answered the found ones and none of the others.
The driver-level reads (``Database.read_row``) must return what the ORM returns.
"""

from __future__ import annotations

import asyncio
import dataclasses
import re
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest
from sqlalchemy import inspect

from bench.get_bench import seed
from shared.app import ServiceSpec, create_service_app
from shared.clock import FixedClock
from shared.fast_reads import FastReadMiddleware
from shared.registry import settings_class
from tests.support.databases import DatabaseFactory

CLOCK = FixedClock(datetime(2026, 3, 1, 9, 0, tzinfo=UTC))
READER_SCOPE = {"customers": "customers:read", "credit": "credit:read", "collections": "collections:read"}
OTHER_SCOPE = {"customers": "credit:read", "credit": "collections:read", "collections": "customers:read"}


def _spec(service: str) -> ServiceSpec:
    if service == "customers":
        from services.customers.app import SPEC
    elif service == "credit":
        from services.credit.app import SPEC
    else:
        from services.collections.app import SPEC
    return SPEC


@asynccontextmanager
async def _app(
    service: str, url: str, *, fast: bool, rate: str = "", clock: FixedClock = CLOCK
) -> AsyncIterator[tuple[httpx.AsyncClient, Any]]:
    settings = settings_class(service)(
        database_url=url,
        relay_enabled=False,
        consumer_enabled=False,
        kafka_create_topics=False,
        kafka_bootstrap_servers="127.0.0.1:9",
        http_rate_limit=rate,
        log_json=False,
    )
    spec = _spec(service) if fast else dataclasses.replace(_spec(service), fast_reads=())
    app = create_service_app(spec, settings, clock, configure_logs=False)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url=f"http://{service}.test") as client:
            yield client, app.state.runtime


@asynccontextmanager
async def _client(
    service: str, url: str, *, fast: bool, rate: str = "", clock: FixedClock = CLOCK
) -> AsyncIterator[httpx.AsyncClient]:
    async with _app(service, url, fast=fast, rate=rate, clock=clock) as (client, _runtime):
        yield client


@pytest.fixture
def answered(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """Per request that reached a fast read's query: whether the fast path answered it."""
    seen: list[bool] = []
    original = FastReadMiddleware._answer

    async def spy(read: Any, scope: Any, raw_id: str) -> Any:
        response = await original(read, scope, raw_id)
        seen.append(response is not None)
        return response

    monkeypatch.setattr(FastReadMiddleware, "_answer", staticmethod(spy))
    return seen


def _token(service: str, *scopes: str, ttl: timedelta = timedelta(hours=1)) -> str:
    from shared.auth import mint_token

    return mint_token(settings_class(service)(), list(scopes), subject="tester", now=datetime.now(UTC), ttl=ttl)


def _same(fast: httpx.Response, route: httpx.Response) -> None:
    assert fast.status_code == route.status_code, (fast.text, route.text)
    assert fast.headers.multi_items() == route.headers.multi_items()
    assert fast.content == route.content


@pytest.mark.parametrize("service", ["customers", "credit", "collections"])
async def test_a_fast_read_answers_exactly_as_its_route(
    service: str, databases: DatabaseFactory, answered: list[bool]
) -> None:
    url = await databases.create(service)
    async with _client(service, url, fast=True) as client:
        path, admin = await seed(service, url, client)
    reader = {"Authorization": f"Bearer {_token(service, READER_SCOPE[service])}"}
    prefix, _, record_id = path.rpartition("/")
    cases: list[tuple[str, dict[str, str], int, bool]] = [
        (path, reader, 200, True),
        (f"{prefix}/{record_id.upper()}", {"Authorization": f"Bearer {admin}"}, 200, True),
        (f"{prefix}/{uuid.uuid4()}", reader, 404, True),  # the fast read renders the route's problem
        (f"{prefix}/not-an-id", reader, 422, False),
        (f"{prefix}/{record_id.replace('-', '')}", reader, 200, False),  # another form of the id: the route's
        (path, {}, 401, False),
        (path, {"Authorization": "Bearer not.a.token"}, 401, False),
        (path, {"Authorization": f"Bearer {_token(service, OTHER_SCOPE[service])}"}, 403, False),
    ]
    async with _client(service, url, fast=True) as fast_app, _client(service, url, fast=False) as route_app:
        for case_path, headers, status, fast_answers in cases:
            answered.clear()
            headers = {**headers, "X-Request-Id": "fast-read-test"}
            fast = await fast_app.get(case_path, headers=headers)
            route = await route_app.get(case_path, headers=headers)
            assert fast.status_code == status, (case_path, fast.text)
            _same(fast, route)
            # the route-only app consults no fast read; the deployed one answered exactly the found records
            assert answered == ([True] if fast_answers else []), case_path


@pytest.mark.parametrize("service", ["customers", "credit", "collections"])
async def test_a_missing_record_is_read_once(
    service: str, databases: DatabaseFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A GET of an id nobody has is answered 404 by the fast read: its read is not run again by the route."""
    from shared.db import Database

    url = await databases.create(service)
    reads: list[object] = []
    original = Database.read_row

    async def counted(self: Database, read: Any, params: dict[str, Any]) -> Any:
        reads.append(read)
        return await original(self, read, params)

    monkeypatch.setattr(Database, "read_row", counted)
    async with _client(service, url, fast=True) as client:
        path, _admin = await seed(service, url, client)
        prefix, _, _record_id = path.rpartition("/")
        reader = {"Authorization": f"Bearer {_token(service, READER_SCOPE[service])}"}
        reads.clear()
        response = await client.get(f"{prefix}/{uuid.uuid4()}", headers=reader)
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    assert len(reads) == 1


CHANGE_ROW = {
    "customers": "UPDATE customers SET name = 'Renamed Trading Co.', version = version + 1",
    "credit": "UPDATE credit_profiles SET oldest_overdue_days = 45",
    "collections": "UPDATE invoices SET number = 'INV-RENAMED'",
}


@pytest.mark.parametrize("service", ["customers", "credit", "collections"])
async def test_a_kept_answer_is_given_only_while_its_row_and_day_are_the_same(
    service: str, databases: DatabaseFactory
) -> None:
    """shared.http.RenderedReads: after the row changes, or the day, a GET answers what a service that never
    answered it before answers (status, headers, bytes)."""
    from sqlalchemy import text

    from shared.db import Database

    clock = FixedClock(CLOCK.now())
    url = await databases.create(service)
    reader = {"Authorization": f"Bearer {_token(service, READER_SCOPE[service])}", "X-Request-Id": "kept"}

    async def fresh(path: str) -> httpx.Response:
        async with _client(service, url, fast=True, clock=clock) as client:
            return await client.get(path, headers=reader)

    async with _client(service, url, fast=True, clock=clock) as client:
        path, _admin = await seed(service, url, client)
        first = await client.get(path, headers=reader)
        again = await client.get(path, headers=reader)
        assert first.status_code == 200
        _same(again, first)
        db = Database(url)
        try:
            async with db.transaction() as session:
                await session.execute(text(CHANGE_ROW[service]))
        finally:
            await db.dispose()
        changed = await client.get(path, headers=reader)
        assert changed.content != first.content
        _same(changed, await fresh(path))
        clock.advance(days=45)  # penalty interest, DSO months, temperatures move with the day
        _same(await client.get(path, headers=reader), await fresh(path))


@pytest.mark.parametrize("service", ["customers", "collections"])
async def test_a_caller_over_its_rate_gets_the_same_429(
    service: str, databases: DatabaseFactory, answered: list[bool]
) -> None:
    url = await databases.create(service)
    async with _client(service, url, fast=True) as client:
        path, admin = await seed(service, url, client)
    headers = {"Authorization": f"Bearer {admin}", "X-Request-Id": "fast-read-test"}
    responses = []
    for fast in (True, False):
        # a day's window: no window boundary (where the previous window's count starts to fade) between them
        async with _client(service, url, fast=fast, rate="2/day") as client:
            assert [(await client.get(path, headers=headers)).status_code for _ in range(2)] == [200, 200]
            responses.append(await client.get(path, headers=headers))
    fast_response, route_response = responses
    assert fast_response.status_code == route_response.status_code == 429
    assert answered == [True, True]  # the two allowed requests; the refused one never reached the read
    # the wait left is computed at the moment of each request: compare everything else
    for response in responses:
        del response.headers["retry-after"]
    assert fast_response.headers.multi_items() == route_response.headers.multi_items()
    body = [re.sub(r"retry after \d+ s", "retry after N s", r.text) for r in responses]
    assert body[0] == body[1]


async def test_driver_reads_return_what_the_orm_returns(databases: DatabaseFactory) -> None:
    from services.collections import repository as collections_repository
    from services.collections.models import Invoice
    from services.customers import repository as customers_repository
    from services.customers.models import Customer

    for service, model, read in (
        ("customers", Customer, customers_repository.read),
        ("collections", Invoice, collections_repository.read_invoice),
    ):
        url = await databases.create(service)
        async with _app(service, url, fast=True) as (client, runtime):
            path, _admin = await seed(service, url, client)
            record_id = uuid.UUID(path.rpartition("/")[2])
            row = await read(runtime.db, record_id)
            async with runtime.db.transaction() as session:
                stored = await session.get(model, record_id)
                columns = [attribute.key for attribute in inspect(model).column_attrs]
                expected = {name: getattr(stored, name) for name in columns}
            assert {name: getattr(row, name) for name in columns} == expected
            assert {name: type(getattr(row, name)) for name in columns} == {
                name: type(value) for name, value in expected.items()
            }


async def test_the_profile_statement_sums_as_the_separate_queries(databases: DatabaseFactory) -> None:
    """Credit's one-statement profile read gives the totals and windowed sales the separate queries give."""
    from services.credit import repository
    from services.credit.models import InvoiceRecord
    from services.credit.service.dso import sales_windows

    url = await databases.create("credit")
    async with _app("credit", url, fast=True) as (client, runtime):
        path, _admin = await seed("credit", url, client)
        customer_id = uuid.UUID(path.rpartition("/")[2])
        now = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
        async with runtime.db.transaction() as session:
            for n, (issued, amount, outstanding, status) in enumerate(
                [
                    (date(2026, 2, 27), "1000.10", "1000.10", "open"),
                    (date(2026, 1, 15), "250.00", "0.00", "paid"),
                    (date(2025, 11, 2), "99.99", "99.99", "written_off"),
                    (date(2024, 1, 1), "5000.00", "5000.00", "open"),  # before every window
                ]
            ):
                session.add(
                    InvoiceRecord(
                        invoice_id=uuid.uuid4(),
                        customer_id=customer_id,
                        number=f"INV-{n}",
                        issue_date=issued,
                        due_date=issued + timedelta(days=30),
                        currency="CNY",
                        amount=Decimal(amount),
                        outstanding=Decimal(outstanding),
                        paid_amount=Decimal(amount) - Decimal(outstanding),
                        status=status,
                        created_at=now,
                        updated_at=now,
                    )
                )
        windows = sales_windows(now.date(), runtime.settings)
        row = await repository.read_profile(runtime.db, customer_id, windows)
        async with runtime.db.transaction(read_only=True) as session:
            totals = await repository.invoice_totals(session, customer_id)
            sales = await repository.credit_sales_in_windows(session, windows, customer_id)
            profile = await repository.profile(session, customer_id)
        assert (
            (Decimal(row.billed), Decimal(row.outstanding), Decimal(row.written_off_outstanding))
            == (
                totals.billed,
                totals.outstanding,
                totals.written_off_outstanding,
            )
            == (Decimal("6350.09"), Decimal("6100.09"), Decimal("99.99"))
        )
        assert [Decimal(getattr(row, f"sales_{n}") or 0) for n in range(len(windows))] == sales[customer_id]
        assert profile is not None
        parsed = repository.profile_json_of(row)  # its JSON columns are read as text
        assert row.credit_limit == profile.credit_limit and parsed.hold_reasons == profile.hold_reasons
        assert parsed.receivables_by_currency == profile.receivables_by_currency
        assert await repository.read_profile(runtime.db, uuid.uuid4(), windows) is None


async def test_a_read_by_key_is_traced_as_a_statement(databases: DatabaseFactory) -> None:
    """With traces recorded, the route answers (not the fast read) and its driver-level read has its SQL span."""
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
    from opentelemetry.trace import SpanKind

    from shared.tracing import tracing_to

    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    url = await databases.create("customers")
    with tracing_to(provider):
        async with _client("customers", url, fast=True) as client:
            path, admin = await seed("customers", url, client)
            exporter.clear()
            response = await client.get(path, headers={"Authorization": f"Bearer {admin}"})
    assert response.status_code == 200
    spans = exporter.get_finished_spans()
    [server] = [s for s in spans if s.kind is SpanKind.SERVER and s.attributes and s.attributes.get("http.route")]
    assert server.attributes is not None and server.attributes["http.route"] == "/v1/customers/{customer_id}"
    [select] = [
        s for s in spans if s.kind is SpanKind.CLIENT and "FROM customers" in str(s.attributes.get("db.statement"))
    ]
    assert select.parent is not None and select.context is not None
    assert select.context.trace_id == server.context.trace_id  # type: ignore[union-attr]


async def test_concurrent_reads_by_key_hold_a_few_connections(databases: DatabaseFactory) -> None:
    """Many reads by key in flight at once share a few held connections: none opened and closed per read (the
    writers' pool overflowed under 32 concurrent GETs, opening a PostgreSQL connection, a server process, each
    time), and each read still answers its own row."""
    from sqlalchemy import event
    from sqlalchemy.pool import Pool

    from services.customers import repository
    from shared.db import KEY_READ_CONNECTIONS

    opened: list[object] = []

    def count(_dbapi_connection: Any, _record: Any) -> None:
        opened.append(_dbapi_connection)

    url = await databases.create("customers")
    async with _app("customers", url, fast=True) as (client, runtime):
        customer_id = uuid.UUID((await seed("customers", url, client))[0].rpartition("/")[2])
        event.listen(Pool, "connect", count)
        try:
            for _round in range(5):
                wanted = [customer_id if n % 4 else uuid.uuid4() for n in range(64)]
                rows = await asyncio.gather(*(repository.read(runtime.db, key) for key in wanted))
                assert [None if row is None else row.id for row in rows] == [
                    key if n % 4 else None for n, key in enumerate(wanted)
                ]
        finally:
            event.remove(Pool, "connect", count)
    assert len(opened) <= KEY_READ_CONNECTIONS


async def test_a_read_by_key_recovers_from_a_dropped_connection(databases: DatabaseFactory) -> None:
    """A held connection the server dropped fails at most one read (the route then answers); the next opens a
    new one."""
    from sqlalchemy import text

    from services.customers import repository

    url = await databases.create("customers")
    async with _app("customers", url, fast=True) as (client, runtime):
        customer_id = uuid.UUID((await seed("customers", url, client))[0].rpartition("/")[2])
        row = await repository.read(runtime.db, customer_id)
        assert row is not None and row.id == customer_id
        if runtime.db.dialect == "postgresql":
            async with runtime.db.transaction() as session:
                await session.execute(
                    text(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                        " WHERE datname = current_database() AND pid <> pg_backend_pid()"
                    )
                )
        failures = 0
        for _attempt in range(3):
            try:
                row = await repository.read(runtime.db, customer_id)
            except Exception:
                failures += 1
                continue
            assert row is not None and row.id == customer_id
        assert failures <= 1
        row = await repository.read(runtime.db, customer_id)
        assert row is not None and row.id == customer_id
