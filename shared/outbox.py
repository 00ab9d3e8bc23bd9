"""Transactional outbox: ``emit`` writes the event in the caller's transaction; ``OutboxRelay`` publishes.

The relay is the only code that produces to Kafka on the producing side. It publishes unpublished rows
in ``seq`` order (so one customer's events keep their order), in batches, marks them sent with the
partition and offset the broker gave, backs off while the broker is away, and republishes the retained
rows when it finds the broker has lost what it was sent (a memory-only broker restarted, an incident).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import logging
import operator
import os
import re
import socket
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from typing import Any, NamedTuple, cast

from aiokafka import AIOKafkaProducer
from sqlalchemy import ColumnElement, func, select, text, update
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncSession

from shared import metrics, tracing
from shared.broker_retention import BrokerRetentionCheck
from shared.clock import Clock
from shared.cloudevents import to_kafka_message, to_kafka_messages
from shared.context import propagation_headers
from shared.db import OUTBOX_WRITTEN, Database, insert_columns, insert_rows, uuid4s
from shared.events.base import Event
from shared.kafka import ensure_topics, key_partition, make_producer, stop_client, suite_topics
from shared.leases import Lease
from shared.settings import ServiceSettings
from shared.tables import outbox

log = logging.getLogger(__name__)


_MARKING_IN_FLIGHT = 3
"""Batches marked sent concurrently by ``drain`` on PostgreSQL (an UPDATE of 500 rows outlasts a send)."""

_BACKLOG_GROWTH = 8
"""While a backlog lasts, ``drain`` doubles its reads up to this many times ``relay_batch_size`` rows."""

_MARKING_BACKLOG = 8
"""Largest batches' worth of acknowledged rows that may wait for a marking slot before sending waits too."""

MARK_SENT_POSTGRESQL = (
    "WITH asynchronous_commit AS MATERIALIZED (SELECT set_config('synchronous_commit', 'off', true)) "
    "UPDATE outbox SET published_at = $1, kafka_partition = v.partition, "
    "kafka_offset = v.kafka_offset, last_error = NULL "
    "FROM asynchronous_commit, unnest($2::bigint[], $3::integer[], $4::bigint[]) AS v(seq, partition, kafka_offset) "
    "WHERE outbox.seq = v.seq AND outbox.seq BETWEEN $5 AND $6"
)
"""Mark a batch published where it landed: (now, seqs, partitions, offsets, lowest seq, highest seq), one
statement in a transaction of its own (asyncpg, autocommit): one round trip.

The ``seq`` range lets the planner take the batch's rows from the primary key: joined on ``seq`` alone it
hashed the whole table (published rows are retained) for every batch, all 5,000 rows for a 500-row batch in
the bench, and more as the table grows. ``asynchronous_commit`` makes this transaction's commit return
before its WAL is flushed to disk (the transaction's own setting, read at commit; durable a moment later, or
lost in a crash of the database server, which only re-sends the rows). As one statement, not BEGIN,
``set_config``, UPDATE, COMMIT: every round trip of a marking waited for the relay's single thread, busy
building and sending the next batch, so a 500-row marking took 200-400 ms of wall time at load 5."""

MARK_SENT_SQLITE = (
    "UPDATE outbox SET published_at = ?, kafka_partition = ?, kafka_offset = ?, last_error = NULL WHERE seq = ?"
)
"""SQLite: the same, one row by primary key per parameter set (the driver's executemany)."""


NOTIFY_CHANNEL = "creditflow_outbox"
"""PostgreSQL channel notified in every transaction that writes outbox rows (wakes the relay of any replica)."""

