"""The events of a real sweep, absorbed by every service's consumer: rate per consumer and event type.

A collections service (in process, no broker) gets N customers (half with an arbitration clause naming a
commission, half with a court clause) and M open invoices due 1..120 days before ``as_of`` (5,000,
20,000 or 60,000 each), then ``POST /v1/sweeps``: the sweep opens a case per invoice and moves each as
far as the policy allows, recording every stage it passes. Its outbox rows (``invoice_overdue``,
``case_opened``, ``stage_entered`` …, ``receivables_changed``) are put on the topic as the relay would,
type after type in the sweep's order, and each service's consumer (its own group, its own database;
collections' own stage handlers run against the swept database, where the cases are) applies the types
it handles. Reported per consumer and type (events/s from its first applied batch), and, DERIVED from
those rates and this sweep's mix of events per invoice, the seconds each service would need for the
events of a 1,000,000-invoice sweep of the same shape (target: 300 s).

    .venv/bin/python -m bench.sweep_events [--database sqlite|postgresql|both] [--invoices 2000]
"""

from __future__ import annotations

import argparse
import asyncio
import time
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from typing import Any

from aiokafka import AIOKafkaProducer
from sqlalchemy import func, select

from bench.common import Figure, table
from bench.get_bench import factory_for
from shared.broker import EmbeddedBroker, free_port
from shared.clock import FixedClock, SystemClock
from shared.cloudevents import to_kafka_message
from shared.consumer import InboxConsumer
from shared.db import Database
from shared.kafka import create_suite_topics
from shared.registry import settings_class
from shared.tables import inbox, outbox
from tests.support.collections import ADMIN, WRITE, known_customer
from tests.support.harness import running_service

AS_OF = date(2026, 6, 30)
NOW = datetime(2026, 6, 30, 9, tzinfo=UTC)
SERVICES = ("credit", "customers", "collections", "survey")
AMOUNTS = ("5000.00", "20000.00", "60000.00")
SWEEP_INVOICES = 1_000_000
TARGET_SECONDS = 300


async def swept_database(factory: Any, customers: int, invoices: int) -> tuple[str, list[Any]]:
    """A collections database after one sweep over ``invoices`` open invoices; the sweep's outbox rows."""
    url = await factory.create("collections")
    async with running_service("collections", url, clock=FixedClock(NOW)) as h:
        ids = [
            await known_customer(h, clause="arbitration", commission="CIETAC") if n % 2 else await known_customer(h)
            for n in range(customers)
        ]
        items = [
            {
                "customer_id": ids[n % customers],
                "number": f"SWEPT-{n}",
                "issue_date": (AS_OF - timedelta(days=30 + 1 + n % 120)).isoformat(),
                "due_date": (AS_OF - timedelta(days=1 + n % 120)).isoformat(),
                "currency": "CNY",
                "amount": AMOUNTS[n % len(AMOUNTS)],
            }
            for n in range(invoices)
        ]
        for start in range(0, invoices, 10_000):
            response = await h.client.post(
                "/v1/invoices/bulk", json={"invoices": items[start : start + 10_000]}, headers=h.auth(*WRITE)
            )
            assert response.status_code in (200, 201), response.text
        async with h.runtime.db.transaction() as session:
            mark = int(await session.scalar(select(func.coalesce(func.max(outbox.c.seq), 0))) or 0)
        response = await h.client.post("/v1/sweeps", json={"as_of": AS_OF.isoformat()}, headers=h.auth(*ADMIN))
        assert response.status_code == 200, response.text
        async with h.runtime.db.transaction() as session:
            rows = (await session.execute(select(outbox).where(outbox.c.seq > mark).order_by(outbox.c.seq))).all()
    return url, list(rows)


