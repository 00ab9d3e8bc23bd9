"""Transactional outbox: ``emit`` writes the event in the caller's transaction; ``OutboxRelay`` publishes.

The relay is the only code that produces to Kafka on the producing side. It publishes unpublished rows
in ``seq`` order (so one customer's events keep their order), in batches, marks them sent with the
partition and offset the broker gave, backs off while the broker is away, and republishes the retained
rows when it finds the broker has lost what it was sent (a memory-only broker restarted, an incident).
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import socket
import uuid
from datetime import datetime, timedelta
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from sqlalchemy import bindparam, delete, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from shared import metrics, tracing
from shared.clock import Clock
from shared.cloudevents import to_kafka_message
from shared.context import propagation_headers
from shared.db import Database
from shared.events.base import Event
from shared.kafka import connection_options, ensure_topics, make_producer, suite_topics
from shared.leases import Lease
from shared.settings import ServiceSettings
from shared.tables import outbox

log = logging.getLogger(__name__)


async def emit(session: AsyncSession, event: Event, *, at: datetime, subject: str | None = None) -> uuid.UUID:
    """Add ``event`` to the outbox in the caller's transaction; it is published only if that commits."""
    event_id = uuid.uuid4()
    customer = str(event.customer_id)
    await session.execute(
        insert(outbox).values(
            event_id=event_id,
            topic=event.topic(),
            key=customer,
            event_type=event.event_type,
            source=f"/creditflow/{event.producer()}",
            subject=subject or customer,
            occurred_at=at,
            data=event.model_dump_json(),
            headers=json.dumps(propagation_headers()),
            created_at=at,
        )
    )
    return event_id


async def mark_for_replay(db: Database, since: datetime, until: datetime | None = None) -> int:
    """Make retained rows created in [since, until) unpublished again; the relay republishes them."""
    async with db.transaction() as session:
        condition = [outbox.c.created_at >= since, outbox.c.published_at.is_not(None)]
        if until is not None:
            condition.append(outbox.c.created_at < until)
        result = await session.execute(
            update(outbox).where(*condition).values(published_at=None, kafka_partition=None, kafka_offset=None)
        )
        return int(result.rowcount)  # type: ignore[attr-defined]


