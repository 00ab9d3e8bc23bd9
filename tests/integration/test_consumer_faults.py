"""The inbox consumer under faults, against the real broker and database (SQLite or PostgreSQL).

Each test runs its own consumers on a fresh broker with a handler whose effect is NOT idempotent by itself
(one row per application in a scratch table), so "applied exactly once" is what the inbox guarantees.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from aiokafka import AIOKafkaProducer
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from shared.broker import EmbeddedBroker, free_port
from shared.clock import FixedClock
from shared.cloudevents import to_kafka_message
from shared.consumer import EventContext, InboxConsumer, retry_delay
from shared.db import Database
from shared.events.customers import CustomerRegistered
from shared.kafka import create_suite_topics
from shared.registry import settings_class
from tests.support.databases import DatabaseFactory
from tests.support.harness import running_service
from tests.support.topics import read_topic
from tests.support.waiting import eventually

pytestmark = pytest.mark.broker

CLOCK = FixedClock(datetime(2026, 3, 1, 9, 0, tzinfo=UTC))


@pytest.fixture
def fresh_broker(broker_factory: type[EmbeddedBroker]) -> Iterator[EmbeddedBroker]:
    yield broker_factory(free_port()).start()


def registered(customer_id: uuid.UUID) -> tuple[bytes, bytes, list[tuple[str, bytes]]]:
    event = CustomerRegistered(
        customer_id=customer_id, name=f"C {customer_id.hex[:6]}", kind="commercial", lifecycle="active"
    )
    return to_kafka_message(
        event_id=str(uuid.uuid4()),
        event_type=CustomerRegistered.event_type,
        source="/tests",
        subject=None,
        occurred_at=datetime.now(UTC),
        data=event.model_dump_json(),
        key=str(customer_id),
        extra_headers={},
    )


async def publish(bootstrap: str, count: int) -> list[str]:
    """Publish ``count`` customer_registered events with distinct keys (spread over the partitions)."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap)
    await producer.start()
    ids = [uuid.uuid4() for _ in range(count)]
    try:
        for customer_id in ids:
            key, value, headers = registered(customer_id)
            await producer.send("creditflow.customers", value=value, key=key, headers=headers)
        await producer.flush()
    finally:
        await producer.stop()
    return [str(customer_id) for customer_id in ids]


