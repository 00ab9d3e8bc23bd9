"""Events in milliseconds, and consumers per event type.

* latency: customers and collections run in-process with the real broker (relay, consumer); a customer
  is created over HTTP and the time from its commit (the 201) until collections' directory holds it is
  measured, one customer at a time. The relay's fallback poll is set to 1 s, so what is measured is the
  wake-up by the commit (and LISTEN/NOTIFY on PostgreSQL), not polling.
* consumers: N ``stage_entered`` (and ``receivables_changed``) events for many customers are put on the
  collections topic; credit's and customers' inbox consumers apply them; events/s from the first
  applied batch (group join is start-up cost). Target: >= 2,000 events/s for every type.
* sweep: the events of a REAL sweep (``bench/sweep_events.py``: every type it emits, every consumer that
  handles one, collections' own stage handlers included) per consumer and type, and the derived time each
  service needs for the events of a 1,000,000-invoice sweep of the same shape (target: 5 minutes).

    .venv/bin/python -m bench.events_bench [--database sqlite|postgresql|both] [--events 20000] [--samples 200]
                                           [--sweep-invoices 2000] [--parts latency,consumers,sweep]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
import uuid
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from aiokafka import AIOKafkaProducer
from sqlalchemy import select

from bench import sweep_events
from bench.common import Figure, applied_rate, table
from bench.get_bench import factory_for
from shared.broker import EmbeddedBroker, free_port
from shared.clock import SystemClock
from shared.cloudevents import to_kafka_message
from shared.consumer import InboxConsumer
from shared.db import Database
from shared.events.base import Event
from shared.events.collections import ReceivablesChanged, StageEntered
from shared.kafka import create_suite_topics
from shared.registry import settings_class
from shared.tables import inbox
from tests.support.harness import running_service

STAGES = ("letter", "visit", "agency", "arbitration", "litigation")


async def latency(database: str, bootstrap: str, samples: int) -> list[Figure]:
    from services.collections.models import KnownCustomer

    factory = factory_for(database)
    options = {
        "relay_poll_interval_seconds": 1.0,
        "relay_broker_check_interval_seconds": 10.0,
        "clock": SystemClock(),
    }
    try:
        async with (
            running_service(
                "customers", await factory.create("customers"), bootstrap=bootstrap, **options
            ) as customers,
            running_service(
                "collections", await factory.create("collections"), bootstrap=bootstrap, **options
            ) as collections,
        ):
            headers = customers.auth("customers:write")
            # The effect is visible when collections' consumer commits the batch that holds the event: time
            # that commit (wrapping the consumer's unit of work) instead of polling the database, which
            # would compete with the services for this one event loop.
            consumer = collections.runtime.consumer
            applied_at: dict[uuid.UUID, float] = {}
            arrived = asyncio.Event()
            apply = consumer._apply

            async def timed_apply(envelopes: Any) -> None:
                await apply(envelopes)
                now = time.perf_counter()
                for envelope in envelopes:
                    applied_at.setdefault(envelope.data.customer_id, now)
                arrived.set()

            consumer._apply = timed_apply  # type: ignore[method-assign]
            # The commit time of customers' transaction: the moment it wakes its relay (shared/db.py).
            committed_at: list[float] = []
            wake = customers.runtime.db.outbox_committed
            wake_set = wake.set

            def timed_set() -> None:
                committed_at.append(time.perf_counter())
                wake_set()

            wake.set = timed_set  # type: ignore[method-assign]

            async def create_and_wait(n: int, deadline: float) -> float:
                body = {"name": f"Latency {n}", "kind": "commercial", "lifecycle": "active", "tax_id": f"L-{n}"}
                committed_at.clear()
                response = await customers.client.post("/v1/customers", json=body, headers=headers)
                assert response.status_code == 201, response.text
                committed = committed_at[0]
                customer_id = uuid.UUID(response.json()["id"])
                async with asyncio.timeout(deadline):
                    while customer_id not in applied_at:
                        arrived.clear()
                        await arrived.wait()
                async with collections.runtime.db.transaction(read_only=True) as session:
                    assert await session.scalar(select(KnownCustomer.id).where(KnownCustomer.id == customer_id))
                return applied_at[customer_id] - committed

            await create_and_wait(-1, 60.0)  # group join, topic metadata
            seen = []
            for n in range(samples):
                seen.append(await create_and_wait(n, 30.0) * 1000)
                await asyncio.sleep(0.02)
    finally:
        await factory.drop_all()
    seen.sort()
    p50, p99 = statistics.median(seen), seen[min(len(seen) - 1, int(len(seen) * 0.99))]
    print(f"{database} latency customer created -> collections knows it: p50 {p50:.1f} ms, p99 {p99:.1f} ms")
    path = "event latency: customer created -> collections knows it"
    return [
        Figure(f"{path}, p50", database, p50, "ms", max_value=20, note=f"{samples} samples"),
        Figure(f"{path}, p99", database, p99, "ms", max_value=100),
    ]


def _events(count: int, customers: int) -> list[Event]:
    ids = [uuid.uuid4() for _ in range(customers)]
    now = datetime.now(UTC)
    events: list[Event] = []
    for n in range(count):
        customer = ids[n % customers]
        if n % 5 == 4:
            events.append(
                ReceivablesChanged(
                    customer_id=customer,
                    currency="CNY",
                    open_receivables=Decimal("50000.00"),
                    overdue_amount=Decimal("20000.00"),
                    oldest_overdue_days=40,
                    highest_open_stage="visit",
                    as_of=now,
                )
            )
        else:
            events.append(
                StageEntered(
                    customer_id=customer,
                    case_id=uuid.uuid4(),
                    invoice_id=uuid.uuid4(),
                    stage=STAGES[(n // customers) % len(STAGES)],
                    rule="bench",
                    reason="overdue",
                    policy_version=1,
                    days_overdue=40,
                    currency="CNY",
                    amount=Decimal("5000.00"),
                    entered_at=now,
                )
            )
    return events


async def consumers(database: str, bootstrap: str, count: int) -> list[Figure]:
    """Each consumer applies a run of one type at a time: the events are published type by type."""
    events = _events(count, max(count // 20, 1))
    figures: list[Figure] = []
    for event_type in (StageEntered, ReceivablesChanged):
        chosen = [event for event in events if isinstance(event, event_type)]
        topic = event_type.topic()
        producer = AIOKafkaProducer(bootstrap_servers=bootstrap, linger_ms=5)
        await producer.start()
        try:
            now = datetime.now(UTC)
            futures = []
            for event in chosen:
                key, value, headers = to_kafka_message(
                    event_id=str(uuid.uuid4()),
                    event_type=event.event_type,
                    source="/creditflow/collections",
                    subject=str(event.customer_id),
                    occurred_at=now,
                    data=event.model_dump_json(),
                    key=str(event.customer_id),
                    extra_headers={},
                )
                futures.append(await producer.send(topic, value=value, key=key, headers=headers))
            await asyncio.gather(*futures)
        finally:
            await producer.stop()
        for service in ("credit", "customers"):
            handlers = __import__(f"services.{service}.handlers", fromlist=["EVENT_HANDLERS"]).EVENT_HANDLERS
            factory = factory_for(database)
            try:
                db = Database(await factory.create(service))
                # The service's own group: it continues, type after type, where the previous run committed.
                settings = settings_class(service)(kafka_bootstrap_servers=bootstrap)
                rate = await _consume(db, settings, {event_type: handlers[event_type]}, len(chosen))
                await db.dispose()
            finally:
                await factory.drop_all()
            name = event_type.event_type.split(".")[2]
            print(f"{database} {service} consumer, {name}: {rate:,.0f} events/s", flush=True)
            figures.append(Figure(f"{service} consumer, {name}", database, rate, "events/s", min_value=2000))
    return figures


async def _consume(db: Database, settings: object, handlers: dict, expected: int) -> float:
    consumer = InboxConsumer(db, settings, SystemClock(), handlers)  # type: ignore[arg-type]
    return await applied_rate(consumer, db, inbox, expected)


async def run(
    databases: list[str],
    events: int,
    samples: int,
    parts: tuple[str, ...] = ("latency", "consumers", "sweep"),
    sweep_invoices: int = 2000,
) -> list[Figure]:
    figures: list[Figure] = []
    for database in databases:
        # A broker per database: the previous run's consumer groups must not rebalance in this one's middle
        # (a departed member is only dropped after its session timeout: a pause of seconds).
        broker = EmbeddedBroker(free_port()).start()
        try:
            await create_suite_topics(broker.bootstrap)
            if "latency" in parts:
                figures += await latency(database, broker.bootstrap, samples)
            if "consumers" in parts:
                figures += await consumers(database, broker.bootstrap, events)
            if "sweep" in parts:
                customers = max(sweep_invoices // 2, 1)
                figures += await sweep_events.measure(database, broker.bootstrap, customers, sweep_invoices)
        finally:
            broker.stop()
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--events", type=int, default=20000)
    parser.add_argument("--samples", type=int, default=200)
    parser.add_argument("--sweep-invoices", type=int, default=2000, help="invoices of the swept database")
    parser.add_argument("--parts", default="latency,consumers,sweep", help="comma-separated: latency, consumers, sweep")
    args = parser.parse_args()
    databases = ["sqlite", "postgresql"] if args.database == "both" else [args.database]
    parts = tuple(args.parts.split(","))
    print(table(asyncio.run(run(databases, args.events, args.samples, parts, args.sweep_invoices))))


if __name__ == "__main__":
    main()
