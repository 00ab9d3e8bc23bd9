"""Outbox and inbox against the real broker and the real database (SQLite or PostgreSQL).

customers produces ``customer_registered``; credit consumes it into its directory.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime

import pytest
from aiokafka import AIOKafkaProducer
from sqlalchemy import func, select

from shared.broker import EmbeddedBroker, free_port
from shared.kafka import create_suite_topics
from shared.outbox import OutboxRelay, emit, mark_for_replay
from shared.tables import inbox, outbox
from tests.support.customers import known_to_credit, register
from tests.support.databases import DatabaseFactory
from tests.support.harness import ServiceHarness, running_service
from tests.support.topics import read_topic
from tests.support.waiting import eventually

pytestmark = pytest.mark.broker


async def inbox_rows(credit: ServiceHarness) -> int:
    async with credit.runtime.db.transaction() as session:
        return int(await session.scalar(select(func.count()).select_from(inbox)) or 0)


async def unpublished(harness: ServiceHarness) -> int:
    async with harness.runtime.db.transaction() as session:
        return int(
            await session.scalar(select(func.count()).select_from(outbox).where(outbox.c.published_at.is_(None))) or 0
        )


async def test_event_reaches_credit_with_cloudevents_headers(
    databases: DatabaseFactory, broker: EmbeddedBroker
) -> None:
    async with (
        running_service("customers", await databases.create("customers"), bootstrap=broker.bootstrap) as cu,
        running_service("credit", await databases.create("credit"), bootstrap=broker.bootstrap) as cr,
    ):
        customer_id = await register(cu)
        await eventually(lambda: known_to_credit(cr, customer_id), what="credit to learn the customer")
        async with cu.runtime.db.transaction() as session:
            row = (await session.execute(select(outbox))).one()
        assert row.published_at is not None and row.kafka_offset is not None
    records = [
        r for r in await read_topic(broker.bootstrap, "creditflow.customers", 1) if r.key == customer_id.encode()
    ]
    assert len(records) == 1
    headers = dict(records[0].headers)
    assert headers["ce_type"] == b"creditflow.customers.customer_registered.v1"
    assert headers["ce_specversion"] == b"1.0"
    assert headers["ce_source"] == b"/creditflow/customers"
    assert headers["ce_subject"] == customer_id.encode()
    assert headers["content-type"] == b"application/json"
    assert headers["traceparent"].startswith(b"00-") and headers["x-request-id"]
    assert json.loads(records[0].value)["customer_id"] == customer_id


async def test_relay_killed_between_commit_and_publish_still_delivers_once(
    databases: DatabaseFactory, broker: EmbeddedBroker
) -> None:
    customers_db = await databases.create("customers")
    async with running_service("customers", customers_db, bootstrap=broker.bootstrap, relay_enabled=False) as cu:
        customer_id = await register(cu)
        assert await unpublished(cu) == 1  # committed, never published: the relay "died" here
    async with running_service("credit", await databases.create("credit"), bootstrap=broker.bootstrap) as cr:
        async with running_service("customers", customers_db, bootstrap=broker.bootstrap) as cu:
            await eventually(lambda: known_to_credit(cr, customer_id), what="the event after the relay restart")
            assert await unpublished(cu) == 0
        assert await inbox_rows(cr) == 1


async def test_published_but_not_marked_is_republished_and_applied_once(
    databases: DatabaseFactory, broker: EmbeddedBroker
) -> None:
    async with (
        running_service(
            "customers", await databases.create("customers"), bootstrap=broker.bootstrap, relay_enabled=False
        ) as cu,
        running_service("credit", await databases.create("credit"), bootstrap=broker.bootstrap) as cr,
    ):
        customer_id = await register(cu)
        relay = OutboxRelay(cu.runtime.db, cu.settings, cu.clock)
        try:
            assert await relay.relay_once() == 1
            # The crash: the broker has the event but the outbox forgets it was sent.
            assert await mark_for_replay(cu.runtime.db, datetime(2000, 1, 1, tzinfo=UTC)) == 1
            assert await relay.relay_once() == 1
        finally:
            await relay.stop()
        await eventually(lambda: known_to_credit(cr, customer_id), what="credit to apply the event")
        copies = [
            r for r in await read_topic(broker.bootstrap, "creditflow.customers", 2) if r.key == customer_id.encode()
        ]
        assert len(copies) == 2 and dict(copies[0].headers)["ce_id"] == dict(copies[1].headers)["ce_id"]
        await eventually(
            lambda: _consumed_offset_past(cr, copies[1].offset, copies[1].partition), what="credit to read both copies"
        )
        assert await inbox_rows(cr) == 1
        assert await cr.count("known_customers") == 1


async def _consumed_offset_past(credit: ServiceHarness, offset: int, partition: int) -> bool:
    consumer = credit.runtime.consumer.consumer
    if consumer is None:
        return False
    from aiokafka import TopicPartition

    committed = await consumer.committed(TopicPartition("creditflow.customers", partition))
    return committed is not None and committed > offset


async def test_poison_message_goes_to_dlq_and_the_partition_moves_on(
    databases: DatabaseFactory, broker: EmbeddedBroker
) -> None:
    async with (
        running_service(
            "customers", await databases.create("customers"), bootstrap=broker.bootstrap, relay_enabled=False
        ) as cu,
        running_service("credit", await databases.create("credit"), bootstrap=broker.bootstrap) as cr,
    ):
        customer_id = await register(cu)
        producer = AIOKafkaProducer(bootstrap_servers=broker.bootstrap)
        await producer.start()
        try:
            poison_key = customer_id.encode()  # same key: same partition as the good event after it
            await producer.send_and_wait(
                "creditflow.customers",
                value=b"\x00not json",
                key=poison_key,
                headers=[
                    ("ce_type", b"creditflow.customers.customer_registered.v1"),
                    ("ce_id", b"poison-1"),
                    ("ce_source", b"/x"),
                    ("ce_specversion", b"1.0"),
                ],
            )
        finally:
            await producer.stop()
        relay = OutboxRelay(cu.runtime.db, cu.settings, cu.clock)
        try:
            await relay.relay_once()
        finally:
            await relay.stop()
        await eventually(lambda: known_to_credit(cr, customer_id), what="the good event after the poison one")
        dead = [
            r for r in await read_topic(broker.bootstrap, "creditflow.credit.dlq", 1) if r.key == customer_id.encode()
        ]
        assert len(dead) == 1
        headers = dict(dead[0].headers)
        assert headers["dlq_original_topic"] == b"creditflow.customers"
        assert b"unparseable" in headers["dlq_error"]
        assert headers["dlq_consumer"] == b"creditflow-credit"


async def test_handler_that_refuses_an_event_for_good_dead_letters_it_and_moves_on(
    databases: DatabaseFactory, broker: EmbeddedBroker
) -> None:
    from shared.errors import PermanentEventError
    from shared.events.customers import CustomerRegistered

    async with (
        running_service("customers", await databases.create("customers"), bootstrap=broker.bootstrap) as cu,
        running_service("credit", await databases.create("credit"), bootstrap=broker.bootstrap) as cr,
    ):
        doomed: set[str] = set()
        attempts: list[str] = []

        async def refusing(ctx, event) -> None:  # type: ignore[no-untyped-def]
            if str(event.customer_id) in doomed:
                attempts.append(str(event.customer_id))
                raise PermanentEventError("downstream rule refuses this customer")

        cr.runtime.consumer.handlers[CustomerRegistered.event_type].append(refusing)
        bad = await register(cu, 1)
        doomed.add(bad)
        good = await register(cu, 2)
        await eventually(lambda: known_to_credit(cr, good), what="the event after the refused one")
        dead = await eventually(lambda: _dlq_for(broker.bootstrap, bad), what="the refused event on the DLQ")
        headers = dict(dead[0].headers)
        assert b"downstream rule refuses this customer" in headers["dlq_error"]
        assert b"PermanentEventError" in headers["dlq_error"]
        assert not await known_to_credit(cr, bad)  # its effect rolled back with it
        assert 1 <= attempts.count(bad) <= 2  # the failed batch, then once alone: never retried


async def _dlq_for(bootstrap: str, customer_id: str) -> list:
    return [
        r
        for r in await read_topic(bootstrap, "creditflow.credit.dlq", 1, timeout_ms=1000)
        if r.key == customer_id.encode()
    ]


async def test_broker_outage_queues_in_outbox_and_broker_loss_is_republished(
    databases: DatabaseFactory, broker_factory: type[EmbeddedBroker]
) -> None:
    port = free_port()
    first = broker_factory(port).start()
    async with (
        running_service("customers", await databases.create("customers"), bootstrap=first.bootstrap) as cu,
        running_service("credit", await databases.create("credit"), bootstrap=first.bootstrap) as cr,
    ):
        before = await register(cu, 0)
        await eventually(lambda: known_to_credit(cr, before), what="the event before the outage")
        first.stop()  # memory-only: everything it held is gone
        during = [await register(cu, n) for n in (1, 2, 3)]  # the API keeps working
        await eventually(lambda: _pending_at_least(cu, 3), what="events to queue in the outbox")
        broker_factory(port).start()
        await create_suite_topics(first.bootstrap)  # as `creditflow broker` does when it starts
        for customer_id in during:
            await eventually(
                lambda cid=customer_id: known_to_credit(cr, cid),
                timeout=60,
                what="queued events to flow after the broker returns",
            )

        # The relay noticed the new broker lacks the event sent before the outage and sent it again.
        async def topic_keys() -> set[str]:
            keys = {
                r.key.decode() for r in await read_topic(first.bootstrap, "creditflow.customers", 4, timeout_ms=2000)
            }
            return keys if before in keys and set(during) <= keys else set()

        await eventually(topic_keys, timeout=60, what="the relay to republish what the broker lost")
        assert await inbox_rows(cr) == 4  # the replayed event was not applied twice
        assert await cr.count("known_customers") == 4


async def _pending_at_least(harness: ServiceHarness, n: int) -> bool:
    return await unpublished(harness) >= n


async def test_loss_is_detected_when_new_events_reuse_the_lost_offsets(
    databases: DatabaseFactory, broker_factory: type[EmbeddedBroker]
) -> None:
    """Before the restart A sits at (p, 0); after it B and C (same key, same partition) take (p, 0) and
    (p, 1). The newest offset holds the right event, so only checking it would miss that A is gone."""
    from shared.events.customers import CustomerRegistered

    port = free_port()
    first = broker_factory(port).start()
    await create_suite_topics(first.bootstrap)
    async with running_service(
        "customers", await databases.create("customers"), bootstrap=first.bootstrap, relay_enabled=False
    ) as cu:
        relay = OutboxRelay(cu.runtime.db, cu.settings, cu.clock)
        customer = uuid.uuid4()
        try:
            for name in ("A", "B", "C"):
                async with cu.runtime.db.transaction() as session:
                    await emit(
                        session,
                        CustomerRegistered(customer_id=customer, name=name, kind="commercial", lifecycle="active"),
                        at=cu.clock.now(),
                    )
                assert await relay.relay_once() == 1
                if name == "A":
                    assert await relay.check_broker_retention(force=True) == 0  # nothing lost yet
                    first.stop()
                    broker_factory(port).start()
                    await create_suite_topics(first.bootstrap)
                    await relay.stop()
                    relay = OutboxRelay(cu.runtime.db, cu.settings, cu.clock)
            async with cu.runtime.db.transaction() as session:
                positions = (await session.execute(select(outbox.c.kafka_partition, outbox.c.kafka_offset))).all()
            assert len(positions) == 3 and len(set(positions)) == 2  # A and B claim the same offset
            assert await relay.check_broker_retention(force=True) == 3  # A is gone: republish the retained rows
        finally:
            await relay.stop()
