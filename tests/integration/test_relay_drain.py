"""The relay draining a backlog of many batches (SQLite or PostgreSQL) against a real broker.

``drain`` reads the next batch while the current one is sent and marks batches sent in the background
(several at once on PostgreSQL): every row must still go out once, in outbox order per key, and be
marked with the partition and offset the broker gave it.
"""

from __future__ import annotations

import asyncio
import uuid
from collections import defaultdict
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from aiokafka.partitioner import DefaultPartitioner
from sqlalchemy import select

from services.customers.settings import CustomersSettings
from shared.broker import EmbeddedBroker, free_port
from shared.clock import FixedClock
from shared.db import Database
from shared.events.customers import CustomerUpdated
from shared.kafka import create_suite_topics
from shared.outbox import OutboxRelay, emit_many
from shared.tables import outbox
from tests.support.databases import DatabaseFactory
from tests.support.topics import read_topic
from tests.support.waiting import eventually

pytestmark = pytest.mark.broker

CLOCK = FixedClock(datetime(2026, 3, 1, 9, 0, tzinfo=UTC))


@pytest.fixture
def fresh_broker(broker_factory: type[EmbeddedBroker]) -> Iterator[EmbeddedBroker]:
    yield broker_factory(free_port()).start()


async def test_a_backlog_of_many_batches_goes_out_once_in_order_per_key_and_is_marked_where_it_landed(
    databases: DatabaseFactory, fresh_broker: EmbeddedBroker
) -> None:
    await create_suite_topics(fresh_broker.bootstrap)
    db = Database(await databases.create("customers"))
    customers = [uuid.uuid4() for _ in range(30)]
    total = 1050  # ten and a half batches of 100, each customer's updates spread over all of them
    try:
        for start in range(0, total, 350):
            async with db.transaction() as session:
                await emit_many(
                    session,
                    [
                        CustomerUpdated(customer_id=customers[n % 30], version=n, changes={"name": f"v{n}"})
                        for n in range(start, start + 350)
                    ],
                    at=CLOCK.now(),
                )
        settings = CustomersSettings(kafka_bootstrap_servers=fresh_broker.bootstrap, relay_batch_size=100)
        relay = OutboxRelay(db, settings, CLOCK)
        try:
            assert await relay.drain() == total
            assert await relay.drain() == 0
            assert await relay.pending() == 0
        finally:
            await relay.stop()

        async with db.transaction(read_only=True) as session:
            rows = (await session.execute(select(outbox).order_by(outbox.c.seq))).all()
        records = await read_topic(fresh_broker.bootstrap, "creditflow.customers", total)
        assert len(records) == total  # nothing twice, nothing lost
        landed = {(r.partition, r.offset): dict(r.headers)["ce_id"].decode() for r in records}
        assert {(row.kafka_partition, row.kafka_offset): str(row.event_id) for row in rows} == landed

        # Batches filled per partition by the relay put each key where aiokafka's default partitioner would.
        partitions = sorted({r.partition for r in records} | set(range(settings.kafka_topic_partitions)))
        for record in records:
            assert record.partition == DefaultPartitioner()(record.key, partitions, partitions)

        versions: dict[bytes, list[int]] = defaultdict(list)
        for record in sorted(records, key=lambda r: (r.partition, r.offset)):
            versions[record.key].append(CustomerUpdated.model_validate_json(record.value).version)
        assert len(versions) == 30
        for key, seen in versions.items():
            assert seen == sorted(seen), f"customer {key!r} updates out of order"
    finally:
        await db.dispose()


