"""events_bench's synthetic events of one type through one service's ``InboxConsumer.process`` on PostgreSQL, in
process, no broker: the consumer's CPU per event and its wall rate (the first fetch is a warm-up, left out).

Robust to a loaded box where the broker-timed events bench is not: run it from two checkouts in turn (the
current directory's code is imported) and compare the CPU per event.

    .venv/bin/python -m bench.absorb_synthetic credit stage 30000     # SERVICE stage|receivables EVENTS
"""

from __future__ import annotations

import asyncio
import sys
import time

from bench import events_bench
from bench.absorb_profile import fetches, records_of, synthetic_rows
from bench.get_bench import factory_for
from shared.clock import SystemClock
from shared.consumer import InboxConsumer
from shared.db import Database
from shared.events.collections import ReceivablesChanged, StageEntered
from shared.registry import settings_class


async def main(service: str, kind: str, count: int) -> None:
    event_type = StageEntered if kind == "stage" else ReceivablesChanged
    events = [e for e in events_bench._events(count, max(count // 20, 1)) if isinstance(e, event_type)]
    rows = synthetic_rows(events, event_type.topic())
    handlers = __import__(f"services.{service}.handlers", fromlist=["EVENT_HANDLERS"]).EVENT_HANDLERS
    factory = factory_for("postgresql")
    try:
        db = Database(await factory.create(service))
        settings = settings_class(service)()
        consumer = InboxConsumer(db, settings, SystemClock(), {event_type: handlers[event_type]})
        batches = fetches(records_of(rows), settings.consumer_batch_size)
        await consumer.process(batches[0])  # warm-up: connections, prepared statements
        n = sum(len(batch) for batch in batches[1:])
        wall, cpu = time.perf_counter(), time.process_time()
        for batch in batches[1:]:
            await consumer.process(batch)
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        print(f"{service} {kind} {n} events: cpu {cpu / n * 1e6:.1f} us/event, {n / wall:,.0f} events/s wall")
        await db.dispose()
    finally:
        await factory.drop_all()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2], int(sys.argv[3])))