_READ_COLUMNS = "event_id, subject, data, key, seq, topic, event_type, source, occurred_at, headers"
READ_UNPUBLISHED_POSTGRESQL = (
    f"SELECT {_READ_COLUMNS.replace('event_id', 'event_id::text', 1)} FROM outbox "
    "WHERE published_at IS NULL AND seq > $1 ORDER BY published_at, seq LIMIT $2"
)
"""The relay's read: the next unpublished rows in order, in ``OutboxRow``'s column order (the first five are
what ``to_kafka_messages`` takes of each event); ``event_id`` as text, as the message carries it.

Ordered as ``ix_outbox_unpublished`` is (every row read has ``published_at`` NULL, so this is ``seq`` order),
and planned with sorting off (``READ_PLAN_POSTGRESQL``): the index then gives the rows in order and the scan
stops after ``LIMIT`` of them. PostgreSQL does not take ``IS NULL`` as an equality for the index's order, and
its statistics, gathered while nearly every row was published (they are retained), see a backlog as a few
rows: it read the WHOLE backlog (bitmap scan) and sorted it, on disk past ``work_mem``, for every batch: 95-130
ms of the database's CPU per 4,000-row read of a 16,000-row backlog, 3-6 ms now."""

READ_PLAN_POSTGRESQL = "BEGIN READ ONLY; SET LOCAL enable_sort = off"
"""Opens the read's transaction (one round trip): the planner takes a sort only when no ordered path exists."""

READ_UNPUBLISHED_SQLITE = (
    f"SELECT {_READ_COLUMNS} FROM outbox WHERE published_at IS NULL AND seq > ? ORDER BY seq LIMIT ?"
)
"""SQLite: the same (``event_id`` is stored as text there)."""

_CANONICAL_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


async def emit(session: AsyncSession, event: Event, *, at: datetime, subject: str | None = None) -> uuid.UUID:
    """Add ``event`` to the outbox in the caller's transaction; it is published only if that commits."""
    return (await emit_many(session, [event], at=at, subjects=[subject]))[0]


async def emit_many(
    session: AsyncSession, events: list[Event], *, at: datetime, subjects: list[str | None] | None = None
) -> list[uuid.UUID]:
    """Add several events to the outbox in one statement (in order), in the caller's transaction."""
    if not events:
        return []
    headers = json.dumps(propagation_headers())
    rows: list[dict[str, Any]] = []
    for n, event in enumerate(events):
        customer = str(event.customer_id)
        rows.append(
            {
                "event_id": uuid.uuid4(),
                "topic": event.topic(),
                "key": customer,
                "event_type": event.event_type,
                "source": f"/creditflow/{event.producer()}",
                "subject": (subjects[n] if subjects else None) or customer,
                "occurred_at": at,
                "data": event.model_dump_json(),
                "headers": headers,
                "created_at": at,
            }
        )
    await insert_rows(session, outbox, rows)
    await outbox_written(session)
    return [cast(uuid.UUID, row["event_id"]) for row in rows]


async def emit_rendered(
    session: AsyncSession, event_class: type[Event], payloads: list[tuple[uuid.UUID, str]], *, at: datetime
) -> None:
    """``emit_many`` for events of one class whose JSON the caller wrote: (customer id, ``data``) pairs.

    For bulk paths (10,000 invoices): a model built and dumped per event was a tenth of the request. The
    caller's JSON must be what ``event_class(...).model_dump_json()`` gives (test it against that).
    """
    if not payloads:
        return
    headers = json.dumps(propagation_headers())
    topic, event_type, source = event_class.topic(), event_class.event_type, f"/creditflow/{event_class.producer()}"
    count = len(payloads)
    customers = [str(customer_id) for customer_id, _ in payloads]
    columns: dict[str, list[Any]] = {
        "event_id": uuid4s(count),
        "topic": [topic] * count,
        "key": customers,
        "event_type": [event_type] * count,
        "source": [source] * count,
        "subject": customers,
        "occurred_at": [at] * count,
        "data": [data for _, data in payloads],
        "headers": [headers] * count,
        "created_at": [at] * count,
    }
    await insert_columns(session, outbox, columns)
    await outbox_written(session)


def outbox_notify_sql() -> ColumnElement[Any]:
    """The relay's wake-up across replicas (PostgreSQL) as an expression, for a statement that writes outbox
    rows itself: put in it, it saves ``outbox_written`` its round trip (then call that with ``notified``)."""
    return func.pg_notify(NOTIFY_CHANNEL, "")