async def test_batches_acknowledged_while_marking_is_slow_are_marked_together_without_holding_up_sending(
    databases: DatabaseFactory, fresh_broker: EmbeddedBroker
) -> None:
    """Marking that lags (a busy database) does not stop sending; the rows it lags behind are marked together.

    Every marking transaction is held until every batch is acknowledged: the relay must keep sending (a
    relay that waits for a marking slot before the next send never gets there), then mark the waiting
    batches in fewer transactions than it sent batches, every row with where it landed.
    """
    await create_suite_topics(fresh_broker.bootstrap)
    db = Database(await databases.create("customers"))
    total, batch = 3100, 100  # reads of 100, 200, 400, then 800 (the backlog doubles them): six batches
    try:
        async with db.transaction() as session:
            await emit_many(
                session,
                [CustomerUpdated(customer_id=uuid.uuid4(), version=n, changes={}) for n in range(total)],
                at=CLOCK.now(),
            )
        settings = CustomersSettings(kafka_bootstrap_servers=fresh_broker.bootstrap, relay_batch_size=batch)
        relay = OutboxRelay(db, settings, CLOCK)
        acknowledged, sends, all_acknowledged, marked = 0, 0, asyncio.Event(), []
        acknowledge, mark = relay._acknowledged, relay._mark_sent

        async def counting_acknowledged(rows: list[object], pending: list[object]) -> list[tuple[int, int]]:
            nonlocal acknowledged, sends
            positions = await acknowledge(rows, pending)  # type: ignore[arg-type]
            acknowledged += len(rows)
            sends += 1
            if acknowledged == total:
                all_acknowledged.set()
            return positions

        async def held_mark(sent: list[tuple[int, int, int]]) -> None:
            marked.append(len(sent))
            # Bounded: a relay that waits for this before sending on fails here instead of hanging.
            await asyncio.wait_for(all_acknowledged.wait(), 30)
            await mark(sent)

        relay._acknowledged = counting_acknowledged  # type: ignore[method-assign]
        relay._mark_sent = held_mark  # type: ignore[method-assign]
        try:
            assert await asyncio.wait_for(relay.drain(), 60) == total
            assert await relay.pending() == 0
        finally:
            await relay.stop()
        assert sum(marked) == total
        assert sends == 6
        assert len(marked) < sends, marked  # some transactions marked several batches

        async with db.transaction(read_only=True) as session:
            rows = (await session.execute(select(outbox))).all()
        records = await read_topic(fresh_broker.bootstrap, "creditflow.customers", total)
        landed = {(r.partition, r.offset): dict(r.headers)["ce_id"].decode() for r in records}
        assert {(row.kafka_partition, row.kafka_offset): str(row.event_id) for row in rows} == landed
    finally:
        await db.dispose()


