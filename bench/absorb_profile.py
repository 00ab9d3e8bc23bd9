"""A real sweep's events through each consumer's ``process``, in-process, without a broker: CPU, statements, profile.

Seeds the swept collections database of ``bench/sweep_events.py`` once, turns its outbox rows into Kafka
records (partitioned by key as the producer would, fetches of ``consumer_batch_size`` per partition), and
feeds them type after type, in the sweep's order, to each service's ``InboxConsumer.process`` on its own
database, as the sweep bench's consumers apply them. Prints per consumer and type the wall and CPU time, the
events/s and the SQL statements run; ``--profile credit:receivables_changed`` adds a cProfile of that pair.
``--synthetic`` also runs the synthetic ``receivables_changed`` run of ``events_bench`` through credit, for
comparison (a fresh database, 4 events per customer).

    .venv/bin/python -m bench.absorb_profile [--database sqlite|postgresql] [--invoices 2000]
                                             [--profile SERVICE:TYPE] [--synthetic]
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import io
import logging
import pstats
import time
import uuid
from collections import Counter
from datetime import UTC, datetime
from typing import Any

from aiokafka.partitioner import DefaultPartitioner
from aiokafka.structs import ConsumerRecord
from sqlalchemy import event

from bench import events_bench, sweep_events
from bench.get_bench import factory_for
from shared.clock import SystemClock
from shared.cloudevents import to_kafka_message
from shared.consumer import InboxConsumer
from shared.db import Database
from shared.registry import settings_class

PARTITIONS = 3
VERBOSE = False


def records_of(rows: list[Any]) -> list[ConsumerRecord[bytes, bytes]]:
    """The outbox rows as the consumer would fetch them: per partition (by key), in offset order."""
    partitioner = DefaultPartitioner()
    offsets: Counter[tuple[str, int]] = Counter()
    records = []
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
        partition = partitioner(key, list(range(PARTITIONS)), list(range(PARTITIONS)))
        offset = offsets[(row.topic, partition)]
        offsets[(row.topic, partition)] += 1
        records.append(
            ConsumerRecord(row.topic, partition, offset, 0, 0, key, value, None, len(key), len(value), headers)
        )
    return records


def fetches(records: list[ConsumerRecord[bytes, bytes]], size: int) -> list[list[ConsumerRecord[bytes, bytes]]]:
    by_partition: dict[int, list[ConsumerRecord[bytes, bytes]]] = {}
    for record in records:
        by_partition.setdefault(record.partition, []).append(record)
    return [part[start : start + size] for part in by_partition.values() for start in range(0, len(part), size)]


class Statements:
    """Counts the statements a database runs, and their wall time by the statement's first words."""

    def __init__(self, db: Database) -> None:
        self.count = 0
        self.seconds: Counter[str] = Counter()
        self.counts: Counter[str] = Counter()
        self._started = 0.0
        event.listen(db.engine.sync_engine, "before_cursor_execute", self._before)
        event.listen(db.engine.sync_engine, "after_cursor_execute", self._after)

    def _before(self, *args: Any) -> None:
        self.count += 1
        self._started = time.perf_counter()

    def _after(self, conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        kind = " ".join(statement.split()[:4])[:60]
        self.seconds[kind] += time.perf_counter() - self._started
        self.counts[kind] += 1

    def report(self) -> str:
        return "; ".join(
            f"{name} {seconds * 1000:.0f} ms ({self.counts[name]}x)" for name, seconds in self.seconds.most_common(6)
        )


async def feed(
    db: Database, service: str, handlers: dict[Any, Any], records: list[Any], profiler: cProfile.Profile | None
) -> tuple[float, float, int]:
    settings = settings_class(service)()
    consumer = InboxConsumer(db, settings, SystemClock(), handlers)
    statements = Statements(db)
    wall, cpu = time.perf_counter(), time.process_time()
    if profiler:
        profiler.enable()
    for batch in fetches(records, settings.consumer_batch_size):
        await consumer.process(batch)
    if profiler:
        profiler.disable()
    if VERBOSE:
        print("   statements:", statements.report())
    return time.perf_counter() - wall, time.process_time() - cpu, statements.count


async def measure(
    database: str, invoices: int, customers: int, profile: str | None, synthetic: bool, only: tuple[str, ...] = ()
) -> None:
    factory = factory_for(database)
    try:
        collections_url, rows = await sweep_events.swept_database(factory, customers, invoices)
        counts = Counter(row.event_type for row in rows)
        databases = {"collections": Database(collections_url)}
        for service in sweep_events.SERVICES:
            if service != "collections":
                databases[service] = Database(await factory.create(service))
        handled = {
            service: __import__(f"services.{service}.handlers", fromlist=["EVENT_HANDLERS"]).EVENT_HANDLERS
            for service in sweep_events.SERVICES
        }
        for event_type in counts:
            chosen = records_of([row for row in rows if row.event_type == event_type])
            name = event_type.split(".")[2]
            for service in sweep_events.SERVICES:
                types = {kind.event_type: kind for kind in handled[service]}
                if event_type not in types or (only and service not in only):
                    continue
                handlers = {types[event_type]: handled[service][types[event_type]]}
                profiler = cProfile.Profile() if profile == f"{service}:{name}" else None
                wall, cpu, statements = await feed(databases[service], service, handlers, chosen, profiler)
                print(
                    f"{database} {service:<11} {name:<20} {len(chosen):>6} events  {len(chosen) / wall:>8,.0f}/s"
                    f"  wall {wall * 1000:>7.0f} ms  cpu {cpu * 1000:>7.0f} ms  {statements:>5} statements",
                    flush=True,
                )
                if profiler:
                    print(_report(profiler))
        if synthetic:
            await _synthetic(factory, database, len([r for r in rows if "receivables" in r.event_type]), profile)
        for db in databases.values():
            await db.dispose()
    finally:
        await factory.drop_all()


def synthetic_rows(events: list[Any], topic: str) -> list[Any]:
    """Outbox-like rows of synthetic events (as collections' relay would publish them), ``seq`` from 1."""
    now = datetime.now(UTC)
    return [
        _Row(
            uuid.uuid4(),
            e.event_type,
            "/creditflow/collections",
            str(e.customer_id),
            now,
            e.model_dump_json(),
            str(e.customer_id),
            topic,
            seq,
        )
        for seq, e in enumerate(events, 1)
    ]


async def _synthetic(factory: Any, database: str, count: int, profile: str | None) -> None:
    """events_bench's synthetic receivables_changed through credit: fresh database, 4 events per customer."""
    from services.credit.handlers import EVENT_HANDLERS
    from shared.events.collections import ReceivablesChanged

    events = [e for e in events_bench._events(count * 5, max(count * 5 // 20, 1)) if isinstance(e, ReceivablesChanged)]
    rows = synthetic_rows(events, ReceivablesChanged.topic())
    db = Database(await factory.create("credit"))
    profiler = cProfile.Profile() if profile == "credit:synthetic" else None
    wall, cpu, statements = await feed(
        db, "credit", {ReceivablesChanged: EVENT_HANDLERS[ReceivablesChanged]}, records_of(rows), profiler
    )
    print(
        f"{database} credit      receivables (synth.) {len(rows):>6} events  {len(rows) / wall:>8,.0f}/s"
        f"  wall {wall * 1000:>7.0f} ms  cpu {cpu * 1000:>7.0f} ms  {statements:>5} statements"
    )
    if profiler:
        print(_report(profiler))
    await db.dispose()


def _report(profiler: cProfile.Profile) -> str:
    """The profile's top functions by cumulative time, then by own time."""
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats("services/", 40)
    pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(25)
    pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(40)
    return out.getvalue()


class _Row:
    def __init__(self, *values: Any) -> None:
        (
            self.event_id,
            self.event_type,
            self.source,
            self.subject,
            self.occurred_at,
            self.data,
            self.key,
            self.topic,
            self.seq,
        ) = values


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="postgresql")
    parser.add_argument("--invoices", type=int, default=2000)
    parser.add_argument("--customers", type=int, default=1000)
    parser.add_argument("--profile", help="SERVICE:TYPE, e.g. credit:receivables_changed (or credit:synthetic)")
    parser.add_argument("--synthetic", action="store_true")
    parser.add_argument("--only", default="", help="comma-separated services (default: all)")
    parser.add_argument("--statements", action="store_true", help="print the wall time of the statements by kind")
    args = parser.parse_args()
    global VERBOSE
    VERBOSE = args.statements
    logging.basicConfig(level=logging.WARNING)
    logging.getLogger("shared.consumer").setLevel(logging.INFO)
    only = tuple(name for name in args.only.split(",") if name)
    asyncio.run(measure(args.database, args.invoices, args.customers, args.profile, args.synthetic, only))


if __name__ == "__main__":
    main()
