"""Invoices billing systems publish on ``creditflow.billing.invoices``, against the real broker and database.

CloudEvents and plain-JSON records are recorded through the bulk path; bad records land on the dead-letter
topic with their reason while the good ones around them are applied, once; redelivered records change nothing.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaProducer
from aiokafka.structs import ConsumerRecord
from sqlalchemy import text

from services.collections.intake import INVOICE_ISSUED, billing_intake
from services.collections.registry import Registry
from services.collections.settings import CollectionsSettings
from shared.broker import EmbeddedBroker, free_port
from shared.consumer import InboxConsumer
from shared.dlq import read_dead_letters, redrive
from shared.events.customers import CustomerRegistered
from shared.kafka import create_suite_topics, ensure_topics, make_producer
from tests.support.collections import WRITE, apply, create_invoice, invoice_body, known_customer
from tests.support.databases import DatabaseFactory
from tests.support.harness import ServiceHarness, running_service
from tests.support.topics import read_topic
from tests.support.waiting import eventually

pytestmark = pytest.mark.broker

TOPIC = "creditflow.billing.invoices"
DLQ = "creditflow.collections.dlq"
Message = tuple[bytes | None, bytes, list[tuple[str, bytes]]]


@pytest.fixture
def fresh_broker(broker_factory: type[EmbeddedBroker]) -> Iterator[EmbeddedBroker]:
    yield broker_factory(free_port()).start()


def cloudevent(invoice: dict[str, Any], event_id: str | None = None, event_type: str = INVOICE_ISSUED) -> Message:
    headers = [
        ("ce_id", (event_id or str(uuid.uuid4())).encode()),
        ("ce_source", b"/billing/erp"),
        ("ce_type", event_type.encode()),
        ("ce_specversion", b"1.0"),
        ("ce_time", datetime.now(UTC).isoformat().encode()),
        ("content-type", b"application/json"),
    ]
    return str(invoice.get("customer_id")).encode(), json.dumps(invoice).encode(), headers


def plain(invoice: dict[str, Any] | str) -> Message:
    value = invoice if isinstance(invoice, str) else json.dumps(invoice)
    key = None if isinstance(invoice, str) else str(invoice.get("customer_id")).encode()
    return key, value.encode(), []


async def publish(bootstrap: str, messages: list[Message]) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap)
    await producer.start()
    try:
        # One partition: the records arrive in this order, the bad ones between good ones.
        for key, value, headers in messages:
            await producer.send(TOPIC, value=value, key=key, headers=headers, partition=0)
        await producer.flush()
    finally:
        await producer.stop()


async def numbers(h: ServiceHarness, customer_id: str) -> list[tuple[str, str]]:
    response = await h.client.get("/v1/invoices", params={"customer_id": customer_id}, headers=h.auth(*WRITE))
    assert response.status_code == 200, response.text
    return sorted((item["number"], item["amount"]) for item in response.json()["items"])


async def test_cloudevents_and_plain_json_invoices_are_recorded_and_bad_records_dead_lettered_with_why(
    databases: DatabaseFactory, fresh_broker: EmbeddedBroker
) -> None:
    await create_suite_topics(fresh_broker.bootstrap)
    async with running_service(
        "collections",
        await databases.create("collections"),
        bootstrap=fresh_broker.bootstrap,
        sweep_enabled=False,
        billing_wait_for_customer=False,  # an unknown customer's invoice is dead-lettered (waiting: below)
    ) as h:
        a, b = await known_customer(h), await known_customer(h)
        await create_invoice(h, a, number="INV-OLD", amount="100.00")
        first_event_id, latecomer = str(uuid.uuid4()), str(uuid.uuid4())
        good_ce = invoice_body(a, number="INV-1", amount="1200.50")
        good_json = invoice_body(b, number="INV-2", amount="300.00", due_date=None, credit_terms="n/45")
        messages = [
            cloudevent(good_ce, first_event_id),
            plain(good_json),
            plain(invoice_body(latecomer, number="INV-3")),  # unknown customer (no registry configured)
            plain("{not json"),
            plain(invoice_body(b, number="INV-5", amount="-5.00")),  # schema: amounts are positive
            plain(invoice_body(a, number="inv-old ", amount="999.00")),  # same number, other content
            plain(invoice_body(a, number="INV-OLD", amount="100")),  # same content: a redelivery
            cloudevent(good_ce, first_event_id),  # the same CloudEvent again
            plain(good_json),  # the same plain record again
            plain(invoice_body(b, number="INV-6", issue_date="2026-02-01", due_date="2026-01-01")),
            cloudevent(invoice_body(a, number="INV-7"), event_type="creditflow.billing.invoice_voided.v1"),
            plain(invoice_body(b, number="INV-4", amount="42.00")),
        ]
        await publish(fresh_broker.bootstrap, messages)

        async def all_recorded() -> bool:
            return len(await numbers(h, a)) == 2 and len(await numbers(h, b)) == 2

        await eventually(all_recorded, timeout=60, what="the four good invoices")
        letters = await read_topic(fresh_broker.bootstrap, DLQ, 6, timeout_ms=30_000)
        reasons = {
            int(headers["dlq_original_offset"]): headers
            for headers in ({name: raw.decode() for name, raw in record.headers} for record in letters)
        }
        assert sorted(reasons) == [2, 3, 4, 5, 9, 10]
        assert all(reasons[offset]["dlq_original_topic"] == TOPIC for offset in reasons)
        errors = [reasons[offset]["dlq_error"] for offset in sorted(reasons)]
        assert "is not known to the registry" in errors[0]
        assert "json" in errors[1].lower()
        assert "amount" in errors[2]
        assert "duplicate invoice number" in errors[3] and "different content" in errors[3]
        assert "before the issue date" in errors[4]
        assert "unknown event type" in errors[5]

        assert await numbers(h, a) == [("INV-1", "1200.50"), ("INV-OLD", "100.00")]
        assert await numbers(h, b) == [("INV-2", "300.00"), ("INV-4", "42.00")]
        listed = (await h.client.get("/v1/invoices", params={"customer_id": b}, headers=h.auth(*WRITE))).json()
        assert {item["number"]: item["due_date"] for item in listed["items"]}["INV-2"] == "2026-02-15"  # n/45
        issued = [t for t in await h.outbox_types() if t.endswith("invoice_issued.v1")]
        assert len(issued) == 4  # INV-OLD over HTTP, then INV-1, INV-2, INV-4 from the topic, once each
        assert "creditflow.collections.receivables_changed.v1" in await h.outbox_types()

        # Kafka redelivers the good records (a consumer that died before committing its offsets): a no-op.
        records = await read_topic(fresh_broker.bootstrap, TOPIC, len(messages))
        assert len(records) == len(messages)
        await h.runtime.consumer.process([r for r in records if r.offset in (0, 1, 6, 7, 8, 11)])
        assert await numbers(h, a) == [("INV-1", "1200.50"), ("INV-OLD", "100.00")]
        assert await numbers(h, b) == [("INV-2", "300.00"), ("INV-4", "42.00")]
        assert len([t for t in await h.outbox_types() if t.endswith("invoice_issued.v1")]) == 4
        assert len(await read_topic(fresh_broker.bootstrap, DLQ, 7, timeout_ms=1500)) == 6

        # The unknown customer's registration arrives later; its dead letter, redriven, is applied then.
        await apply(
            h,
            CustomerRegistered(
                customer_id=uuid.UUID(latecomer), name="Latecomer Ltd.", kind="commercial", lifecycle="active"
            ),
        )
        [letter] = [
            letter for letter in await read_dead_letters(h.settings) if letter.header("dlq_original_offset") == "2"
        ]
        assert await redrive(h.settings, [letter]) == 1

        async def redriven() -> list[tuple[str, str]]:
            return await numbers(h, latecomer)

        assert await eventually(redriven, timeout=60, what="the redriven invoice") == [("INV-3", "60000.00")]


class RegistryOutage(httpx.AsyncBaseTransport):
    """The real customers app behind a network that refuses connections while ``down`` is set."""

    def __init__(self, app: Any) -> None:
        self.inner = httpx.ASGITransport(app=app)
        self.down = asyncio.Event()
        self.refused = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if self.down.is_set():
            self.refused += 1
            raise httpx.ConnectError("connection refused", request=request)
        return await self.inner.handle_async_request(request)


async def test_an_invoice_for_a_customer_collections_has_not_heard_of_is_recorded_through_the_registry(
    databases: DatabaseFactory, fresh_broker: EmbeddedBroker
) -> None:
    """The registration event may still be on its way: the registry is asked, as for the HTTP path; while it
    cannot be asked the records wait (retried, never dead-lettered)."""
    await create_suite_topics(fresh_broker.bootstrap)
    async with (
        running_service("customers", await databases.create("customers")) as customers,
        running_service(
            "collections",
            await databases.create("collections"),
            bootstrap=fresh_broker.bootstrap,
            sweep_enabled=False,
            billing_intake_enabled=False,  # the intake below asks the in-process registry
            registry_url="http://customers.test",
        ) as h,
    ):
        settings = h.settings
        assert isinstance(settings, CollectionsSettings)
        network = RegistryOutage(customers.app)
        network.down.set()
        registry = Registry(settings, transport=network)
        consumer = InboxConsumer(h.runtime.db, settings, h.clock, {}, [billing_intake(settings, registry)])
        await ensure_topics(settings, {TOPIC: 1})
        task = asyncio.create_task(consumer.run())
        try:
            created = await customers.client.post(
                "/v1/customers",
                json={"name": "Acme Trading Co.", "kind": "commercial", "lifecycle": "active"},
                headers=customers.auth("customers:write"),
            )
            assert created.status_code == 201, created.text
            customer_id = created.json()["id"]
            await publish(
                fresh_broker.bootstrap,
                [cloudevent(invoice_body(customer_id, number="INV-R1")), plain(invoice_body(str(uuid.uuid4())))],
            )

            async def retrying() -> bool:
                return consumer.retrying and network.refused >= 3

            await eventually(retrying, timeout=60, what="the consumer retrying while the registry is down")
            assert await numbers(h, customer_id) == []
            assert await read_topic(fresh_broker.bootstrap, DLQ, 1, timeout_ms=1000) == []
            network.down.clear()

            async def recorded() -> list[tuple[str, str]]:
                return await numbers(h, customer_id)

            assert await eventually(recorded, timeout=60, what="the invoice") == [("INV-R1", "60000.00")]

            # The registry does not have the other customer (yet): its invoice waits for the registration.
            async def waiting() -> int:
                return await h.count("billing_records_waiting")

            assert await eventually(waiting, timeout=60, what="the other invoice to wait") == 1
            assert await read_topic(fresh_broker.bootstrap, DLQ, 1, timeout_ms=1000) == []
        finally:
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            await consumer.stop()


async def test_a_fetch_with_bad_records_is_applied_in_one_transaction_plus_one_per_round_of_refusals(
    databases: DatabaseFactory, fresh_broker: EmbeddedBroker
) -> None:
    """Bad records do not drop a fetch to one transaction per record: unreadable ones are parked after the batch
    commits, refused ones are left out of one more try."""
    await create_suite_topics(fresh_broker.bootstrap)
    async with running_service("collections", await databases.create("collections"), sweep_enabled=False) as h:
        customer = await known_customer(h)
        settings = CollectionsSettings(
            kafka_bootstrap_servers=fresh_broker.bootstrap, log_json=False, billing_wait_for_customer=False
        )
        consumer = InboxConsumer(h.runtime.db, settings, h.clock, {}, [billing_intake(settings)])
        consumer.dlq_producer = make_producer(settings, client_id="test-dlq")
        await consumer.dlq_producer.start()
        transactions: list[int] = []
        apply_batch = consumer._apply

        async def counted(envelopes: Any) -> None:
            transactions.append(len(envelopes))
            await apply_batch(envelopes)

        consumer._apply = counted  # type: ignore[method-assign]
        try:
            good = [plain(invoice_body(customer, number=f"F-{n}")) for n in range(6)]
            unreadable, unknown = plain("[1, 2"), plain(invoice_body(str(uuid.uuid4()), number="F-X"))
            fetch = [good[0], unreadable, good[1], good[2]]
            await consumer.process([consumer_record(offset, message) for offset, message in enumerate(fetch)])
            assert transactions == [3]
            fetch = [good[3], unknown, good[4], good[5]]
            await consumer.process([consumer_record(10 + offset, message) for offset, message in enumerate(fetch)])
            assert transactions == [3, 4, 3]  # refused once, the other three applied in one more transaction
        finally:
            await consumer.dlq_producer.stop()
        assert len(await numbers(h, customer)) == 6
        letters = await read_topic(fresh_broker.bootstrap, DLQ, 2, timeout_ms=15_000)
        assert sorted(int(dict(r.headers)["dlq_original_offset"]) for r in letters) == [1, 11]


async def test_an_invoice_for_a_customer_not_registered_yet_waits_and_is_recorded_at_its_registration(
    databases: DatabaseFactory, fresh_broker: EmbeddedBroker
) -> None:
    """Billing may publish before the registration reaches collections (no registry read-through): the invoice
    waits, once however often it is redelivered, and is recorded when ``customer_registered`` arrives, in the
    order published; one that cannot be recorded then stays, refused, with the reason. Nothing is dead-lettered."""
    await create_suite_topics(fresh_broker.bootstrap)
    async with running_service(
        "collections", await databases.create("collections"), bootstrap=fresh_broker.bootstrap, sweep_enabled=False
    ) as h:
        known, latecomer = await known_customer(h), str(uuid.uuid4())
        first = cloudevent(invoice_body(latecomer, number="L-1", amount="100.00"))
        messages = [
            first,
            plain(invoice_body(known, number="K-1", amount="10.00")),
            plain(invoice_body(latecomer, number="L-2", amount="200.00")),
            first,  # redelivered
        ]
        await publish(fresh_broker.bootstrap, messages)

        async def settled() -> bool:
            return await numbers(h, known) == [("K-1", "10.00")] and await h.count("billing_records_waiting") == 2

        await eventually(settled, timeout=60, what="K-1 recorded and the latecomer's two records waiting")
        # L-2 again with other content, in a later fetch (in the same fetch it is refused at once, as for anyone)
        await publish(fresh_broker.bootstrap, [plain(invoice_body(latecomer, number="l-2 ", amount="999.00"))])

        async def three() -> bool:
            return await h.count("billing_records_waiting") == 3

        await eventually(three, timeout=60, what="the third record to wait")
        assert await numbers(h, latecomer) == []
        metrics = (await h.client.get("/metrics", headers=h.auth("admin"))).text
        assert 'creditflow_billing_records_waiting{service="collections",status="waiting"} 3.0' in metrics

        registered = CustomerRegistered(
            customer_id=uuid.UUID(latecomer), name="Latecomer Ltd.", kind="commercial", lifecycle="active"
        )
        await apply(h, registered)
        assert await numbers(h, latecomer) == [("L-1", "100.00"), ("L-2", "200.00")]
        issued = [t for t in await h.outbox_types() if t.endswith("invoice_issued.v1")]
        assert len(issued) == 3  # K-1, L-1, L-2: once each
        async with h.runtime.db.transaction(read_only=True) as session:
            rows = (await session.execute(text("SELECT status, reason, invoice FROM billing_records_waiting"))).all()
        [(status, reason, invoice)] = rows
        assert status == "refused" and "another record says otherwise" in reason and '"999.00"' in invoice
        metrics = (await h.client.get("/metrics", headers=h.auth("admin"))).text
        assert 'creditflow_billing_records_waiting{service="collections",status="waiting"} 0.0' in metrics
        assert 'creditflow_billing_records_waiting{service="collections",status="refused"} 1.0' in metrics
        assert await read_topic(fresh_broker.bootstrap, DLQ, 1, timeout_ms=1000) == []

        await apply(h, registered)  # the registration again (a replay): nothing recorded twice
        assert await numbers(h, latecomer) == [("L-1", "100.00"), ("L-2", "200.00")]


def consumer_record(offset: int, message: Message) -> ConsumerRecord[Any, Any]:
    key, value, headers = message
    return ConsumerRecord(
        topic=TOPIC,
        partition=0,
        offset=offset,
        timestamp=0,
        timestamp_type=0,
        key=key,
        value=value,
        checksum=None,
        serialized_key_size=0,
        serialized_value_size=len(value),
        headers=headers,
    )