async def outbox_written(session: AsyncSession, *, notified: bool = False) -> None:
    """Note that this transaction wrote outbox rows: its commit wakes the relay, here and (PostgreSQL) elsewhere.

    Code that inserts into the outbox without ``emit`` (bulk paths) calls this once per transaction;
    ``notified``: a statement of this transaction ran ``outbox_notify_sql`` already.
    """
    if session.info.get(OUTBOX_WRITTEN):
        return
    session.info[OUTBOX_WRITTEN] = True
    if session.get_bind().dialect.name == "postgresql" and not notified:
        # Delivered at commit, never for a rolled-back transaction; once per transaction.
        await session.execute(text("SELECT pg_notify(:channel, '')"), {"channel": NOTIFY_CHANNEL})


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
        self.retention = BrokerRetentionCheck(db, settings, clock)
        self._lease_renewed_at: float | None = None
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

    async def connect(self) -> None:
        """Connect to the broker now (the first send does it otherwise)."""
        await self._producer()

    async def _drop_producer(self) -> None:
        if self.producer is not None:
            producer, self.producer = self.producer, None
            await stop_client(producer)

    async def run(self) -> None:
        """Relay until cancelled: woken by commits that wrote outbox rows, polling only as a fallback."""
        helpers = [asyncio.create_task(self._retention_loop(), name="outbox-retention")]
        if self.db.dialect == "postgresql":
            helpers.append(asyncio.create_task(self._listen(), name="outbox-listen"))
        try:
            await self._relay_loop()
        finally:
            for helper in helpers:
                helper.cancel()
            await asyncio.gather(*helpers, return_exceptions=True)

    async def _retention_loop(self) -> None:
        """The broker check beside the relay, not in its path: reading records back from the broker (and
        pruning old rows) took up to seconds every 10 s, and every event committed meanwhile waited."""
        while True:
            await asyncio.sleep(min(self.settings.relay_broker_check_interval_seconds, 1.0))
            if self._lease_renewed_at is None:
                continue  # another replica relays, and checks
            try:
                await self.check_broker_retention()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the broker is away: the relay loop backs off; check again later
                log.debug("broker retention check failed", extra={"error": repr(exc)})

    async def _relay_loop(self) -> None:
        wake = self.db.outbox_committed
        while True:
            try:
                if not await self._hold_lease():
                    await asyncio.sleep(1.0)
                    continue
                # Cleared before reading: a commit from now on wakes the wait below.
                wake.clear()
                await self.drain()
                self._backoff = 0.0
                self.connected = True
                # Drained: wait for a commit that wrote outbox rows (the poll is the fallback).
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(wake.wait(), self.settings.relay_poll_interval_seconds)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                self.connected = False
                self._lease_renewed_at = None
                self._backoff = min(max(self._backoff * 2, 0.5), self.settings.relay_max_backoff_seconds)
                log.warning("outbox relay failed; retrying", extra={"error": repr(exc), "backoff": self._backoff})
                metrics.OUTBOX_FAILURES.labels(self.settings.service).inc()
                await self._drop_producer()
                await asyncio.sleep(self._backoff)

    async def _hold_lease(self) -> bool:
        """Take or renew the lease, renewing at most every third of its time to live (not per batch)."""
        now = time.monotonic()
        if self._lease_renewed_at is not None and now - self._lease_renewed_at < self.lease.ttl.total_seconds() / 3:
            return True
        if await self.lease.acquire():
            self._lease_renewed_at = now
            return True
        self._lease_renewed_at = None
        return False

    async def _listen(self) -> None:
        """PostgreSQL: LISTEN on the outbox channel so commits of other replicas wake this relay too."""
        import asyncpg  # only on PostgreSQL

        dsn = make_url(self.db.url).set(drivername="postgresql").render_as_string(hide_password=False)
        wake = self.db.outbox_committed
        while True:
            connection = None
            try:
                closed = asyncio.Event()
                connection = await asyncpg.connect(dsn)
                connection.add_termination_listener(lambda *_args, closed=closed: closed.set())
                await connection.add_listener(NOTIFY_CHANNEL, lambda *_args: wake.set())
                await closed.wait()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the poll covers the gap; try again later
                log.debug("outbox listener failed", extra={"error": repr(exc)})
            finally:
                if connection is not None:
                    with contextlib.suppress(Exception):
                        await asyncio.wait_for(connection.close(), 5)
            await asyncio.sleep(1.0)

    async def stop(self) -> None:
        await self._drop_producer()
        try:
            await self.lease.release()
        except Exception:
            log.debug("lease release failed", exc_info=True)

    async def relay_once(self) -> int:
        """Publish one batch of unpublished rows in order; return how many were sent."""
        rows = await self._read_batch(after_seq=None)
        if not rows:
            return 0
        results = await self._publish(rows)
        await self._mark_sent(_sent(rows, results))
        return len(rows)

    async def drain(self) -> int:
        """Publish until no unpublished row is left; return how many were sent.

        Rows are read ``relay_batch_size`` at a time, doubling (up to ``_BACKLOG_GROWTH`` times) while each
        read comes back full: a batch waits for the previous one's acknowledgement, so under a backlog the
        round trips, not the rows, were the relay's pace. Pipelined, order kept: batch N+1 is read (and its
        messages built) while batch N is sent and acknowledged, and sent only once N is acknowledged, while
        N is marked sent in the background (on PostgreSQL up to ``_MARKING_IN_FLIGHT`` transactions mark
        rows at once: each UPDATE touches other rows). Rows acknowledged while every marking slot is busy
        wait and are marked together by the next free slot (one transaction for several batches: on SQLite,
        where one writer marks at a time, a commit per batch was most of the relay's time); sending waits
        only once ``_MARKING_BACKLOG`` of the largest batches are waiting. The last rows acknowledged are
        split among the free slots (the drain waits for their marking alone). A failure raises after
        recording it; rows not marked sent are published again (at least once, as always).
        """
        total = 0
        marking: deque[asyncio.Task[None]] = deque()
        backlog: list[tuple[int, int, int]] = []
        in_flight = _MARKING_IN_FLIGHT if self.db.dialect == "postgresql" else 1
        limit = base = self.settings.relay_batch_size
        rows, messages = await self._read_batch(after_seq=None), None
        try:
            while rows:
                # A full read means a backlog: read more at once next time (fewer round trips to the broker,
                # each of which the next batch waits for); a short one means caught up.
                limit = min(2 * limit, base * _BACKLOG_GROWTH) if len(rows) >= limit else base
                reading = asyncio.create_task(self._read_ahead(after_seq=rows[-1][_SEQ], limit=limit))
                try:
                    results = await self._acknowledged(rows, await self._send(rows, messages))
                except BaseException:
                    reading.cancel()
                    await asyncio.gather(reading, return_exceptions=True)
                    raise
                backlog += _sent(rows, results)
                total += len(rows)
                rows, messages = await reading  # read while the batch was sent: done by now, as a rule
                while marking and marking[0].done():
                    await marking.popleft()  # raises its failure
                if len(marking) >= in_flight and len(backlog) >= _MARKING_BACKLOG * base * _BACKLOG_GROWTH:
                    await marking.popleft()
                # One marking a free slot takes; but the last is all the drain still waits for: split among the
                # free slots (PostgreSQL), it ends sooner.
                free = in_flight - len(marking)
                for chunk in _chunks(backlog, min(free, 1) if rows else free):
                    marking.append(asyncio.create_task(self._mark_sent(chunk)))
                    backlog = []
        finally:
            failures = [r for r in await asyncio.gather(*marking, return_exceptions=True) if r is not None]
            if backlog:  # acknowledged: mark them even when sending failed later
                try:
                    await self._mark_sent(backlog)
                except Exception as exc:
                    failures.append(exc)
            if failures:
                raise failures[0]
        return total

    async def _read_batch(self, after_seq: int | None, limit: int | None = None) -> list[Row]:
        """The next unpublished rows in ``seq`` order, in ``OutboxRow``'s column order (not named tuples).

        On the driver itself (asyncpg's ``fetch``, SQLite's cursor), not SQLAlchemy's result: its per-row
        processing of ten columns (a UUID object per row, made text again for the message, a time zone
        per timestamp) was more of the relay's CPU than the query. The values are those SQLAlchemy gave:
        on PostgreSQL ``event_id::text`` is ``str(uuid)`` and asyncpg gives ``timestamptz`` as an aware
        UTC datetime already, so its records are the rows; SQLite holds both as text, converted here
        (a time through the column type's own processing, once per distinct value).
        """
        params = (-1 if after_seq is None else after_seq, limit or self.settings.relay_batch_size)
        async with self.db.read() as connection:
            driver: Any = (await connection.get_raw_connection()).driver_connection
            if self.db.dialect == "postgresql":
                try:
                    await driver.execute(READ_PLAN_POSTGRESQL)
                    rows = await driver.fetch(READ_UNPUBLISHED_POSTGRESQL, *params)
                    await driver.execute("COMMIT")
                except BaseException:
                    # Failed or cancelled inside its transaction: the connection must not go back to the pool
                    # with that transaction (and its plan setting) open; it is closed instead.
                    await connection.invalidate()
                    raise
                return cast(list[Row], rows)
            records = await driver.execute_fetchall(READ_UNPUBLISHED_SQLITE, params)
            times = _Times(outbox.c.occurred_at.type._cached_result_processor(connection.dialect, None))
        return [
            (
                event_id if _CANONICAL_UUID.fullmatch(event_id) else str(uuid.UUID(event_id)),
                subject,
                data,
                key,
                seq,
                topic,
                event_type,
                source,
                times[occurred_at],
                headers,
            )
            for event_id, subject, data, key, seq, topic, event_type, source, occurred_at, headers in records
        ]

    async def _publish(self, rows: list[Row]) -> list[tuple[int, int]]:
        return await self._acknowledged(rows, await self._send(rows))

    async def _send(self, rows: list[Row], messages: list[Message] | None = None) -> list[Pending]:
        """Hand the batch to the producer; the acknowledgements to wait for, each with the rows it covers.

        ``messages``: the rows' messages built beforehand (``_read_ahead``), when tracing is off. Then the
        messages go in record batches we fill per partition (``create_batch``/``send_batch``), in ``seq``
        order within each partition, so one key's events keep their order: per-message ``send`` costs a
        partitioner call, a future and an accumulator lookup each, most of what the relay spent in aiokafka.
        """
        try:
            producer = await self._producer()
            if tracing.recording():
                return [
                    (await self._send_traced(producer, row, dict(headers)), [index])
                    for index, (row, headers) in enumerate(_with_headers([OutboxRow._make(row) for row in rows]))
                ]
            return await _send_batched(
                producer,
                rows,
                messages or _messages(rows),
                compress_beside=not self.settings.kafka_enable_idempotence,
            )
        except Exception as exc:
            await self._record_failure([row[_SEQ] for row in rows], exc)
            raise

    async def _read_ahead(self, after_seq: int, limit: int) -> tuple[list[Row], list[Message] | None]:
        """The next batch and (tracing off) its messages, built while the previous one is sent."""
        rows = await self._read_batch(after_seq, limit)
        return rows, None if tracing.recording() else _messages(rows)

    async def _acknowledged(self, rows: list[Row], pending: list[Pending]) -> list[tuple[int, int]]:
        """(partition, offset) of each row once the broker acknowledged it."""
        try:
            acknowledged = await asyncio.gather(*(future for future, _ in pending))
        except Exception as exc:
            await self._record_failure([row[_SEQ] for row in rows], exc)
            raise
        positions: list[tuple[int, int]] = [(0, 0)] * len(rows)
        for metadata, (_, indexes) in zip(acknowledged, pending, strict=True):
            # A record batch's acknowledgement carries its base offset; its records follow in append order.
            for relative, index in enumerate(indexes):
                positions[index] = (metadata.partition, metadata.offset + relative)
        return positions

    async def _mark_sent(self, sent: list[tuple[int, int, int]]) -> None:
        """Mark (seq, partition, offset) rows published: one statement on PostgreSQL (unnest), executemany on SQLite."""
        metrics.OUTBOX_PUBLISHED.labels(self.settings.service).inc(len(sent))
        now = self.clock.now()
        if self.db.dialect == "postgresql":
            seqs, partitions, offsets = (list(column) for column in zip(*sent, strict=True))
            # A mark lost in a database crash only re-sends its rows (at least once, as always): not worth
            # waiting for the WAL flush, which on a busy disk held each marking up to a second.
            async with self.db.engine.connect() as connection:
                driver: Any = (await connection.get_raw_connection()).driver_connection
                await driver.execute(MARK_SENT_POSTGRESQL, now, seqs, partitions, offsets, min(seqs), max(seqs))
            return
        async with self.db.transaction() as session:
            # SQLite: the driver's executemany on the session's connection (its BEGIN IMMEDIATE transaction),
            # the time bound as SQLAlchemy binds it; SQLAlchemy's executemany processed each row's parameters.
            bind = outbox.c.published_at.type._cached_bind_processor(session.get_bind().dialect)
            published_at = bind(now) if bind else now
            sqlite: Any = (await (await session.connection()).get_raw_connection()).driver_connection
            await sqlite.executemany(
                MARK_SENT_SQLITE, [(published_at, partition, offset, seq) for seq, partition, offset in sent]
            )

    async def _send_traced(
        self, producer: AIOKafkaProducer, row: OutboxRow, extra_headers: dict[str, str]
    ) -> asyncio.Future[Any]:
        """Send one row inside a publish span whose parent is the request that wrote it (tracing on)."""
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
            key, value, headers = _message(row, extra_headers, traceparent)
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
        async with self.db.transaction(read_only=True) as session:
            return int(
                await session.scalar(select(func.count()).select_from(outbox).where(outbox.c.published_at.is_(None)))
                or 0
            )

    async def check_broker_retention(self, force: bool = False) -> int:
        """Republish retained rows when the broker no longer holds what it acknowledged; return rows marked."""
        return await self.retention.check(force)