async def test_the_last_rows_acknowledged_are_marked_in_pieces_at_once_on_postgresql(
    databases: DatabaseFactory, fresh_broker: EmbeddedBroker
) -> None:
    """The drain ends when its last marking does: on PostgreSQL that marking is split among the free slots
    (consecutive pieces, marked concurrently), on SQLite (one writer) it stays one transaction; either way
    every row is marked once, where it landed."""
    await create_suite_topics(fresh_broker.bootstrap)
    db = Database(await databases.create("customers"))
    total = 700  # reads of 100, 200, 400: the last batch is 400 rows
    try:
        async with db.transaction() as session:
            await emit_many(
                session,
                [CustomerUpdated(customer_id=uuid.uuid4(), version=n, changes={}) for n in range(total)],
                at=CLOCK.now(),
            )
        settings = CustomersSettings(kafka_bootstrap_servers=fresh_broker.bootstrap, relay_batch_size=100)
        relay = OutboxRelay(db, settings, CLOCK)
        acknowledge, mark = relay._acknowledged, relay._mark_sent
        acknowledged, running, concurrent, markings = 0, 0, 0, []
        idle = asyncio.Event()
        idle.set()

        async def last_acknowledged_when_marking_is_idle(
            rows: list[object], pending: list[object]
        ) -> list[tuple[int, int]]:
            nonlocal acknowledged
            positions = await acknowledge(rows, pending)  # type: ignore[arg-type]
            acknowledged += len(rows)
            if acknowledged == total:  # every slot free for the last marking
                await asyncio.wait_for(idle.wait(), 30)
            return positions

        async def recorded_mark(sent: list[tuple[int, int, int]]) -> None:
            nonlocal running, concurrent
            markings.append([seq for seq, _, _ in sent])
            running += 1
            idle.clear()
            concurrent = max(concurrent, running)
            try:
                await asyncio.sleep(0.05)  # long enough for the pieces of one split to overlap
                await mark(sent)
            finally:
                running -= 1
                if not running:
                    idle.set()

        relay._acknowledged = last_acknowledged_when_marking_is_idle  # type: ignore[method-assign]
        relay._mark_sent = recorded_mark  # type: ignore[method-assign]
        try:
            assert await asyncio.wait_for(relay.drain(), 60) == total
            assert await relay.pending() == 0
        finally:
            await relay.stop()
        async with db.transaction(read_only=True) as session:
            seqs = list((await session.scalars(select(outbox.c.seq).order_by(outbox.c.seq))).all())
        assert sorted(seq for marking in markings for seq in marking) == seqs  # each row once
        if db.dialect == "postgresql":
            last = [marking for marking in markings if marking[0] >= seqs[300]]
            assert [seq for marking in last for seq in marking] == seqs[300:]  # consecutive pieces, in order
            assert [len(marking) for marking in last] == [134, 134, 132]
            assert concurrent == 3
        else:  # one transaction (with the rows that waited for the one slot)
            assert markings[-1][-400:] == seqs[300:]
            assert concurrent == 1

        async with db.transaction(read_only=True) as session:
            rows = (await session.execute(select(outbox))).all()
        records = await read_topic(fresh_broker.bootstrap, "creditflow.customers", total)
        landed = {(r.partition, r.offset): dict(r.headers)["ce_id"].decode() for r in records}
        assert {(row.kafka_partition, row.kafka_offset): str(row.event_id) for row in rows} == landed
    finally:
        await db.dispose()


async def _published(db: Database) -> bool:
    async with db.transaction(read_only=True) as session:
        rows = (await session.execute(select(outbox.c.published_at))).all()
    return bool(rows) and all(row.published_at is not None for row in rows)


async def test_a_commit_wakes_the_relay_in_process_and_on_postgresql_in_another_replica(
    databases: DatabaseFactory, fresh_broker: EmbeddedBroker
) -> None:
    """The relay polls only every 30 s here: an event published within seconds was woken by its commit."""
    await create_suite_topics(fresh_broker.bootstrap)
    url = await databases.create("customers")
    # The relay's process, and another replica (its commits set its own in-process event, not the relay's).
    relaying, writer = Database(url), Database(url)
    settings = CustomersSettings(kafka_bootstrap_servers=fresh_broker.bootstrap, relay_poll_interval_seconds=30)
    relay = OutboxRelay(relaying, settings, CLOCK)
    task = asyncio.create_task(relay.run())
    try:
        await eventually(lambda: _relay_idle(relay), timeout=30, what="the relay to drain and wait")
        async with relaying.transaction() as session:
            await emit_many(session, [CustomerUpdated(customer_id=uuid.uuid4(), version=1, changes={})], at=CLOCK.now())
        await eventually(lambda: _published(relaying), timeout=10, what="the commit in this process to wake the relay")
        if databases.dialect == "postgresql":  # LISTEN/NOTIFY: a commit in another replica wakes it too
            async with writer.transaction() as session:
                await emit_many(
                    session, [CustomerUpdated(customer_id=uuid.uuid4(), version=1, changes={})], at=CLOCK.now()
                )
            await eventually(lambda: _published(relaying), timeout=10, what="NOTIFY from another replica")
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await relay.stop()
        await relaying.dispose()
        await writer.dispose()


async def _relay_idle(relay: OutboxRelay) -> bool:
    return relay.connected