async def publish(bootstrap: str, rows: list[Any]) -> None:
    """Put outbox rows on their topics exactly as the relay would (key, headers, sequence)."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, linger_ms=5)
    await producer.start()
    try:
        futures = []
        for row in rows:
            key, value, headers = to_kafka_message(
                event_id=str(row.event_id),
                event_type=row.event_type,
                source=row.source,
                subject=row.subject,
                occurred_at=row.occurred_at,
                data=row.data,
                key=row.key,
                extra_headers={},
                sequence=row.seq,
            )
            futures.append(await producer.send(row.topic, value=value, key=key, headers=headers))
        await asyncio.gather(*futures)
    finally:
        await producer.stop()


async def consume(
    db: Database, service: str, bootstrap: str, handlers: dict[Any, Any], event_type: str, expected: int
) -> float:
    """Run the service's consumer (its group) until the ``expected`` events of ``event_type`` are in its inbox.

    events/s from the START of the first fetch that held one of them to the end of the last (parse, inbox,
    handlers, commit, and the fetches between): a run that fits in one fetch still gets a rate.
    """
    settings = settings_class(service)(kafka_bootstrap_servers=bootstrap)
    consumer = InboxConsumer(db, settings, SystemClock(), handlers)
    spans: list[tuple[float, float]] = []
    process = consumer.process
    wanted = event_type.encode()

    async def timed_process(records: Any) -> None:
        started = time.perf_counter()
        await process(records)
        if any((name, value) == ("ce_type", wanted) for record in records for name, value in record.headers):
            spans.append((started, time.perf_counter()))

    consumer.process = timed_process  # type: ignore[method-assign]
    task = asyncio.create_task(consumer.run())
    try:
        while True:
            async with db.transaction(read_only=True) as session:
                query = select(func.count()).select_from(inbox).where(inbox.c.event_type == event_type)
                if int(await session.scalar(query) or 0) >= expected:
                    break
            if task.done():
                task.result()
            await asyncio.sleep(0.2)  # the rate comes from the fetches' spans: polling less leaves the CPU to them
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await consumer.stop()
    return expected / (spans[-1][1] - spans[0][0])


async def measure(database: str, bootstrap: str, customers: int, invoices: int) -> list[Figure]:
    factory = factory_for(database)
    figures: list[Figure] = []
    try:
        collections_url, rows = await swept_database(factory, customers, invoices)
        counts = Counter(row.event_type for row in rows)
        moved = int(counts.get("creditflow.collections.stage_entered.v1", 0))
        print(f"{database} sweep of {invoices:,} invoices: {len(rows):,} events {dict(counts)}", flush=True)
        databases = {"collections": Database(collections_url)}
        for service in SERVICES:
            if service != "collections":
                databases[service] = Database(await factory.create(service))
        handled = {
            service: __import__(f"services.{service}.handlers", fromlist=["EVENT_HANDLERS"]).EVENT_HANDLERS
            for service in SERVICES
        }
        seconds: dict[str, float] = dict.fromkeys(SERVICES, 0.0)
        for event_type in counts:  # the sweep's order: opened, overdue, stages, receivables
            chosen = [row for row in rows if row.event_type == event_type]
            await publish(bootstrap, chosen)
            name = event_type.split(".")[2]
            for service in SERVICES:
                types = {kind.event_type: kind for kind in handled[service]}
                if event_type not in types:
                    print(f"{database} {service} consumer, {name}: not handled", flush=True)
                    continue
                kind = types[event_type]
                handlers = {kind: handled[service][kind]}
                rate = await consume(databases[service], service, bootstrap, handlers, event_type, len(chosen))
                per_invoice = len(chosen) / invoices
                seconds[service] += per_invoice * SWEEP_INVOICES / rate
                print(f"{database} {service} consumer, {name} (from a sweep): {rate:,.0f} events/s", flush=True)
                figures.append(
                    Figure(
                        f"{service} consumer, {name} — a real sweep's events",
                        database,
                        rate,
                        "events/s",
                        min_value=2000,
                        note=f"{len(chosen):,} events",
                    )
                )
        for service in SERVICES:
            print(
                f"{database} {service}: a 1,000,000-invoice sweep's events absorbed in {seconds[service]:,.0f} s"
                f" (DERIVED: {len(rows) / invoices:.2f} events per invoice, {moved / invoices:.2f} stage events,"
                " each type at its measured rate)",
                flush=True,
            )
            figures.append(
                Figure(
                    f"{service}: a 1,000,000-invoice sweep's events absorbed (derived from the rates above)",
                    database,
                    seconds[service],
                    "s",
                    max_value=TARGET_SECONDS,
                    note=f"{moved / invoices:.2f} stage events per invoice",
                )
            )
        for db in databases.values():
            await db.dispose()
    finally:
        await factory.drop_all()
    return figures


async def run(databases: list[str], customers: int, invoices: int) -> list[Figure]:
    figures: list[Figure] = []
    for database in databases:
        broker = EmbeddedBroker(free_port()).start()
        try:
            await create_suite_topics(broker.bootstrap)
            figures += await measure(database, broker.bootstrap, customers, invoices)
        finally:
            broker.stop()
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--invoices", type=int, default=2000)
    parser.add_argument("--customers", type=int, default=1000)
    args = parser.parse_args()
    databases = ["sqlite", "postgresql"] if args.database == "both" else [args.database]
    print(table(asyncio.run(run(databases, args.customers, args.invoices))))


if __name__ == "__main__":
    main()