Message = tuple[bytes, bytes, list[tuple[str, bytes]]]
Pending = tuple["asyncio.Future[Any]", list[int]]
"""An acknowledgement to wait for and the indexes (in its batch of rows) of the rows it covers, in order."""


class OutboxRow(NamedTuple):
    """An outbox row as the relay reads it (``_read_batch`` gives plain tuples in this order)."""

    event_id: str
    subject: str | None
    data: str
    key: str
    seq: int
    topic: str
    event_type: str
    source: str
    occurred_at: datetime
    headers: str


Row = tuple[Any, ...]
"""``OutboxRow``'s fields as a plain tuple, in its order (no named tuple built per row on the hot path)."""

_SEQ, _TOPIC = OutboxRow._fields.index("seq"), OutboxRow._fields.index("topic")


class _Times(dict[Any, datetime]):
    """Driver time values to what SQLAlchemy's column type makes of them, each distinct value once (one
    transaction's rows share their time)."""

    def __init__(self, process: Callable[[Any], Any] | None) -> None:
        super().__init__()
        self.process = process

    def __missing__(self, value: Any) -> datetime:
        converted = self[value] = self.process(value) if self.process else value
        return cast(datetime, converted)


def _with_headers(rows: list[OutboxRow]) -> Iterator[tuple[OutboxRow, dict[str, str]]]:
    """Each row with its headers: a transaction's rows share one headers text, parsed once (not per row)."""
    raw, headers = None, {}
    for row in rows:
        if row.headers != raw:
            raw, headers = row.headers, json.loads(row.headers)
        yield row, headers


