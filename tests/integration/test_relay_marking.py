"""The relay's database side (SQLite or PostgreSQL): the messages it builds from rows, and how it marks them
published (by primary key, without a WAL flush to wait for)."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select, text, update

from services.customers.settings import CustomersSettings
from shared.clock import FixedClock
from shared.cloudevents import to_kafka_message
from shared.context import request_id_var, traceparent_var
from shared.db import Database
from shared.events.customers import CustomerRegistered, CustomerUpdated
from shared.outbox import (
    MARK_SENT_POSTGRESQL,
    MARK_SENT_SQLITE,
    READ_PLAN_POSTGRESQL,
    READ_UNPUBLISHED_POSTGRESQL,
    READ_UNPUBLISHED_SQLITE,
    OutboxRelay,
    OutboxRow,
    _message,
    _messages,
    emit_many,
    emit_rendered,
)
from shared.tables import outbox
from tests.support.databases import DatabaseFactory

CLOCK = FixedClock(datetime(2026, 3, 1, 9, 0, tzinfo=UTC))


async def _emitted(db: Database, count: int) -> list[int]:
    async with db.transaction() as session:
        await emit_many(
            session,
            [CustomerUpdated(customer_id=uuid.uuid4(), version=n, changes={}) for n in range(count)],
            at=CLOCK.now(),
        )
    async with db.transaction(read_only=True) as session:
        return list((await session.scalars(select(outbox.c.seq).order_by(outbox.c.seq))).all())


async def test_messages_built_a_transaction_at_a_time_are_those_built_one_by_one(databases: DatabaseFactory) -> None:
    """Rows of one transaction share their encoded headers; rows of others (other time, request) do not."""
    db = Database(await databases.create("customers"))
    try:
        for n, at in enumerate((CLOCK.now(), CLOCK.now() + timedelta(seconds=1), CLOCK.now() + timedelta(seconds=1))):
            token = request_id_var.set(f"request-{n}")
            try:
                async with db.transaction() as session:
                    await emit_many(
                        session,
                        [CustomerUpdated(customer_id=uuid.uuid4(), version=v, changes={}) for v in range(3)],
                        at=at,
                        subjects=[None, "invoice-1", None],
                    )
            finally:
                request_id_var.reset(token)
        rows = await OutboxRelay(db, CustomersSettings(), CLOCK)._read_batch(after_seq=None)
        assert len(rows) == 9
        one_by_one = []
        for row in map(OutboxRow._make, rows):
            headers = json.loads(row.headers)
            one_by_one.append(_message(row, headers, headers.get("traceparent")))
        assert _messages(rows) == one_by_one
        assert {dict(headers)["x-request-id"] for _, _, headers in one_by_one} == {
            b"request-0",
            b"request-1",
            b"request-2",
        }
    finally:
        await db.dispose()


async def test_the_relay_sends_for_every_row_what_to_kafka_message_makes_of_it_as_sqlalchemy_reads_it(
    databases: DatabaseFactory,
) -> None:
    """The relay reads through the driver (``event_id`` as text, times as the driver gives them) and builds
    messages a run at a time: the bytes must be exactly ``to_kafka_message``'s for the row as SQLAlchemy
    reads it, for rows written every way (one by one, in bulk by COPY/executemany, with and without a
    subject, times with and without microseconds, other requests and trace contexts)."""
    db = Database(await databases.create("customers"))
    try:
        times = [
            CLOCK.now(),
            CLOCK.now() + timedelta(microseconds=250),
            CLOCK.now() + timedelta(days=40, seconds=1, microseconds=999_999),
        ]
        for n, at in enumerate(times):
            request = request_id_var.set(f"request-{n}" if n != 1 else None)
            trace = traceparent_var.set(f"00-{n + 1:032x}-{n + 1:016x}-01" if n != 0 else None)
            try:
                async with db.transaction() as session:
                    await emit_many(
                        session,
                        [CustomerUpdated(customer_id=uuid.uuid4(), version=v, changes={"name": "é"}) for v in range(3)],
                        at=at,
                        subjects=[None, "invoice-1", None],
                    )
                async with db.transaction() as session:  # enough rows for the bulk path (COPY / executemany)
                    await emit_rendered(
                        session,
                        CustomerRegistered,
                        [
                            (
                                customer,
                                CustomerRegistered(
                                    customer_id=customer, name=f"C{v}", kind="commercial", lifecycle="active"
                                ).model_dump_json(),
                            )
                            for v, customer in enumerate(uuid.uuid4() for _ in range(1200))
                        ],
                        at=at,
                    )
            finally:
                request_id_var.reset(request)
                traceparent_var.reset(trace)
        relay = OutboxRelay(db, CustomersSettings(), CLOCK)
        rows = await relay._read_batch(after_seq=None, limit=10_000)
        assert len(rows) == 3 * 1203
        async with db.transaction(read_only=True) as session:
            stored = (await session.execute(select(outbox).order_by(outbox.c.seq))).all()
        expected = []
        for row in stored:
            headers = json.loads(row.headers)
            expected.append(
                to_kafka_message(
                    event_id=str(row.event_id),
                    event_type=row.event_type,
                    source=row.source,
                    subject=row.subject,
                    occurred_at=row.occurred_at,
                    data=row.data,
                    key=row.key,
                    extra_headers=headers,
                    traceparent=headers.get("traceparent"),
                    sequence=row.seq,
                )
            )
        assert _messages(rows) == expected
        named = [OutboxRow._make(row) for row in rows]
        assert [(row.seq, row.occurred_at) for row in named] == [(row.seq, row.occurred_at) for row in stored]
        assert {row.occurred_at.isoformat() for row in named} == {at.isoformat() for at in times}
        # Read on from a position, as the read-ahead does: the rows after it, in order.
        after = await relay._read_batch(after_seq=rows[10][4], limit=5)
        assert [row[4] for row in after] == [row.seq for row in stored[11:16]]
    finally:
        await db.dispose()


@pytest.fixture
async def backlog_after_retained_rows(databases: DatabaseFactory) -> Any:
    """3,000 published rows (statistics gathered then, as they are when nearly every row is retained), then
    2,000 unpublished ones, a few of them published out of order (another relay, a replay): a backlog."""
    db = Database(await databases.create("customers"))
    try:
        seqs = await _emitted(db, 3000)
        async with db.transaction() as session:
            await session.execute(update(outbox).values(published_at=CLOCK.now(), kafka_partition=0, kafka_offset=0))
            if db.dialect == "postgresql":
                await session.execute(text("ANALYZE outbox"))
        seqs = (await _emitted(db, 2000))[3000:]
        async with db.transaction() as session:
            published = seqs[5:8] + seqs[700:760] + seqs[-3:]
            await session.execute(update(outbox).where(outbox.c.seq.in_(published)).values(published_at=CLOCK.now()))
        yield db, seqs
    finally:
        await db.dispose()


@pytest.mark.parametrize(("after", "limit"), [(None, 500), (None, 4000), (4, 100), (650, 1000), (1990, 500), (2000, 5)])
async def test_the_read_gives_the_next_unpublished_rows_in_seq_order_as_the_reference_query_does(
    backlog_after_retained_rows: Any, after: int | None, limit: int
) -> None:
    """``after`` indexes the backlog (None: from the start). The relay's hand-written read against SQLAlchemy's
    plain query of the same rows (PostgreSQL: planned in index order, sorting off)."""
    db, backlog = backlog_after_retained_rows
    after_seq = None if after is None else [*backlog, backlog[-1] + 1][after]
    rows = await OutboxRelay(db, CustomersSettings(), CLOCK)._read_batch(after_seq=after_seq, limit=limit)
    async with db.transaction(read_only=True) as session:
        reference = (
            await session.scalars(
                select(outbox.c.seq)
                .where(outbox.c.published_at.is_(None), outbox.c.seq > (-1 if after_seq is None else after_seq))
                .order_by(outbox.c.seq)
                .limit(limit)
            )
        ).all()
    assert [row[4] for row in rows] == list(reference)
    published = set(backlog[5:8] + backlog[700:760] + backlog[-3:])
    unpublished = [seq for seq in backlog if seq not in published and (after_seq is None or seq > after_seq)]
    assert list(reference) == unpublished[:limit]


async def test_the_read_of_a_backlog_walks_the_unpublished_index_in_order_and_leaves_the_connection_as_it_was(
    backlog_after_retained_rows: Any,
) -> None:
    """Statistics gathered while every row was published see a backlog as a few rows: planned freely, the
    read took the whole backlog and sorted it for every batch. Planned with sorting off, the index gives
    the rows in order and the scan stops at the limit; the setting ends with the read's transaction."""
    db, backlog = backlog_after_retained_rows
    async with db.engine.connect() as connection:
        driver: Any = (await connection.get_raw_connection()).driver_connection
        if db.dialect == "postgresql":
            await driver.execute(READ_PLAN_POSTGRESQL)
            try:
                explained = await driver.fetch(f"EXPLAIN {READ_UNPUBLISHED_POSTGRESQL}", backlog[10], 500)
            finally:
                await driver.execute("COMMIT")
            plan = "\n".join(record[0] for record in explained)
            assert "Sort" not in plan, plan
            assert "Index Scan using ix_outbox_unpublished" in plan, plan
        else:
            cursor = await driver.execute(f"EXPLAIN QUERY PLAN {READ_UNPUBLISHED_SQLITE}", (backlog[10], 500))
            plan = " ".join(str(row[-1]) for row in await cursor.fetchall())
            assert "TEMP B-TREE" not in plan, plan  # SQLite takes IS NULL as an equality: the index's order
            return

    await OutboxRelay(db, CustomersSettings(), CLOCK)._read_batch(after_seq=backlog[10], limit=500)
    async with db.read() as connection:  # the pool's one connection: the read's
        driver = (await connection.get_raw_connection()).driver_connection
        assert not driver.is_in_transaction()
        assert await driver.fetchval("SHOW enable_sort") == "on"


