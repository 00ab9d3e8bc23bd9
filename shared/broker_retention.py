"""The relay's broker check: prune old published outbox rows, and republish the retained ones when the
broker has lost what it acknowledged (a memory-only broker restarted, an incident)."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from aiokafka import AIOKafkaConsumer, TopicPartition
from sqlalchemy import delete, func, select, update

from shared import metrics
from shared.clock import Clock
from shared.db import Database
from shared.kafka import connection_options, ensure_topics, suite_topics
from shared.settings import ServiceSettings
from shared.tables import outbox

log = logging.getLogger("shared.outbox")  # the relay's log, as before the split: filters on the name still match


class BrokerRetentionCheck:
    """Compares the retained published outbox rows with what the broker still holds, at most once an interval."""

    def __init__(self, db: Database, settings: ServiceSettings, clock: Clock) -> None:
        self.db, self.settings, self.clock = db, settings, clock
        self._last_check: datetime | None = None

    async def check(self, force: bool = False) -> int:
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