class EffectLog:
    """A scratch table with one row per application of the handler: duplicates would show."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def create(self) -> None:
        async with self.db.transaction() as session:
            await session.execute(text("CREATE TABLE effect_log (customer_id VARCHAR(36) NOT NULL)"))

    async def handler(self, ctx: EventContext, event: Any) -> None:
        await ctx.session.execute(
            text("INSERT INTO effect_log (customer_id) VALUES (:id)"), {"id": str(event.customer_id)}
        )

    async def counts(self) -> dict[str, int]:
        async with self.db.transaction() as session:
            rows = await session.execute(text("SELECT customer_id, count(*) FROM effect_log GROUP BY customer_id"))
            return {row[0]: int(row[1]) for row in rows}


def consumer_for(db: Database, bootstrap: str, effects: EffectLog, **overrides: Any) -> InboxConsumer:
    settings = settings_class("credit")(
        kafka_bootstrap_servers=bootstrap,
        consumer_retry_backoff_seconds=0.05,
        consumer_max_retry_backoff_seconds=0.5,
        log_json=False,
        **overrides,
    )
    return InboxConsumer(db, settings, CLOCK, {CustomerRegistered: [effects.handler]})


async def all_applied(effects: EffectLog, ids: list[str]) -> dict[str, int] | None:
    counts = await effects.counts()
    return counts if all(customer_id in counts for customer_id in ids) else None


async def stopped(consumer: InboxConsumer, task: asyncio.Task[None]) -> None:
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await consumer.stop()


@pytest.mark.parametrize(("attempt", "delay"), [(1, 0.2), (2, 0.4), (3, 0.8), (6, 6.4), (9, 30.0), (500, 30.0)])
def test_retry_delay_doubles_up_to_its_cap(attempt: int, delay: float) -> None:
    assert retry_delay(attempt, 0.2, 30.0) == pytest.approx(delay)


async def test_database_outage_longer_than_any_retry_budget_dead_letters_nothing_and_applies_once(
    databases: DatabaseFactory, fresh_broker: EmbeddedBroker
) -> None:
    from shared.events.customers import CustomerRegistered as Registered

    await create_suite_topics(fresh_broker.bootstrap)
    async with running_service(
        "credit",
        await databases.create("credit"),
        bootstrap=fresh_broker.bootstrap,
        consumer_retry_backoff_seconds=0.05,
        consumer_max_retry_backoff_seconds=0.3,
    ) as credit:
        effects = EffectLog(credit.runtime.db)
        await effects.create()
        failures: list[int] = []
        outage = asyncio.Event()
        outage.set()

        async def database_down(ctx: EventContext, event: Any) -> None:
            if outage.is_set():
                failures.append(1)
                raise OperationalError("INSERT ...", {}, ConnectionRefusedError("connection refused"))

        credit.runtime.consumer.handlers[Registered.event_type] += [database_down, effects.handler]
        ids = await publish(fresh_broker.bootstrap, 3)
        # Far more failures than the old 5 attempts: the events wait, the partition is paused.
        await eventually(lambda: _at_least(failures, 12), timeout=60, what="a dozen failed tries")
        ready = await credit.client.get("/readyz")
        assert ready.status_code == 503
        assert "retrying" in ready.json()["checks"]["consumer"]
        assert "OperationalError" in ready.json()["checks"]["consumer"]
        scraped = (await credit.client.get("/metrics")).text
        assert 'creditflow_consumer_retrying{service="credit"} 1.0' in scraped
        assert await effects.counts() == {}

        outage.clear()  # the database is back
        counts = await eventually(lambda: all_applied(effects, ids), timeout=60, what="every effect after recovery")
        assert counts == dict.fromkeys(ids, 1)
        await eventually(lambda: _ready(credit.client), timeout=30, what="/readyz 200 again")
        scraped = (await credit.client.get("/metrics")).text
        assert 'creditflow_consumer_retrying{service="credit"} 0.0' in scraped
        assert await read_topic(fresh_broker.bootstrap, "creditflow.credit.dlq", 1, timeout_ms=1500) == []


async def _at_least(items: list[int], n: int) -> bool:
    return len(items) >= n


async def _ready(client: Any) -> bool:
    return (await client.get("/readyz")).status_code == 200


async def test_consumer_killed_between_its_database_commit_and_its_offset_commit_applies_each_event_once(
    databases: DatabaseFactory, fresh_broker: EmbeddedBroker
) -> None:
    await create_suite_topics(fresh_broker.bootstrap)
    db = Database(await databases.create("credit"))
    try:
        effects = EffectLog(db)
        await effects.create()
        ids = await publish(fresh_broker.bootstrap, 40)
        first = consumer_for(db, fresh_broker.bootstrap, effects, consumer_batch_size=10)
        commits: list[int] = []
        real_commit = first._commit
        hang = asyncio.Event()

        async def commit_then_die(positions: Any) -> None:
            commits.append(1)
            if len(commits) >= 2:  # the second fetch is in the database, its offsets never reach the broker
                hang.set()
                await asyncio.Event().wait()
            await real_commit(positions)

        first._commit = commit_then_die  # type: ignore[method-assign]
        task = asyncio.create_task(first.run())
        await asyncio.wait_for(hang.wait(), 60)
        await stopped(first, task)  # killed: no offset commit for what it applied last
        applied_before = await effects.counts()
        assert 10 <= sum(applied_before.values()) < 40

        second = consumer_for(db, fresh_broker.bootstrap, effects, consumer_batch_size=10)
        task = asyncio.create_task(second.run())
        try:
            counts = await eventually(lambda: all_applied(effects, ids), timeout=60, what="every event applied")
        finally:
            await stopped(second, task)
        assert counts == dict.fromkeys(ids, 1)
    finally:
        await db.dispose()


async def test_two_consumers_in_one_group_across_rebalances_apply_each_event_once(
    databases: DatabaseFactory, fresh_broker: EmbeddedBroker
) -> None:
    await create_suite_topics(fresh_broker.bootstrap)
    db = Database(await databases.create("credit"))
    try:
        effects = EffectLog(db)
        await effects.create()
        one = consumer_for(db, fresh_broker.bootstrap, effects, consumer_batch_size=5)
        two = consumer_for(db, fresh_broker.bootstrap, effects, consumer_batch_size=5)
        ids = await publish(fresh_broker.bootstrap, 20)
        task_one = asyncio.create_task(one.run())
        await eventually(lambda: _some_applied(effects), timeout=60, what="the first consumer at work")
        task_two = asyncio.create_task(two.run())  # joins: the partitions are shared out again
        ids += await publish(fresh_broker.bootstrap, 20)
        await eventually(lambda: _assigned(two), timeout=60, what="the second consumer's partitions")
        await stopped(one, task_one)  # leaves: the second takes every partition
        ids += await publish(fresh_broker.bootstrap, 20)
        try:
            counts = await eventually(lambda: all_applied(effects, ids), timeout=90, what="every event applied")
        finally:
            await stopped(two, task_two)
        assert counts == dict.fromkeys(ids, 1)
    finally:
        await db.dispose()


async def _some_applied(effects: EffectLog) -> bool:
    return bool(await effects.counts())


async def _assigned(consumer: InboxConsumer) -> bool:
    return consumer.consumer is not None and bool(consumer.consumer.assignment())


async def test_dlq_list_show_and_redrive_apply_a_refused_event_once_it_is_accepted(
    databases: DatabaseFactory, fresh_broker: EmbeddedBroker
) -> None:
    from typer.testing import CliRunner

    from shared.cli import app as cli
    from shared.errors import PermanentEventError

    await create_suite_topics(fresh_broker.bootstrap)
    db = Database(await databases.create("credit"))
    refusing = True

    class Refusing(EffectLog):
        async def handler(self, ctx: EventContext, event: Any) -> None:
            if refusing:
                raise PermanentEventError("no such region yet")
            await super().handler(ctx, event)

    try:
        effects = Refusing(db)
        await effects.create()
        consumer = consumer_for(db, fresh_broker.bootstrap, effects)
        consumer.handlers[CustomerRegistered.event_type] = [effects.handler]
        task = asyncio.create_task(consumer.run())
        try:
            ids = await publish(fresh_broker.bootstrap, 2)
            await eventually(
                lambda: read_topic(fresh_broker.bootstrap, "creditflow.credit.dlq", 2, timeout_ms=1000),
                timeout=60,
                what="both refusals on the DLQ",
            )
            env = {"CREDITFLOW_CREDIT_KAFKA_BOOTSTRAP_SERVERS": fresh_broker.bootstrap}
            runner = CliRunner()
            listed = await asyncio.to_thread(runner.invoke, cli, ["dlq", "list", "credit"], env=env)
            assert listed.exit_code == 0, listed.output
            lines = [json.loads(line) for line in listed.output.splitlines()]
            assert sorted(line["key"] for line in lines) == sorted(ids)
            assert all("no such region yet" in line["error"] for line in lines)
            assert {line["original_topic"] for line in lines} == {"creditflow.customers"}
            shown = await asyncio.to_thread(
                runner.invoke, cli, ["dlq", "show", "credit", str(lines[0]["offset"])], env=env
            )
            assert shown.exit_code == 0, shown.output
            assert json.loads(shown.output)["headers"]["ce_type"] == CustomerRegistered.event_type

            refusing = False  # the rule was fixed: redrive both, one of them twice
            for args in (
                ["dlq", "redrive", "credit"],
                ["dlq", "redrive", "credit", "--offset", str(lines[0]["offset"])],
            ):
                redriven = await asyncio.to_thread(runner.invoke, cli, args, env=env)
                assert redriven.exit_code == 0, redriven.output
            counts = await eventually(lambda: all_applied(effects, ids), timeout=60, what="the redriven events")
            await asyncio.sleep(1)  # the third copy has had time to arrive: it must change nothing
            assert await effects.counts() == dict.fromkeys(ids, 1) == counts
        finally:
            await stopped(consumer, task)
    finally:
        await db.dispose()


async def test_a_backlog_is_applied_in_fetches_larger_than_500_events(
    databases: DatabaseFactory, fresh_broker: EmbeddedBroker
) -> None:
    """Under a backlog a fetch's fixed cost (inbox statement, grouped reads, commit) is spread over up to 1,000
    events (the default ``consumer_batch_size``; it was 500)."""
    await create_suite_topics(fresh_broker.bootstrap)
    db = Database(await databases.create("credit"))
    try:
        effects = EffectLog(db)
        await effects.create()
        ids = await publish(fresh_broker.bootstrap, 1500)
        consumer = consumer_for(db, fresh_broker.bootstrap, effects)
        sizes: list[int] = []
        process = consumer.process

        async def counted(records: Any) -> None:
            sizes.append(len(records))
            await process(records)

        consumer.process = counted  # type: ignore[method-assign]
        task = asyncio.create_task(consumer.run())
        try:
            counts = await eventually(lambda: all_applied(effects, ids), timeout=60, what="every event applied")
        finally:
            await stopped(consumer, task)
        assert counts == dict.fromkeys(ids, 1)
        assert max(sizes) > 500 and max(sizes) <= 1000, sizes
    finally:
        await db.dispose()
