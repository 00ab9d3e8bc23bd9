"""Kafka consumer with an inbox: at-least-once delivery, exactly-once effects.

For each fetch (up to ``consumer_batch_size`` records over the assigned partitions): records are parsed;
those already in the inbox are skipped; the rest are applied and recorded in the inbox in ONE
transaction; offsets are committed only after it commits.

Failures are sorted in two kinds. A message that can never succeed (unparseable, schema-invalid, or
refused by a handler with ``PermanentEventError``) goes to the dead-letter topic with the error in its
headers and the partition moves on. Anything else (the database restarting, a timeout, a bug being
fixed) is retried without limit: the consumer seeks back to the first unfinished record, pauses the
fetched partitions, waits a capped exponential backoff while still polling (so it keeps its group
membership), then resumes. While it waits, ``/readyz`` answers 503 and ``creditflow_consumer_retrying``
is 1: a stuck consumer is visible, and no healthy event is ever dead-lettered because of an outage.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import time
import traceback
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.structs import ConsumerRecord
from pydantic import ValidationError
from sqlalchemy import String, bindparam, text
from sqlalchemy.ext.asyncio import AsyncSession

from shared import metrics, tracing
from shared.clock import Clock
from shared.cloudevents import MalformedEvent, event_type_of, from_kafka_record
from shared.context import request_id_var, traceparent_var
from shared.db import Database, UTCDateTime, insert_rows
from shared.errors import PermanentEventError
from shared.events.base import Envelope, Event
from shared.intake import Intake, RecordsRefused
from shared.kafka import make_consumer, make_producer, stop_client
from shared.settings import ServiceSettings
from shared.tables import inbox

log = logging.getLogger(__name__)

INBOX_KEY = ("consumer", "event_id")

_INBOX_INSERT_PG = text(
    'INSERT INTO inbox (consumer, event_id, event_type, topic, "partition", "offset", applied_at) '
    "SELECT CAST(:consumer AS VARCHAR), e.event_id, e.event_type, e.topic, e.part, e.off, "
    "CAST(:applied_at AS TIMESTAMP WITH TIME ZONE) FROM unnest("
    "CAST(:event_ids AS VARCHAR[]), CAST(:event_types AS VARCHAR[]), CAST(:topics AS VARCHAR[]), "
    "CAST(:partitions AS INTEGER[]), CAST(:offsets AS BIGINT[])) AS e(event_id, event_type, topic, part, off) "
    "ON CONFLICT (consumer, event_id) DO NOTHING RETURNING event_id"
).bindparams(bindparam("consumer", type_=String()), bindparam("applied_at", type_=UTCDateTime()))
"""The inbox rows of a fetch on PostgreSQL: what every row shares (the consumer, the time) bound once, not as an
array of a thousand equal values (asyncpg encodes each element: 2 µs a timestamp, a tenth of the parse)."""

_INBOX_INSERT_PG_ONE_TYPE = text(
    'INSERT INTO inbox (consumer, event_id, event_type, topic, "partition", "offset", applied_at) '
    "SELECT CAST(:consumer AS VARCHAR), e.event_id, CAST(:event_type AS VARCHAR), CAST(:topic AS VARCHAR), "
    "e.part, e.off, CAST(:applied_at AS TIMESTAMP WITH TIME ZONE) FROM unnest("
    "CAST(:event_ids AS VARCHAR[]), CAST(:partitions AS INTEGER[]), CAST(:offsets AS BIGINT[])) "
    "AS e(event_id, part, off) "
    "ON CONFLICT (consumer, event_id) DO NOTHING RETURNING event_id"
).bindparams(
    bindparam("consumer", type_=String()),
    bindparam("event_type", type_=String()),
    bindparam("topic", type_=String()),
    bindparam("applied_at", type_=UTCDateTime()),
)
"""``_INBOX_INSERT_PG`` for the usual fetch, every event of one type from one topic (a sweep's run): the type and
the topic bound once too, not as two arrays of a thousand equal strings (a third of the statement's bytes)."""


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


def is_permanent(exc: BaseException) -> bool:
    """Whether retrying a failed event can never help: a malformed message or a refusal by a rule."""
    return isinstance(exc, PermanentEventError | MalformedEvent | ValidationError)


class RetryLater(Exception):
    """A transient failure part-way through a fetch: resume each partition at ``positions``."""

    def __init__(self, positions: dict[TopicPartition, int], cause: BaseException) -> None:
        super().__init__(repr(cause))
        self.positions = positions
        self.cause = cause


_collector_pauses = 0


@contextmanager
def collector_paused() -> Iterator[None]:
    """The cyclic garbage collector off while a fetch is applied, back on (as it was) after.

    A fetch's thousand envelopes, rows and statements stay alive until its transaction commits, so every
    young-generation collection meanwhile walked them only to find them alive and promote them, to be
    walked again by the next generation: a sixth of a consumer's CPU. Reference counting still frees
    everything as usual; cycles made during the fetch wait for the first collection after it (a fetch is
    bounded by ``consumer_batch_size``). Nests (several consumers in one process); a collector someone
    else disabled stays disabled.
    """
    global _collector_pauses
    if _collector_pauses == 0 and not gc.isenabled():
        yield
        return
    _collector_pauses += 1
    gc.disable()
    try:
        yield
    finally:
        _collector_pauses -= 1
        if _collector_pauses == 0:
            gc.enable()


def retry_delay(attempt: int, first: float, cap: float) -> float:
    """Capped exponential backoff: first, 2*first, 4*first ... never more than ``cap`` seconds."""
    return float(min(cap, first * 2 ** min(attempt - 1, 30)))


class InboxConsumer:
    """Consumes the topics that carry the event types in ``handlers``; one per service process."""

    def __init__(
        self,
        db: Database,
        settings: ServiceSettings,
        clock: Clock,
        handlers: HandlerMap,
        intakes: Sequence[Intake] = (),
    ) -> None:
        self.db, self.settings, self.clock = db, settings, clock
        self.handlers = {event_type.event_type: list(funcs) for event_type, funcs in handlers.items()}
        self.handlers.update({intake.event_type: [intake.handler] for intake in intakes})
        self.readers = {intake.topic: intake.read for intake in intakes}
        self.topics = sorted({event_type.topic() for event_type in handlers} | set(self.readers))
        self.name = settings.consumer_group
        self.consumer: AIOKafkaConsumer | None = None
        self.dlq_producer: AIOKafkaProducer | None = None
        self.connected = False
        self._dlq_checked_at = float("-inf")
        # Set while the consumer waits to retry a transient failure: readiness and metrics report it.
        self.retrying_since: float | None = None
        self.retry_error: str | None = None
        self._retry_attempt = 0
        self._retry_at: float | None = None
        self._committing: asyncio.Task[None] | None = None

    @property
    def retrying(self) -> bool:
        return self.retrying_since is not None

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
        self._retry_at = None  # a fresh consumer reads from the committed offsets: retry at once

    async def _stop_clients(self) -> None:
        for client in (self.consumer, self.dlq_producer):
            if client is not None:
                await stop_client(client)
        self.consumer = self.dlq_producer = None

    async def _loop(self) -> None:
        assert self.consumer is not None
        try:
            while True:
                if self._retry_at is not None:
                    wait = self._retry_at - time.monotonic()
                    if wait > 0:
                        # Paused partitions return nothing, but polling keeps the group membership alive.
                        stray = await self.consumer.getmany(timeout_ms=int(min(wait, 0.5) * 1000) + 1)
                        for tp, records in stray.items():  # assigned by a rebalance meanwhile: read them later
                            self.consumer.seek(tp, records[0].offset)
                        self.consumer.pause(*self.consumer.assignment())
                        continue
                    self._retry_at = None
                    self.consumer.resume(*self.consumer.paused())
                batches = await self.consumer.getmany(timeout_ms=500, max_records=self.settings.consumer_batch_size)
                if not batches:
                    await self._committed()
                    self._record_lag(self._caught_up())
                    await self._record_dlq_depth()
                    continue
                started = time.perf_counter()
                try:
                    # Every partition of the fetch in one transaction: one commit per fetch, not per partition.
                    await self.process([record for records in batches.values() for record in records])
                except RetryLater as retry:
                    await self._committed()
                    await self._commit(retry.positions)
                    self._wait_to_retry(retry)
                    continue
                except Exception:
                    # Nothing of this fetch is committed: read it again after reconnecting.
                    for tp, records in batches.items():
                        self.consumer.seek(tp, records[0].offset)
                    raise
                positions = {tp: records[-1].offset + 1 for tp, records in batches.items()}
                await self._committed()
                # The effects are committed, so the offsets may follow: they go to the broker while the next
                # fetch is applied (one commit in flight at a time, in order; a failure surfaces at the next).
                self._committing = asyncio.create_task(self._commit(positions))
                self._recovered()
                metrics.CONSUMER_LATENCY.labels(self.settings.service).observe(time.perf_counter() - started)
                self._record_lag(positions)
        finally:
            if (committing := self._committing) is not None:
                # Stopping or failing: let the last commit finish if it can (else those offsets are re-read,
                # and the inbox skips what they cover).
                self._committing = None
                await asyncio.wait({committing}, timeout=5)
                committing.cancel()
                await asyncio.gather(committing, return_exceptions=True)

    async def _committed(self) -> None:
        """Wait for the offset commit in flight (raising its failure)."""
        if self._committing is not None:
            committing, self._committing = self._committing, None
            await committing

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

    async def _commit(self, positions: dict[TopicPartition, int]) -> None:
        assert self.consumer is not None
        # A broker that restarted (memory-only) or lost the group makes commits fail forever:
        # give up after a while, reconnect, and let the inbox absorb the re-read.
        await asyncio.wait_for(self.consumer.commit(positions), timeout=15)

    def _wait_to_retry(self, retry: RetryLater) -> None:
        """Seek back to the first unfinished records and pause until the backoff has passed."""
        assert self.consumer is not None
        assigned = self.consumer.assignment()
        for tp, offset in retry.positions.items():
            if tp in assigned:
                self.consumer.seek(tp, offset)
        # Every assigned partition waits, so nothing is fetched (and dropped) while the consumer waits.
        self.consumer.pause(*assigned)
        self._retry_attempt += 1
        delay = retry_delay(
            self._retry_attempt,
            self.settings.consumer_retry_backoff_seconds,
            self.settings.consumer_max_retry_backoff_seconds,
        )
        self._retry_at = time.monotonic() + delay
        if self.retrying_since is None:
            self.retrying_since = time.monotonic()
        self.retry_error = "".join(traceback.format_exception_only(retry.cause)).strip()[:500]
        metrics.CONSUMER_RETRYING.labels(self.settings.service).set(1)
        metrics.CONSUMER_RETRIES.labels(self.settings.service).inc()
        log.warning(
            "event failed transiently; partitions paused, will retry",
            extra={"attempt": self._retry_attempt, "retry_in_seconds": round(delay, 3), "error": self.retry_error},
        )

    def _recovered(self) -> None:
        if self.retrying_since is not None:
            log.info(
                "consumer recovered",
                extra={
                    "attempts": self._retry_attempt,
                    "stuck_seconds": round(time.monotonic() - self.retrying_since, 3),
                },
            )
        self.retrying_since = self.retry_error = None
        self._retry_attempt = 0
        metrics.CONSUMER_RETRYING.labels(self.settings.service).set(0)

    async def process(self, records: Sequence[ConsumerRecord[Any, Any]]) -> None:
        """Apply fetched records (in partition order): all in one transaction, else one by one.

        Raises ``RetryLater`` with the first unfinished offset of each partition on a transient failure.
        """
        with collector_paused():
            await self._process(records)

    async def _process(self, records: Sequence[ConsumerRecord[Any, Any]]) -> None:
        parsed: list[Envelope | MalformedEvent | None] = [self._parse(record) for record in records]
        envelopes = [item for item in parsed if isinstance(item, Envelope)]
        try:
            if envelopes:
                await self._apply_refusing(envelopes, records)
        except Exception:
            log.info("batch failed; applying one by one", exc_info=True)
        else:
            # A record that cannot be read never could be: parked once the rest of its fetch is applied.
            for record, item in zip(records, parsed, strict=True):
                if isinstance(item, MalformedEvent):
                    await self._dead_letter(record, f"unparseable: {item}", attempts=0)
            return
        # One by one, in order: a permanent failure is dead-lettered, a transient one stops the fetch here.
        for index, (record, item) in enumerate(zip(records, parsed, strict=True)):
            if item is None:
                continue
            if isinstance(item, MalformedEvent):
                await self._dead_letter(record, f"unparseable: {item}", attempts=0)
                continue
            try:
                await self._apply([item])
            except Exception as exc:
                if not is_permanent(exc):
                    raise RetryLater(_resume_positions(records, index), exc) from exc
                error = "".join(traceback.format_exception_only(exc)).strip()
                await self._dead_letter(record, f"refused: {error}", attempts=1)

    async def _apply_refusing(self, envelopes: Sequence[Envelope], records: Sequence[ConsumerRecord[Any, Any]]) -> None:
        """Apply the batch; envelopes a batch handler refuses (``RecordsRefused``) are left out of a new try, then
        dead-lettered once the rest committed (a retry re-reads them; the inbox skips what was applied)."""
        refused: dict[str, str] = {}
        while remaining := [envelope for envelope in envelopes if envelope.id not in refused]:
            try:
                await self._apply(remaining)
                break
            except RecordsRefused as refusal:
                if not refusal.reasons.keys() - refused.keys():
                    raise
                refused |= refusal.reasons
        if not refused:
            return
        by_position = {(r.topic, r.partition, r.offset): r for r in records}
        for envelope in (e for e in envelopes if e.id in refused):
            record = by_position[(envelope.topic, envelope.partition, envelope.offset)]
            await self._dead_letter(record, f"refused: {refused[envelope.id]}", attempts=1)

    def _parse(self, record: ConsumerRecord[Any, Any]) -> Envelope | MalformedEvent | None:
        """The record's envelope, the reason it cannot be read, or None for a type this service ignores."""
        read = self.readers.get(record.topic)
        if read is not None:  # another system's format, read by its intake
            try:
                return read(record)
            except MalformedEvent as exc:
                return exc
        event_type = event_type_of(record.headers)
        if event_type is not None and event_type not in self.handlers:
            metrics.CONSUMED.labels(self.settings.service, record.topic, "ignored").inc()
            return None
        try:
            return from_kafka_record(
                topic=record.topic,
                partition=record.partition,
                offset=record.offset,
                key=record.key,
                value=record.value,
                headers=record.headers,
            )
        except MalformedEvent as exc:
            return exc

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
        for topic, count in Counter(envelope.topic for envelope in fresh).items():
            metrics.CONSUMED.labels(self.settings.service, topic, "applied").inc(count)

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
        inserted = set(await self._insert_inbox_rows(session, list(unique.values())))
        fresh = []
        for envelope in unique.values():
            if envelope.id in inserted:
                fresh.append(envelope)
            else:
                metrics.CONSUMED.labels(self.settings.service, envelope.topic, "duplicate").inc()
        return fresh

    async def _insert_inbox_rows(self, session: AsyncSession, envelopes: list[Envelope]) -> list[str]:
        """Insert the envelopes' inbox rows (ids unique), skipping those already there; the ids inserted."""
        now = self.clock.now()
        if session.get_bind().dialect.name == "postgresql":
            shared = {
                "consumer": self.name,
                "applied_at": now,
                "event_ids": [e.id for e in envelopes],
                "partitions": [e.partition for e in envelopes],
                "offsets": [e.offset for e in envelopes],
            }
            event_types = {e.type for e in envelopes}
            topics = {e.topic for e in envelopes}
            if len(event_types) == 1 and len(topics) == 1:
                one = {"event_type": event_types.pop(), "topic": topics.pop()}
                result = await session.execute(_INBOX_INSERT_PG_ONE_TYPE, shared | one)
            else:
                many = {"event_types": [e.type for e in envelopes], "topics": [e.topic for e in envelopes]}
                result = await session.execute(_INBOX_INSERT_PG, shared | many)
            return list(result.scalars())
        rows = [
            {
                "consumer": self.name,
                "event_id": e.id,
                "event_type": e.type,
                "topic": e.topic,
                "partition": e.partition,
                "offset": e.offset,
                "applied_at": now,
            }
            for e in envelopes
        ]
        return list(await insert_rows(session, inbox, rows, skip_conflicts=INBOX_KEY, returning="event_id"))

    async def _handle_run(self, session: AsyncSession, run: list[Envelope]) -> None:
        """Apply consecutive events of one type: batch handlers once, the others event by event."""
        for handler in self.handlers[run[0].type]:
            if getattr(handler, "batch", False):
                context = EventContext(session=session, envelope=run[-1], clock=self.clock, settings=self.settings)
                with tracing.process_span(run[-1], also=run[:-1]):
                    await handler(context, run)
            else:
                for envelope in run:
                    await self._handle(session, envelope, handler)

    async def _handle(self, session: AsyncSession, envelope: Envelope, handler: Handler) -> None:
        rid_token = request_id_var.set(envelope.headers.get("x-request-id"))
        tp_token = traceparent_var.set(envelope.headers.get("traceparent"))
        try:
            with tracing.process_span(envelope) as span:
                traceparent_var.set(tracing.traceparent_of(span) or envelope.headers.get("traceparent"))
                await handler(
                    EventContext(session=session, envelope=envelope, clock=self.clock, settings=self.settings),
                    envelope.data,
                )
        finally:
            request_id_var.reset(rid_token)
            traceparent_var.reset(tp_token)

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


def _resume_positions(records: Sequence[ConsumerRecord[Any, Any]], first_unfinished: int) -> dict[TopicPartition, int]:
    """Per partition of a fetch: the offset to read next when ``records[first_unfinished:]`` are not done."""
    done: dict[TopicPartition, int] = {}
    pending: dict[TopicPartition, int] = {}
    for index, record in enumerate(records):
        tp = TopicPartition(record.topic, record.partition)
        if index < first_unfinished:
            done[tp] = record.offset + 1
        else:
            pending.setdefault(tp, record.offset)  # a partition's records come in offset order
    return {**done, **pending}
