"""Invoices from Kafka: collections' consumer recording N invoices a billing system published on its topic.

N invoices (default 10,000) for 1,000 known customers are published on ``creditflow.billing.invoices`` (half as
CloudEvents, half as plain JSON), then collections' inbox consumer with the billing intake (the code the
service runs) records them; invoices/s from the first applied batch (group join is start-up cost) until
the last. Baselines in the same run: raw ``INSERT … SELECT FROM unnest`` of the same invoice and outbox rows
(PostgreSQL only), and the bulk path itself (``create_invoices`` of all N in one
call, in-process, on a database of its own).

    .venv/bin/python -m bench.billing_bench [--invoices 10000] [--database sqlite|postgresql|both]
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from datetime import UTC, datetime

from aiokafka import AIOKafkaProducer

from bench import bulk_bench
from bench.common import Figure, applied_rate, bench_main, billing_run, seed_customers
from bench.get_bench import factory_for
from shared.broker import EmbeddedBroker, free_port
from shared.clock import SystemClock
from shared.consumer import InboxConsumer
from shared.db import Database
from shared.kafka import ensure_topics


async def _publish(bootstrap: str, topic: str, items: list[dict[str, str]]) -> None:
    from services.collections.intake import INVOICE_ISSUED

    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, linger_ms=5)
    await producer.start()
    try:
        futures = []
        for n, item in enumerate(items):
            headers = []
            if n % 2 == 0:
                headers = [
                    ("ce_id", str(uuid.uuid4()).encode()),
                    ("ce_source", b"/billing/bench"),
                    ("ce_type", INVOICE_ISSUED.encode()),
                    ("ce_specversion", b"1.0"),
                    ("content-type", b"application/json"),
                ]
            value = json.dumps(item).encode()
            futures.append(await producer.send(topic, value=value, key=item["customer_id"].encode(), headers=headers))
        await asyncio.gather(*futures)
    finally:
        await producer.stop()


async def _raw_postgresql(url: str, items: list[dict[str, str]]) -> float:
    """bulk_bench's raw baseline: the same invoice (number key included) + outbox rows by ``INSERT … SELECT FROM
    unnest``, rolled back."""
    return await bulk_bench._raw_postgresql(url, items)


async def _bulk_path(url: str, items: list[dict[str, str]]) -> float:
    """``create_invoices`` of every item in one call and one transaction: the bulk path without HTTP."""
    from services.collections.schemas.invoices import InvoiceCreate
    from services.collections.service.invoices import create_invoices
    from services.collections.settings import CollectionsSettings

    invoices = [InvoiceCreate.model_validate(item) for item in items]
    db = Database(url)
    try:
        started = time.perf_counter()
        async with db.transaction() as session:
            await create_invoices(session, invoices, CollectionsSettings(), datetime.now(UTC), bulk=True)
        return time.perf_counter() - started
    finally:
        await db.dispose()


async def _consume(url: str, bootstrap: str, expected: int) -> float:
    """Invoices/s of the billing intake from its first applied batch until ``expected`` are recorded."""
    from services.collections.intake import intakes
    from services.collections.models import Invoice
    from services.collections.settings import CollectionsSettings

    settings = CollectionsSettings(database_url=url, kafka_bootstrap_servers=bootstrap, log_json=False)
    db = Database(url)
    consumer = InboxConsumer(db, settings, SystemClock(), {}, intakes(settings))
    try:
        return await applied_rate(consumer, db, Invoice, expected)
    finally:
        await db.dispose()


async def run(databases: list[str], count: int) -> list[Figure]:
    from services.collections.settings import CollectionsSettings

    figures = []
    topic = CollectionsSettings().billing_invoices_topic
    for database in databases:
        broker = EmbeddedBroker(free_port()).start()
        factory = factory_for(database)
        try:
            settings = CollectionsSettings(kafka_bootstrap_servers=broker.bootstrap)
            await ensure_topics(settings, {topic: settings.kafka_topic_partitions})
            url, bulk_url = await factory.create("collections"), await factory.create("collections")
            customers = await seed_customers(url)
            items = billing_run(customers, count, "BILL")
            raw = await _raw_postgresql(url, items) if database == "postgresql" else None
            bulk_customers = await seed_customers(bulk_url)
            bulk = await _bulk_path(bulk_url, billing_run(bulk_customers, count, "BULK"))
            await _publish(broker.bootstrap, topic, items)
            rate = await _consume(url, broker.bootstrap, count)
        finally:
            await factory.drop_all()
            broker.stop()
        bulk_rate = count / bulk
        print(
            f"{database} billing topic {count:,}: {rate:,.0f} invoices/s; create_invoices in one call "
            f"{bulk_rate:,.0f}/s" + (f"; raw {count / raw:,.0f}/s" if raw else ""),
            flush=True,
        )
        path = f"billing topic -> invoices recorded, {count:,} records"
        if raw:  # PostgreSQL only: SQLite has the bulk path as its baseline
            figures.append(
                Figure(
                    f"{path}, vs raw",
                    database,
                    rate,
                    "invoices/s",
                    baseline=count / raw,
                    baseline_label="raw INSERT…SELECT unnest + outbox",
                )
            )
        figures.append(
            Figure(
                f"{path}, vs the bulk path",
                database,
                rate,
                "invoices/s",
                baseline=bulk_rate,
                baseline_label="create_invoices of all in one call",
            )
        )
    return figures


def main() -> None:
    bench_main(__doc__, run, "invoices", 10_000, "postgresql")


if __name__ == "__main__":
    main()
