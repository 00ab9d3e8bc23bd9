"""The inbox on whole fetches (SQLite or PostgreSQL): dedup and insert in one statement, effects applied once.

PostgreSQL takes the set-based path (one ``INSERT … SELECT FROM unnest … ON CONFLICT DO NOTHING RETURNING``)
from 50 rows a fetch; smaller fetches and SQLite an executemany. Both sizes are run on both databases.
"""

from __future__ import annotations

import gc
import uuid
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from aiokafka.structs import ConsumerRecord
from sqlalchemy import func, select

from services.credit.handlers import EVENT_HANDLERS
from services.credit.models import KnownCustomer
from services.credit.settings import CreditSettings
from shared.clock import FixedClock
from shared.cloudevents import to_kafka_message
from shared.consumer import EventContext, InboxConsumer
from shared.db import Database, insert_rows
from shared.events.base import Event
from shared.events.collections import ReceivablesChanged
from shared.events.customers import CustomerRegistered
from shared.tables import inbox
from tests.support.databases import DatabaseFactory

CLOCK = FixedClock(datetime(2026, 3, 1, 9, 0, tzinfo=UTC))


def record(
    topic: str, partition: int, offset: int, event_id: str, customer_id: uuid.UUID, event: Event
) -> ConsumerRecord[bytes, bytes]:
    """``event`` as the broker delivers it: a CloudEvent in binary mode, keyed by the customer."""
    key, value, headers = to_kafka_message(
        event_id=event_id,
        event_type=event.event_type,
        source="/tests",
        subject=None,
        occurred_at=CLOCK.now(),
        data=event.model_dump_json(),
        key=str(customer_id),
        extra_headers={},
        sequence=offset,
    )
    return ConsumerRecord(topic, partition, offset, 0, 0, key, value, None, len(key), len(value), headers)


def registration(offset: int, event_id: str, customer_id: uuid.UUID) -> ConsumerRecord[bytes, bytes]:
    event = CustomerRegistered(customer_id=customer_id, name=f"C {offset}", kind="commercial", lifecycle="active")
    return record("creditflow.customers", 0, offset, event_id, customer_id, event)


async def count(db: Database, table: object) -> int:
    async with db.transaction(read_only=True) as session:
        return int(await session.scalar(select(func.count()).select_from(table)) or 0)  # type: ignore[arg-type]


