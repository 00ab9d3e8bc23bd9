"""Dead letters of a service: list them, show one, and redrive them to the topic they came from.

A dead letter keeps the original key, value and headers, plus ``dlq_*`` headers saying why and from where.
Redriving republishes the original message (``dlq_*`` headers removed) on its original topic; the service's
consumer applies it through its inbox, so redriving twice, or an event already applied, does nothing twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition

from shared.kafka import connection_options, make_producer
from shared.settings import ServiceSettings


@dataclass(frozen=True)
class DeadLetter:
    """One message on a dead-letter topic."""

    offset: int
    key: bytes | None
    value: bytes | None
    headers: list[tuple[str, bytes]]

    def header(self, name: str) -> str | None:
        for header_name, raw in self.headers:
            if header_name == name:
                return raw.decode("utf-8", "replace")
        return None

    @property
    def original_headers(self) -> list[tuple[str, bytes]]:
        return [(name, raw) for name, raw in self.headers if not name.startswith("dlq_")]

    def summary(self) -> dict[str, Any]:
        """What ``dlq list`` prints for it."""
        return {
            "offset": self.offset,
            "key": self.key.decode("utf-8", "replace") if self.key is not None else None,
            "event_type": self.header("ce_type"),
            "event_id": self.header("ce_id"),
            "original_topic": self.header("dlq_original_topic"),
            "original_partition": self.header("dlq_original_partition"),
            "original_offset": self.header("dlq_original_offset"),
            "consumer": self.header("dlq_consumer"),
            "error": self.header("dlq_error"),
        }

    def detail(self) -> dict[str, Any]:
        """What ``dlq show`` prints: the summary, every header and the value."""
        return {
            **self.summary(),
            "headers": {name: raw.decode("utf-8", "replace") for name, raw in self.headers},
            "value": self.value.decode("utf-8", "replace") if self.value is not None else None,
        }


async def read_dead_letters(settings: ServiceSettings) -> list[DeadLetter]:
    """Every message on the service's dead-letter topic, oldest first (read outside any consumer group)."""
    consumer = AIOKafkaConsumer(
        enable_auto_commit=False, auto_offset_reset="earliest", group_id=None, **connection_options(settings)
    )
    await consumer.start()
    try:
        partitions = consumer.partitions_for_topic(settings.dead_letter_topic)
        if partitions is None:
            await consumer.client.force_metadata_update()
            partitions = consumer.partitions_for_topic(settings.dead_letter_topic) or set()
        assigned = [TopicPartition(settings.dead_letter_topic, partition) for partition in sorted(partitions)]
        if not assigned:
            return []
        consumer.assign(assigned)
        await consumer.seek_to_beginning(*assigned)
        ends = await consumer.end_offsets(assigned)
        letters: list[DeadLetter] = []
        while [tp for tp in assigned if await consumer.position(tp) < ends[tp]]:
            batch = await consumer.getmany(*assigned, timeout_ms=1000)
            for records in batch.values():
                letters += [
                    DeadLetter(offset=r.offset, key=r.key, value=r.value, headers=list(r.headers)) for r in records
                ]
        return sorted(letters, key=lambda letter: letter.offset)
    finally:
        await consumer.stop()


async def redrive(settings: ServiceSettings, letters: list[DeadLetter]) -> int:
    """Republish dead letters on their original topics with their original key and headers."""
    producer = make_producer(settings, client_id=f"{settings.service}-dlq-redrive")
    await producer.start()
    try:
        for letter in letters:
            topic = letter.header("dlq_original_topic")
            if topic is None:
                raise ValueError(f"dead letter at offset {letter.offset} does not name its original topic")
            await producer.send(topic, value=letter.value, key=letter.key, headers=letter.original_headers)
        await producer.flush()
    finally:
        await producer.stop()
    return len(letters)