async def test_a_read_that_fails_in_its_transaction_leaves_no_transaction_in_the_pool(
    backlog_after_retained_rows: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The read opens a transaction of its own (PostgreSQL) and ends it; a read failing inside it must not
    hand that transaction, sorting off, to the pool's next user. SQLite: the read's error as it is."""
    db, backlog = backlog_after_retained_rows
    relay = OutboxRelay(db, CustomersSettings(), CLOCK)
    broken = "SELECT no_such_column FROM outbox WHERE seq > $1 LIMIT $2"
    monkeypatch.setattr("shared.outbox.READ_UNPUBLISHED_POSTGRESQL", broken)
    monkeypatch.setattr("shared.outbox.READ_UNPUBLISHED_SQLITE", broken.replace("$1", "?").replace("$2", "?"))
    with pytest.raises(Exception, match="no_such_column"):
        await relay._read_batch(after_seq=backlog[0], limit=10)
    monkeypatch.undo()
    assert [row[4] for row in await relay._read_batch(after_seq=backlog[0], limit=2)] == backlog[1:3]
    if db.dialect == "postgresql":
        async with db.read() as connection:
            driver: Any = (await connection.get_raw_connection()).driver_connection
            assert not driver.is_in_transaction()
            assert await driver.fetchval("SHOW enable_sort") == "on"


async def test_marking_a_batch_takes_its_rows_by_primary_key_not_by_scanning_the_retained_table(
    databases: DatabaseFactory,
) -> None:
    """Published rows stay in the outbox: marking a batch must not read the whole table every time."""
    db = Database(await databases.create("customers"))
    try:
        seqs = await _emitted(db, 3000)
        batch = seqs[-100:]
        async with db.transaction() as session:
            if db.dialect == "postgresql":
                await session.execute(text("ANALYZE outbox"))
                driver: Any = (await (await session.connection()).get_raw_connection()).driver_connection
                explained = await driver.fetch(
                    f"EXPLAIN {MARK_SENT_POSTGRESQL}",
                    CLOCK.now(),
                    batch,
                    [0] * len(batch),
                    list(range(len(batch))),
                    min(batch),
                    max(batch),
                )
                plan = "\n".join(record[0] for record in explained)
                assert "Seq Scan on outbox" not in plan, plan
                assert "pk_outbox" in plan, plan
            else:
                driver: Any = (await (await session.connection()).get_raw_connection()).driver_connection
                cursor = await driver.execute(f"EXPLAIN QUERY PLAN {MARK_SENT_SQLITE}", (None, 0, 0, batch[0]))
                plan = " ".join(str(row[-1]) for row in await cursor.fetchall())
                assert "USING INTEGER PRIMARY KEY" in plan, plan
    finally:
        await db.dispose()


async def test_marking_commits_without_waiting_for_the_wal_flush_and_marks_where_each_row_landed(
    databases: DatabaseFactory,
) -> None:
    """A lost mark only re-sends its rows, so on PostgreSQL the marking transaction commits asynchronously:
    the marking statement sets it for its own transaction, and later transactions commit as configured."""
    db = Database(await databases.create("customers"))
    try:
        seqs = await _emitted(db, 10)
        postgresql = db.dialect == "postgresql"
        configured = await _synchronous_commit(db) if postgresql else None
        relay = OutboxRelay(db, CustomersSettings(), CLOCK)
        await relay._mark_sent([(seq, n % 3, 100 + n) for n, seq in enumerate(seqs)])
        async with db.transaction(read_only=True) as session:
            rows = (await session.execute(select(outbox).order_by(outbox.c.seq))).all()
        assert [(row.kafka_partition, row.kafka_offset) for row in rows] == [(n % 3, 100 + n) for n in range(10)]
        assert all(row.published_at == CLOCK.now() for row in rows)
        if postgresql:
            assert configured != "off"
            async with db.engine.connect() as connection:
                driver: Any = (await connection.get_raw_connection()).driver_connection
                async with driver.transaction():
                    await driver.execute(MARK_SENT_POSTGRESQL, CLOCK.now(), seqs[:1], [0], [100], seqs[0], seqs[0])
                    assert await driver.fetchval("SHOW synchronous_commit") == "off"
                assert await driver.fetchval("SHOW synchronous_commit") == configured
            assert await _synchronous_commit(db) == configured
    finally:
        await db.dispose()


async def _synchronous_commit(db: Database) -> str:
    async with db.transaction() as session:
        return str(await session.scalar(text("SHOW synchronous_commit")))