@pytest.mark.parametrize("size", [10, 120])
async def test_a_fetch_with_repeats_and_already_applied_events_applies_each_event_once(
    databases: DatabaseFactory, size: int
) -> None:
    db = Database(await databases.create("credit"))
    try:
        consumer = InboxConsumer(db, CreditSettings(), CLOCK, EVENT_HANDLERS)
        events = [(str(uuid.uuid4()), uuid.uuid4()) for _ in range(size)]
        first = [registration(n, event_id, customer) for n, (event_id, customer) in enumerate(events)]
        # The producer sent the first few twice (a relay retry): the copies sit in the same fetch.
        repeats = [registration(size + n, *events[n]) for n in range(size // 5)]
        await consumer.process(first + repeats)
        assert await count(db, inbox) == size
        assert await count(db, KnownCustomer.__table__) == size

        # Redelivered after a crash before the offset commit, mixed with new events: only the new ones apply.
        newer = [(str(uuid.uuid4()), uuid.uuid4()) for _ in range(size)]
        again = [registration(n, *events[n]) for n in range(size)]
        fresh = [registration(2 * size + n, event_id, customer) for n, (event_id, customer) in enumerate(newer)]
        await consumer.process(again[: size // 2] + fresh + again[size // 2 :])
        assert await count(db, inbox) == 2 * size
        assert await count(db, KnownCustomer.__table__) == 2 * size
        async with db.transaction(read_only=True) as session:
            names = {row.id: row.name for row in await session.execute(select(KnownCustomer.id, KnownCustomer.name))}
        assert names[events[0][1]] == "C 0"  # the first delivery's effect, not overwritten by a copy
    finally:
        await db.dispose()


@pytest.mark.parametrize("size", [3, 60])
async def test_insert_rows_skipping_conflicts_returns_only_the_rows_it_inserted(
    databases: DatabaseFactory, size: int
) -> None:
    db = Database(await databases.create("credit"))
    try:

        def row(event_id: str) -> dict[str, object]:
            return {
                "consumer": "c",
                "event_id": event_id,
                "event_type": "t",
                "topic": "creditflow.customers",
                "partition": 0,
                "offset": 1,
                "applied_at": CLOCK.now(),
            }

        ids = [f"e{n}" for n in range(size)]
        async with db.transaction() as session:
            inserted = await insert_rows(
                session, inbox, [row(i) for i in ids], skip_conflicts=("consumer", "event_id"), returning="event_id"
            )
        assert sorted(inserted) == sorted(ids)
        more = [f"f{n}" for n in range(size)]
        async with db.transaction() as session:
            inserted = await insert_rows(
                session,
                inbox,
                [row(i) for i in ids + more + more[:1]],  # old ones, new ones, and a new one twice
                skip_conflicts=("consumer", "event_id"),
                returning="event_id",
            )
        assert sorted(inserted) == sorted(more)
        assert await count(db, inbox) == 2 * size
    finally:
        await db.dispose()


async def test_a_fetchs_inbox_rows_record_the_consumer_event_coordinates_and_the_clocks_time(
    databases: DatabaseFactory,
) -> None:
    # PostgreSQL binds the consumer and the time once for the whole fetch: every row must still carry them.
    db = Database(await databases.create("credit"))
    try:
        consumer = InboxConsumer(db, CreditSettings(), CLOCK, EVENT_HANDLERS)
        events = [(str(uuid.uuid4()), uuid.uuid4()) for _ in range(70)]
        await consumer.process(
            [registration(100 + n, event_id, customer) for n, (event_id, customer) in enumerate(events)]
        )
        async with db.transaction(read_only=True) as session:
            rows = {row.event_id: row for row in await session.execute(select(inbox))}
        assert set(rows) == {event_id for event_id, _ in events}
        for n, (event_id, _) in enumerate(events):
            row = rows[event_id]
            assert (row.consumer, row.event_type, row.topic, row.partition, row.offset) == (
                consumer.name,
                CustomerRegistered.event_type,
                "creditflow.customers",
                0,
                100 + n,
            )
            assert row.applied_at == CLOCK.now()
    finally:
        await db.dispose()


def receivables(offset: int, event_id: str, customer_id: uuid.UUID) -> ConsumerRecord[bytes, bytes]:
    event = ReceivablesChanged(
        customer_id=customer_id,
        currency="CNY",
        open_receivables=Decimal("10.00"),
        overdue_amount=Decimal("0.00"),
        oldest_overdue_days=0,
        as_of=CLOCK.now(),
    )
    return record("creditflow.collections", 1, offset, event_id, customer_id, event)


@pytest.mark.parametrize("mixed", [False, True], ids=["one type", "two types on two topics"])
async def test_each_inbox_row_records_its_own_events_type_and_topic_whether_the_fetch_has_one_or_several(
    databases: DatabaseFactory, mixed: bool
) -> None:
    # PostgreSQL binds the type and the topic once when the whole fetch shares them, as arrays otherwise.
    applied: list[str] = []

    async def record(ctx: EventContext, event: CustomerRegistered | ReceivablesChanged) -> None:
        applied.append(ctx.envelope.id)

    db = Database(await databases.create("credit"))
    try:
        consumer = InboxConsumer(
            db, CreditSettings(), CLOCK, {CustomerRegistered: [record], ReceivablesChanged: [record]}
        )
        makers = [registration, receivables] if mixed else [registration]
        events = [(str(uuid.uuid4()), uuid.uuid4()) for _ in range(60)]
        records = [makers[n % len(makers)](n, event_id, customer) for n, (event_id, customer) in enumerate(events)]
        await consumer.process(records + records[:7])  # the first few twice: applied once
        await consumer.process(records[5:20])  # redelivered: nothing applied again
        assert applied == [event_id for event_id, _ in events]
        async with db.transaction(read_only=True) as session:
            rows = {row.event_id: row for row in await session.execute(select(inbox))}
        assert {event_id: (row.event_type, row.topic, row.partition, row.offset) for event_id, row in rows.items()} == {
            dict(record.headers)["ce_id"].decode(): (
                dict(record.headers)["ce_type"].decode(),
                record.topic,
                record.partition,
                record.offset,
            )
            for record in records
        }
    finally:
        await db.dispose()


async def test_a_fetch_is_applied_with_the_cyclic_collector_paused_and_it_is_back_on_after(
    databases: DatabaseFactory,
) -> None:
    seen: list[bool] = []

    async def recording(ctx: EventContext, event: CustomerRegistered) -> None:
        seen.append(gc.isenabled())

    db = Database(await databases.create("credit"))
    try:
        assert gc.isenabled()
        consumer = InboxConsumer(db, CreditSettings(), CLOCK, {CustomerRegistered: [recording]})
        await consumer.process([registration(n, str(uuid.uuid4()), uuid.uuid4()) for n in range(3)])
        assert seen == [False, False, False]
        assert gc.isenabled()
        assert await count(db, inbox) == 3
    finally:
        await db.dispose()
