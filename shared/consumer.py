"""Kafka consumer with an inbox: at-least-once delivery, exactly-once effects.

For each fetch (up to ``consumer_batch_size`` records over the assigned partitions): records are parsed;
those already in the inbox are skipped; the rest are applied and recorded in the inbox in ONE
transaction; offsets are committed only after it commits.
If the batch fails, records are retried one by one; a record that cannot be parsed, or fails
``consumer_max_attempts`` times, goes to the dead-letter topic with the error in its headers and the
partition moves on.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import traceback
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.structs import ConsumerRecord
from opentelemetry import trace
from opentelemetry.trace import Link, Span
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from shared import metrics, tracing
from shared.clock import Clock
from shared.cloudevents import MalformedEvent, event_type_of, from_kafka_record
from shared.context import request_id_var, traceparent_var
from shared.db import Database
from shared.events.base import Envelope, Event
from shared.kafka import make_consumer, make_producer
from shared.settings import ServiceSettings
from shared.tables import inbox

log = logging.getLogger(__name__)


@dataclass
class EventContext:
    """What a handler gets besides the event: the transaction, the envelope and the clock."""

    session: AsyncSession
    envelope: Envelope
    clock: Clock
    settings: ServiceSettings


Handler = Callable[[EventContext, Any], Awaitable[None]]
HandlerMap = Mapping[type[Event], Sequence[Handler]]


def batch_handler(func: Callable[[EventContext, list[Envelope]], Awaitable[None]]) -> Handler:
    """Mark a handler that takes a list: it gets each run of consecutive envelopes of its type in a batch.

    Order across types is kept (runs are consecutive); ``ctx.envelope`` is the run's last envelope.
    Use it on hot paths where one set-based statement can apply many events.
    """
    func.batch = True  # type: ignore[attr-defined]
    return func


class InboxConsumer:
    """Consumes the topics that carry the event types in ``handlers``; one per service process."""

    def __init__(self, db: Database, settings: ServiceSettings, clock: Clock, handlers: HandlerMap) -> None:
        self.db, self.settings, self.clock = db, settings, clock
        self.handlers = {event_type.event_type: list(funcs) for event_type, funcs in handlers.items()}
        self.topics = sorted({event_type.topic() for event_type in handlers})
        self.name = settings.consumer_group
        self.consumer: AIOKafkaConsumer | None = None
        self.dlq_producer: AIOKafkaProducer | None = None
        self.connected = False
        self._dlq_checked_at = float("-inf")

    async def run(self) -> None:
        """Consume until cancelled, reconnecting after broker failures."""
        if not self.topics:
            return
        backoff = 0.5
        while True:
            try:
                await self._start()
                backoff = 0.5
                await self._loop()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                self.connected = False
                log.warning("consumer failed; reconnecting", extra={"error": repr(exc)})
                await self._stop_clients()
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 10.0)

    async def stop(self) -> None:
        await self._stop_clients()

    async def _start(self) -> None:
        self.consumer = make_consumer(self.settings, *self.topics, group_id=self.name)
        self.dlq_producer = make_producer(self.settings, client_id=f"{self.settings.service}-dlq")
        await self.consumer.start()
        await self.dlq_producer.start()
        self.connected = True

    async def _stop_clients(self) -> None:
        for client in (self.consumer, self.dlq_producer):
            if client is not None:
                try:
                    await asyncio.wait_for(client.stop(), timeout=5)
                except Exception:
                    log.debug("client stop failed", exc_info=True)
        self.consumer = self.dlq_producer = None

    async def _loop(self) -> None:
        assert self.consumer is not None
        while True:
            batches = await self.consumer.getmany(timeout_ms=500, max_records=self.settings.consumer_batch_size)
            if not batches:
                self._record_lag(self._caught_up())
                await self._record_dlq_depth()
                continue
            started = time.perf_counter()
            try:
                # Every partition of the fetch in one transaction: one commit per fetch, not per partition.
                await self.process([record for records in batches.values() for record in records])
            except Exception:
                # Nothing of this fetch is committed: read it again after a pause.
                for tp, records in batches.items():
                    self.consumer.seek(tp, records[0].offset)
                raise
            # A broker that restarted (memory-only) or lost the group makes commits fail forever:
            # give up after a while, reconnect, and let the inbox absorb the re-read.
            await asyncio.wait_for(
                self.consumer.commit({tp: records[-1].offset + 1 for tp, records in batches.items()}), timeout=15
            )
            metrics.CONSUMER_LATENCY.labels(self.settings.service).observe(time.perf_counter() - started)
            self._record_lag({tp: records[-1].offset + 1 for tp, records in batches.items()})

    def _record_lag(self, positions: Mapping[TopicPartition, int]) -> None:
        """Lag per partition: its high watermark at the last fetch minus the next offset we will read.

        Never awaits (``consumer.position`` can wait for a reset): only partitions whose position we know
        from the records just applied, or from an empty fetch, are measured.
        """
        assert self.consumer is not None
        for tp, position in positions.items():
            highwater = self.consumer.highwater(tp)
            if highwater is not None:
                metrics.CONSUMER_LAG.labels(tp.topic, str(tp.partition), self.name).set(max(highwater - position, 0))

    def _caught_up(self) -> dict[TopicPartition, int]:
        """After an empty fetch every assigned partition has been read up to its high watermark."""
        assert self.consumer is not None
        return {
            tp: highwater for tp in self.consumer.assignment() if (highwater := self.consumer.highwater(tp)) is not None
        }

    async def _record_dlq_depth(self) -> None:
        """The dead-letter topic's depth (end minus start offsets), refreshed at most every 30 seconds."""
        now = time.monotonic()
        if self.consumer is None or now - self._dlq_checked_at < 30:
            return
        self._dlq_checked_at = now
        topic = self.settings.dead_letter_topic
        try:
            partitions = [TopicPartition(topic, p) for p in self.consumer.partitions_for_topic(topic) or ()]
            if not partitions:
                await self.consumer.topics()  # refreshes the cluster metadata
                partitions = [TopicPartition(topic, p) for p in self.consumer.partitions_for_topic(topic) or ()]
            if partitions:
                start = await self.consumer.beginning_offsets(partitions)
                end = await self.consumer.end_offsets(partitions)
                depth = sum(end[tp] - start[tp] for tp in partitions)
                metrics.DLQ_MESSAGES.labels(self.settings.service, topic).set(depth)
        except Exception:  # a metric is not worth a consumer restart
            log.debug("could not measure the dead-letter topic", exc_info=True)

    async def process(self, records: Sequence[ConsumerRecord[Any, Any]]) -> None:
        """Apply fetched records (in partition order): all in one transaction, else one by one with the DLQ."""
        parsed: list[Envelope] = []
        for record in records:
            if event_type_of(record.headers) not in self.handlers and event_type_of(record.headers) is not None:
                metrics.CONSUMED.labels(self.settings.service, record.topic, "ignored").inc()
                continue
            try:
                parsed.append(
                    from_kafka_record(
                        topic=record.topic,
                        partition=record.partition,
                        offset=record.offset,
                        key=record.key,
                        value=record.value,
                        headers=record.headers,
                    )
                )
            except MalformedEvent as exc:
                await self._dead_letter(record, f"unparseable: {exc}", attempts=0)
        if not parsed:
            return
        try:
            await self._apply(parsed)
            return
        except Exception:
            log.info("batch failed; applying one by one", exc_info=True)
        by_position = {(record.topic, record.partition, record.offset): record for record in records}
        for envelope in parsed:
            await self._apply_with_retries(envelope, by_position[(envelope.topic, envelope.partition, envelope.offset)])

    async def _apply(self, envelopes: Sequence[Envelope]) -> None:
        async with self.db.transaction() as session:
            fresh = await self._record_in_inbox(session, envelopes)
            run: list[Envelope] = []
            for envelope in fresh:
                if run and run[-1].type != envelope.type:
                    await self._handle_run(session, run)
                    run = []
                run.append(envelope)
            if run:
                await self._handle_run(session, run)
        for envelope in fresh:
            metrics.CONSUMED.labels(self.settings.service, envelope.topic, "applied").inc()

    async def _record_in_inbox(self, session: AsyncSession, envelopes: Sequence[Envelope]) -> list[Envelope]:
        """Insert the batch's inbox rows, skipping those already there; return the envelopes to apply.

        One round trip (INSERT … ON CONFLICT DO NOTHING RETURNING) instead of a SELECT then an INSERT;
        the rows commit or roll back with the handlers' effects, so an event is applied exactly once.
        """
        unique: dict[str, Envelope] = {}
        for envelope in envelopes:
            if envelope.id in unique:
                metrics.CONSUMED.labels(self.settings.service, envelope.topic, "duplicate").inc()
            else:
                unique[envelope.id] = envelope
        now = self.clock.now()
        dialect_insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
        statement = dialect_insert(inbox).on_conflict_do_nothing().returning(inbox.c.event_id)
        inserted = set(
            (
                await session.execute(
                    statement,
                    [
                        {
                            "consumer": self.name,
                            "event_id": e.id,
                            "event_type": e.type,
                            "topic": e.topic,
                            "partition": e.partition,
                            "offset": e.offset,
                            "applied_at": now,
                        }
                        for e in unique.values()
                    ],
                )
            ).scalars()
        )
        fresh = []
        for envelope in unique.values():
            if envelope.id in inserted:
                fresh.append(envelope)
            else:
                metrics.CONSUMED.labels(self.settings.service, envelope.topic, "duplicate").inc()
        return fresh

    async def _handle_run(self, session: AsyncSession, run: list[Envelope]) -> None:
        """Apply consecutive events of one type: batch handlers once, the others event by event."""
        for handler in self.handlers[run[0].type]:
            if getattr(handler, "batch", False):
                context = EventContext(session=session, envelope=run[-1], clock=self.clock, settings=self.settings)
                with _process_span(run[-1], also=run[:-1]):
                    await handler(context, run)
            else:
                for envelope in run:
                    await self._handle(session, envelope, handler)

    async def _handle(self, session: AsyncSession, envelope: Envelope, handler: Handler) -> None:
        rid_token = request_id_var.set(envelope.headers.get("x-request-id"))
        tp_token = traceparent_var.set(envelope.headers.get("traceparent"))
        try:
            with _process_span(envelope) as span:
                traceparent_var.set(tracing.traceparent_of(span) or envelope.headers.get("traceparent"))
                await handler(
                    EventContext(session=session, envelope=envelope, clock=self.clock, settings=self.settings),
                    envelope.data,
                )
        finally:
            request_id_var.reset(rid_token)
            traceparent_var.reset(tp_token)

    async def _apply_with_retries(self, envelope: Envelope, record: ConsumerRecord[Any, Any]) -> None:
        last_error = ""
        for attempt in range(1, self.settings.consumer_max_attempts + 1):
            try:
                await self._apply([envelope])
                return
            except Exception as exc:
                last_error = "".join(traceback.format_exception_only(exc)).strip()
                log.warning("event failed", extra={"event_id": envelope.id, "attempt": attempt, "error": last_error})
                await asyncio.sleep(self.settings.consumer_retry_backoff_seconds * attempt)
        await self._dead_letter(record, last_error, attempts=self.settings.consumer_max_attempts)

    async def _dead_letter(self, record: ConsumerRecord[Any, Any], error: str, attempts: int) -> None:
        """Park a message on the DLQ with why; raises if the DLQ is unreachable (then nothing is committed)."""
        assert self.dlq_producer is not None
        headers = [
            *record.headers,
            ("dlq_error", error[:4000].encode()),
            ("dlq_consumer", self.name.encode()),
            ("dlq_original_topic", record.topic.encode()),
            ("dlq_original_partition", str(record.partition).encode()),
            ("dlq_original_offset", str(record.offset).encode()),
            ("dlq_attempts", str(attempts).encode()),
        ]
        await (
            await self.dlq_producer.send(
                self.settings.dead_letter_topic, value=record.value, key=record.key, headers=headers
            )
        )
        metrics.CONSUMED.labels(self.settings.service, record.topic, "dead_lettered").inc()
        metrics.DLQ_MESSAGES.labels(self.settings.service, self.settings.dead_letter_topic).inc()
        log.error(
            "message dead-lettered",
            extra={"topic": record.topic, "partition": record.partition, "offset": record.offset, "error": error[:500]},
        )


@contextlib.contextmanager
def _process_span(envelope: Envelope, also: Sequence[Envelope] = ()) -> Iterator[Span]:
    """A consumer span continuing the event's trace (its CloudEvents ``traceparent``); linked to the rest of a batch."""
    links = [
        Link(trace.get_current_span(parent).get_span_context())
        for other in also
        if (parent := tracing.context_of(other.headers.get("traceparent"))) is not None
    ]
    with tracing.tracer().start_as_current_span(
        f"{envelope.topic} process",
        context=tracing.context_of(envelope.headers.get("traceparent")),
        kind=tracing.SpanKind.CONSUMER,
        links=links,
        attributes={
            "messaging.system": "kafka",
            "messaging.destination.name": envelope.topic,
            "messaging.message.id": envelope.id,
            "cloudevents.event_type": envelope.type,
            "messaging.kafka.offset": envelope.offset,
        },
    ) as span:
        yield span