class OutboxRelay:
    """Publishes outbox rows to Kafka; one replica at a time holds the relay lease."""

    def __init__(self, db: Database, settings: ServiceSettings, clock: Clock) -> None:
        self.db, self.settings, self.clock = db, settings, clock
        holder = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.lease = Lease(db, f"outbox-relay:{settings.service}", holder, clock, timedelta(seconds=15))
        self.producer: AIOKafkaProducer | None = None
        self._backoff = 0.0
        self._last_check: datetime | None = None
        self.connected = False

    async def _producer(self) -> AIOKafkaProducer:
        if self.producer is None:
            if self.settings.kafka_create_topics:
                # A broker that came back empty must get our partitioning before the first send
                # auto-creates a topic with the broker's default.
                await ensure_topics(self.settings, suite_topics(self.settings))
            producer = make_producer(self.settings, client_id=f"{self.settings.service}-relay")
            try:
                await producer.start()
            except Exception:
                await producer.stop()
                raise
            self.producer = producer
        return self.producer

    async def _drop_producer(self) -> None:
        if self.producer is not None:
            producer, self.producer = self.producer, None
            try:
                await asyncio.wait_for(producer.stop(), timeout=5)
            except Exception:  # a producer that cannot reach the broker cannot flush either
                log.debug("producer stop failed", exc_info=True)

    async def run(self) -> None:
        """Relay until cancelled."""
        while True:
            try:
                if not await self.lease.acquire():
                    await asyncio.sleep(1.0)
                    continue
                await self.check_broker_retention()
                sent = await self.relay_once()
                self._backoff = 0.0
                self.connected = True
                if sent < self.settings.relay_batch_size:
                    await asyncio.sleep(self.settings.relay_poll_interval_seconds)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                self.connected = False
                self._backoff = min(max(self._backoff * 2, 0.5), self.settings.relay_max_backoff_seconds)
                log.warning("outbox relay failed; retrying", extra={"error": repr(exc), "backoff": self._backoff})
                metrics.OUTBOX_FAILURES.labels(self.settings.service).inc()
                await self._drop_producer()
                await asyncio.sleep(self._backoff)

    async def stop(self) -> None:
        await self._drop_producer()
        try:
            await self.lease.release()
        except Exception:
            log.debug("lease release failed", exc_info=True)

    async def relay_once(self) -> int:
        """Publish one batch of unpublished rows in order; return how many were sent."""
        async with self.db.transaction() as session:
            rows = (
                await session.execute(
                    select(
                        outbox.c.seq,
                        outbox.c.event_id,
                        outbox.c.topic,
                        outbox.c.key,
                        outbox.c.event_type,
                        outbox.c.source,
                        outbox.c.subject,
                        outbox.c.occurred_at,
                        outbox.c.data,
                        outbox.c.headers,
                    )
                    .where(outbox.c.published_at.is_(None))
                    .order_by(outbox.c.seq)
                    .limit(self.settings.relay_batch_size)
                )
            ).all()
        if not rows:
            return 0
        producer = await self._producer()
        try:
            futures = []
            for row in rows:
                futures.append(await self._send(producer, row))
            results = await asyncio.gather(*futures)
        except Exception as exc:
            await self._record_failure([row.seq for row in rows], exc)
            raise
        now = self.clock.now()
        async with self.db.transaction() as session:
            await session.execute(
                update(outbox)
                .where(outbox.c.seq == bindparam("b_seq"))
                .values(
                    published_at=now,
                    kafka_partition=bindparam("b_partition"),
                    kafka_offset=bindparam("b_offset"),
                    last_error=None,
                ),
                [
                    {"b_seq": row.seq, "b_partition": meta.partition, "b_offset": meta.offset}
                    for row, meta in zip(rows, results, strict=True)
                ],
                execution_options={"synchronize_session": False},
            )
        metrics.OUTBOX_PUBLISHED.labels(self.settings.service).inc(len(rows))
        return len(rows)

    async def _send(self, producer: AIOKafkaProducer, row: Any) -> asyncio.Future[Any]:
        """Send one row inside a publish span whose parent is the request that wrote it."""
        extra_headers: dict[str, str] = json.loads(row.headers)
        with tracing.tracer().start_as_current_span(
            f"{row.topic} publish",
            context=tracing.context_of(extra_headers.get("traceparent")),
            kind=tracing.SpanKind.PRODUCER,
            attributes={
                "messaging.system": "kafka",
                "messaging.destination.name": row.topic,
                "messaging.message.id": str(row.event_id),
                "cloudevents.event_type": row.event_type,
            },
        ) as span:
            traceparent = tracing.traceparent_of(span) or extra_headers.get("traceparent")
            if tracing.kafka_instrumented():
                extra_headers.pop("traceparent", None)  # the instrumented send injects its own
            elif traceparent:
                extra_headers["traceparent"] = traceparent
            key, value, headers = to_kafka_message(
                event_id=str(row.event_id),
                event_type=row.event_type,
                source=row.source,
                subject=row.subject,
                occurred_at=row.occurred_at,
                data=row.data,
                key=row.key,
                extra_headers=extra_headers,
                traceparent=traceparent,
                sequence=row.seq,
            )
            future: asyncio.Future[Any] = await producer.send(row.topic, value=value, key=key, headers=headers)
            return future

    async def _record_failure(self, seqs: list[int], exc: Exception) -> None:
        try:
            async with self.db.transaction() as session:
                await session.execute(
                    update(outbox)
                    .where(outbox.c.seq.in_(seqs))
                    .values(attempts=outbox.c.attempts + 1, last_error=repr(exc)[:2000])
                )
        except Exception:
            log.debug("could not record relay failure", exc_info=True)

    async def pending(self) -> int:
        async with self.db.transaction() as session:
            return int(
                await session.scalar(select(func.count()).select_from(outbox).where(outbox.c.published_at.is_(None)))
                or 0
            )

    async def check_broker_retention(self, force: bool = False) -> int:
        """Republish retained rows when the broker no longer holds what it acknowledged; return rows marked."""
        now = self.clock.now()
        interval = timedelta(seconds=self.settings.relay_broker_check_interval_seconds)
        if not force and self._last_check is not None and now - self._last_check < interval:
            return 0
        self._last_check = now
        cutoff = now - timedelta(hours=self.settings.outbox_retention_hours)
        async with self.db.transaction() as session:
            await session.execute(
                delete(outbox).where(outbox.c.published_at.is_not(None), outbox.c.published_at < cutoff)
            )
            bounds = (
                await session.execute(
                    select(
                        outbox.c.topic,
                        outbox.c.kafka_partition,
                        func.min(outbox.c.kafka_offset),
                        func.max(outbox.c.kafka_offset),
                    )
                    .where(outbox.c.published_at.is_not(None), outbox.c.kafka_offset.is_not(None))
                    .group_by(outbox.c.topic, outbox.c.kafka_partition)
                )
            ).all()
            # Every retained row at the lowest and the highest offset of each partition. A broker that
            # came back empty reuses offsets, so two rows may claim one offset: at most one is there.
            published: dict[tuple[str, int, int], set[str]] = {}
            for topic, partition, low, high in bounds:
                rows = await session.execute(
                    select(outbox.c.kafka_offset, outbox.c.event_id).where(
                        outbox.c.topic == topic,
                        outbox.c.kafka_partition == partition,
                        outbox.c.kafka_offset.in_({low, high}),
                        outbox.c.published_at.is_not(None),
                    )
                )
                for offset, event_id in rows:
                    published.setdefault((topic, partition, offset), set()).add(str(event_id))
        if not published:
            return 0
        lost_topics = await self._topics_lost(published)
        if not lost_topics:
            return 0
        log.warning(
            "broker lost published events; republishing the retained outbox", extra={"topics": sorted(lost_topics)}
        )
        await ensure_topics(self.settings, suite_topics(self.settings))
        async with self.db.transaction() as session:
            result = await session.execute(
                update(outbox)
                .where(outbox.c.topic.in_(lost_topics), outbox.c.published_at.is_not(None))
                .values(published_at=None, kafka_partition=None, kafka_offset=None)
            )
        metrics.OUTBOX_REPLAYED.labels(self.settings.service).inc(result.rowcount)  # type: ignore[attr-defined]
        return int(result.rowcount)  # type: ignore[attr-defined]

    async def _topics_lost(self, published: dict[tuple[str, int, int], set[str]]) -> set[str]:
        """Topics where a checked offset holds another event, or nothing any more.

        End offsets are not used: the embedded broker reports a wrong high watermark for batched
        writes and reuses offsets after a restart, so only reading the record back is reliable. An
        offset below the log start (records trimmed by retention) is not a loss.
        """
        consumer = AIOKafkaConsumer(
            client_id=f"{self.settings.service}-relay-check",
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            **connection_options(self.settings),
        )
        await consumer.start()
        try:
            lost: set[str] = set()
            known = await consumer.topics()
            for (topic, partition, offset), event_ids in sorted(published.items()):
                if topic in lost:
                    continue
                if topic not in known or partition not in (consumer.partitions_for_topic(topic) or set()):
                    lost.add(topic)
                    continue
                found = await self._read_event_id(consumer, TopicPartition(topic, partition), offset)
                if found == "trimmed":
                    continue
                if found is None or any(event_id != found for event_id in event_ids):
                    lost.add(topic)
            return lost
        finally:
            await consumer.stop()

    @staticmethod
    async def _read_event_id(consumer: AIOKafkaConsumer, tp: TopicPartition, offset: int) -> str | None:
        """The ce_id at ``offset``; "trimmed" when the log now starts after it; None when nothing is there."""
        consumer.assign([tp])
        consumer.seek(tp, offset)
        empty_polls = 0
        while empty_polls < 4:
            records = (await consumer.getmany(tp, timeout_ms=500, max_records=500)).get(tp, [])
            if not records:
                empty_polls += 1
                continue
            for record in records:
                if record.offset == offset:
                    ce_id = dict(record.headers).get("ce_id")
                    return ce_id.decode() if ce_id else ""
                if record.offset > offset:
                    # Reset to the earliest record, which is after ours: trimmed by retention.
                    return "trimmed" if records[0].offset > offset else ""
            # Only earlier offsets so far (the batch holding ours starts before it): keep reading.
        return None
