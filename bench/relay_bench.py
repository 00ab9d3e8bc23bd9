"""Benchmark (not a test): outbox relay and inbox consumer throughput against raw aiokafka baselines.

Measured in the same run, on the same events:
- relay: outbox rows → Kafka (read, publish, mark sent) vs a raw producer sending the same messages;
- consumer: Kafka → parse, inbox check, handler (directory upsert), inbox insert, commit vs a raw
  consumer that only reads, parses the JSON and commits.

Database: SQLite in a temp dir, or PostgreSQL when CREDITFLOW_BENCH_DATABASE_URL (an admin URL such as
postgresql+asyncpg://postgres@127.0.0.1:5432/postgres) is set. Usage: python -m bench.relay_bench [N]
(``make bench`` runs it on both databases through bench/run.py).
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from sqlalchemy import func, select

from services.credit.handlers import EVENT_HANDLERS
from services.credit.settings import CreditSettings
from services.customers.settings import CustomersSettings
from shared.broker import EmbeddedBroker, free_port
from shared.clock import SystemClock
from shared.cloudevents import to_kafka_message
from shared.consumer import InboxConsumer
from shared.db import Database
from shared.events.customers import CustomerRegistered
from shared.kafka import create_suite_topics, ensure_topics
from shared.outbox import OutboxRelay, emit
from shared.tables import inbox, outbox

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.common import Figure
from tests.support.databases import ADMIN_URL_ENV, DatabaseFactory


async def main(count: int) -> list[Figure]:
    if url := os.environ.get("CREDITFLOW_BENCH_DATABASE_URL"):
        os.environ[ADMIN_URL_ENV] = url
    factory = DatabaseFactory(Path(tempfile.mkdtemp()))
    broker = EmbeddedBroker(free_port()).start()
    try:
        await create_suite_topics(broker.bootstrap)
        return await run(count, factory, broker.bootstrap)
    finally:
        broker.stop()
        await factory.drop_all()


async def run(count: int, factory: DatabaseFactory, bootstrap: str) -> list[Figure]:
    clock = SystemClock()
    producer_db = Database(await factory.create("customers"))
    consumer_db = Database(await factory.create("credit"))
    print(f"{count} events, database {factory.dialect}, broker {bootstrap}")

    started = time.perf_counter()
    for offset in range(0, count, 1000):
        async with producer_db.transaction() as session:
            for n in range(offset, min(offset + 1000, count)):
                await emit(
                    session,
                    CustomerRegistered(
                        customer_id=uuid.uuid4(), name=f"Customer {n}", kind="commercial", lifecycle="active"
                    ),
                    at=clock.now(),
                )
    write = time.perf_counter() - started
    print(f"emit into the outbox (1000 per transaction): {count / write:,.0f} events/s")

    async with producer_db.transaction() as session:
        rows = (await session.execute(select(outbox).order_by(outbox.c.seq))).all()
    # The relay's messages exactly: same key, value and headers (its outbox position as ce_sequence included).
    messages = [
        to_kafka_message(
            event_id=str(r.event_id),
            event_type=r.event_type,
            source=r.source,
            subject=r.subject,
            occurred_at=r.occurred_at,
            data=r.data,
            key=r.key,
            extra_headers=json.loads(r.headers),
            traceparent=json.loads(r.headers).get("traceparent"),
            sequence=r.seq,
        )
        for r in rows
    ]
    settings = CustomersSettings(kafka_bootstrap_servers=bootstrap, relay_batch_size=500)
    # Raw topics shaped like the relay's (same partition count), one per raw run.
    await ensure_topics(settings, dict.fromkeys(RAW_TOPICS, settings.kafka_topic_partitions))
    raw_publish = await _raw_publish(bootstrap, RAW_TOPICS[0], messages)

    relay = OutboxRelay(producer_db, settings, clock)
    await relay.connect()  # connected before the clock starts, as the raw producer is
    started = time.perf_counter()
    await relay.drain()
    relay_time = time.perf_counter() - started
    await relay.stop()
    # Raw again after the relay: the faster of the two runs is the baseline (load on this box drifts).
    raw_publish = min(raw_publish, await _raw_publish(bootstrap, RAW_TOPICS[1], messages))
    print(
        f"raw producer: {count / raw_publish:,.0f} msg/s; outbox relay: {count / relay_time:,.0f} msg/s; "
        f"relay/raw = {raw_publish / relay_time:.2f}"
    )

    raw_consumer = AIOKafkaConsumer(
        "creditflow.customers",
        bootstrap_servers=bootstrap,
        group_id="bench-raw",
        enable_auto_commit=False,
        auto_offset_reset="earliest",
    )
    await raw_consumer.start()
    seen = 0
    started = time.perf_counter()
    while seen < count:
        batches = await raw_consumer.getmany(timeout_ms=1000, max_records=500)
        for tp, records in batches.items():
            for record in records:
                json.loads(record.value)
            seen += len(records)
            await raw_consumer.commit({tp: records[-1].offset + 1})
    raw_consume = time.perf_counter() - started
    await raw_consumer.stop()

    consumer_settings = CreditSettings(kafka_bootstrap_servers=bootstrap, consumer_batch_size=500)
    consumer = InboxConsumer(consumer_db, consumer_settings, clock, EVENT_HANDLERS)
    task = asyncio.create_task(consumer.run())
    started = time.perf_counter()
    first_applied: float | None = None
    while True:
        async with consumer_db.transaction() as session:
            applied = int(await session.scalar(select(func.count()).select_from(inbox)) or 0)
        if applied and first_applied is None:
            first_applied = time.perf_counter()
            first_count = applied
        if applied >= count:
            break
        await asyncio.sleep(0.05)
    # Group join and partition assignment are start-up cost, not throughput: time from the first batch.
    assert first_applied is not None
    print(f"consumer group join and first batch: {first_applied - started:.1f}s")
    inbox_time = (time.perf_counter() - first_applied) * count / max(count - first_count, 1)
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    await consumer.stop()
    # The same effect in raw SQL, on a fresh database: per 500 events one transaction with two executemany
    # INSERTs. Run twice (load on this box drifts); the faster run is the baseline.
    payloads = [json.loads(r.data) for r in rows]
    raw_sql = min([await _raw_sql(factory, clock, rows, payloads) for _ in range(2)])
    print(
        f"raw consumer (parse + commit): {count / raw_consume:,.0f} msg/s; raw SQL of the same effect "
        f"(executemany): {count / raw_sql:,.0f} rows/s"
    )
    print(
        f"inbox consumer (parse, dedupe, apply, record, commit): {count / inbox_time:,.0f} msg/s; "
        f"inbox/raw-consumer = {raw_consume / inbox_time:.3f}; inbox/raw-SQL = {raw_sql / inbox_time:.2f}"
    )
    print(f"at {datetime.now(UTC).isoformat(timespec='seconds')}")
    await producer_db.dispose()
    await consumer_db.dispose()
    database = factory.dialect
    return [
        Figure(
            "outbox relay",
            database,
            count / relay_time,
            "msg/s",
            baseline=count / raw_publish,
            baseline_label="raw producer",
            min_ratio=0.6,
            note=f"{count:,} events",
        ),
        Figure(
            "inbox consumer (customer_registered)",
            database,
            count / inbox_time,
            "msg/s",
            baseline=count / raw_sql,
            baseline_label="raw SQL, same writes",
            min_ratio=0.5,
        ),
    ]


RAW_TOPICS = ("bench.raw.1", "bench.raw.2")


async def _raw_publish(
    bootstrap: str, topic: str, messages: list[tuple[bytes, bytes, list[tuple[str, bytes]]]]
) -> float:
    """Seconds for a raw producer (started beforehand) to send ``messages`` and have them all acknowledged."""
    raw = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=5, compression_type="gzip")
    await raw.start()
    try:
        started = time.perf_counter()
        futures = [await raw.send(topic, value=v, key=k, headers=h) for k, v, h in messages]
        await asyncio.gather(*futures)
        return time.perf_counter() - started
    finally:
        await raw.stop()


async def _raw_sql(factory: DatabaseFactory, clock: SystemClock, rows: list[Any], payloads: list[Any]) -> float:
    """Seconds for raw SQL to write what the consumer writes: directory rows and inbox rows, 500 a transaction."""
    from services.credit.models import KnownCustomer

    count = len(rows)
    baseline_db = Database(await factory.create("credit"))
    now = clock.now()
    started = time.perf_counter()
    for start in range(0, count, 500):
        chunk = payloads[start : start + 500]
        async with baseline_db.transaction() as session:
            await session.execute(
                KnownCustomer.__table__.insert(),
                [
                    {
                        "id": uuid.UUID(p["customer_id"]),
                        "name": p["name"],
                        "kind": p["kind"],
                        "lifecycle": p["lifecycle"],
                        "segment": p["segment"],
                        "region": p["region"],
                        "registered_at": now,
                        "updated_at": now,
                    }
                    for p in chunk
                ],
            )
            await session.execute(
                inbox.insert(),
                [
                    {
                        "consumer": "bench",
                        "event_id": str(rows[start + n].event_id),
                        "event_type": rows[start + n].event_type,
                        "topic": rows[start + n].topic,
                        "partition": 0,
                        "offset": start + n,
                        "applied_at": now,
                    }
                    for n in range(len(chunk))
                ],
            )
    elapsed = time.perf_counter() - started
    await baseline_db.dispose()
    return elapsed


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 20000))