def _messages(rows: list[Row]) -> list[Message]:
    """The rows' messages as the relay sends them when tracing is off.

    Built a run at a time: consecutive rows with the same headers, source, type and time (one transaction's
    events) share their encoded headers; the headers JSON is parsed once a run. Times come from the database
    all in UTC, so equal times are written alike.
    """
    messages: list[Message] = []
    for (raw, source, event_type, occurred_at), run in itertools.groupby(rows, key=_RUN_OF):
        headers = json.loads(raw)
        messages += to_kafka_messages(
            event_type=event_type,
            source=source,
            occurred_at=occurred_at,
            extra_headers=headers,
            traceparent=headers.get("traceparent"),
            events=run,  # each row starts with (event id, subject, data, key, seq)
        )
    return messages


_RUN_OF = operator.itemgetter(
    *(OutboxRow._fields.index(name) for name in ("headers", "source", "event_type", "occurred_at"))
)


def _message(row: OutboxRow, extra_headers: dict[str, str], traceparent: str | None) -> Message:
    """(key, value, headers) of an outbox row in CloudEvents binary mode; ``sequence`` is its outbox position."""
    return to_kafka_message(
        event_id=row.event_id,
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


def _chunks(sent: list[tuple[int, int, int]], parts: int) -> list[list[tuple[int, int, int]]]:
    """``sent`` in up to ``parts`` consecutive pieces of about equal size (none when ``parts`` is 0)."""
    if parts <= 0 or not sent:
        return []
    size = -(-len(sent) // parts)
    return [sent[start : start + size] for start in range(0, len(sent), size)]


def _sent(rows: list[Row], positions: list[tuple[int, int]]) -> list[tuple[int, int, int]]:
    return [(row[_SEQ], partition, offset) for row, (partition, offset) in zip(rows, positions, strict=True)]


async def _send_batched(
    producer: AIOKafkaProducer, rows: list[Row], messages: list[Message], *, compress_beside: bool = False
) -> list[Pending]:
    """Send ``messages`` (of ``rows``, in ``seq`` order) in record batches filled per partition, in order.

    A key's partition is the default partitioner's (``shared.kafka.key_partition``), so a key lands where
    per-message ``send`` put it. A full batch goes to the producer before the next of its partition is
    started; aiokafka queues a partition's batches in order and has one request in flight per broker, so
    a partition's records keep the order they were appended in, retries included.

    ``compress_beside``: each batch is built (compressed) in a worker thread before it goes to the producer,
    in the order the batches were closed. aiokafka builds a batch when its sender makes the request, on the
    event loop, and gzip (level 9) of the batches was about half of the relay's CPU, while reads, messages and
    markings waited; zlib lets go of the GIL while it compresses, so the loop goes on meanwhile. The bytes are
    those the sender would build. Only without idempotence: an idempotent producer writes its sequence
    numbers into a batch when it sends it, so that batch must not be built before.
    """
    pending: list[Pending] = []
    closed: deque[tuple[asyncio.Future[Any] | None, Any, tuple[str, int], list[int]]] = deque()
    loop = asyncio.get_running_loop()

    def close(batch: Any, tp: tuple[str, int], indexes: list[int]) -> None:
        built = loop.run_in_executor(None, batch._build) if compress_beside else None
        closed.append((built, batch, tp, indexes))

    async def send_next() -> None:
        built, batch, (topic, partition), indexes = closed.popleft()
        if built is not None:
            await built
        pending.append((await producer.send_batch(batch, topic, partition=partition), indexes))

    open_batches: dict[tuple[str, int], tuple[Any, list[int]]] = {}
    partitions_of: dict[str, list[int]] = {}
    for index, (row, (key, value, headers)) in enumerate(zip(rows, messages, strict=True)):
        topic = row[_TOPIC]
        partitions = partitions_of.get(topic)
        if partitions is None:
            partitions = partitions_of[topic] = sorted(await producer.partitions_for(topic))
        tp = (topic, partitions[key_partition(key, len(partitions))])
        batch, indexes = open_batches.get(tp) or (None, [])
        if batch is None or batch.append(timestamp=None, key=key, value=value, headers=headers) is None:
            if batch is not None:  # full: send it (once built), start the next (a first record always fits)
                close(batch, tp, indexes)
                while closed and (closed[0][0] is None or closed[0][0].done()):
                    await send_next()
            batch, indexes = producer.create_batch(), []
            batch.append(timestamp=None, key=key, value=value, headers=headers)
            open_batches[tp] = (batch, indexes)
        indexes.append(index)
    for tp, (batch, indexes) in open_batches.items():
        close(batch, tp, indexes)
    while closed:
        await send_next()
    return pending
