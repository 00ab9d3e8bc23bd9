"""Read a topic from the start, outside any consumer group (what landed on a DLQ, what was published)."""

from __future__ import annotations

import time
from typing import Any

from aiokafka import AIOKafkaConsumer


async def read_topic(bootstrap: str, topic: str, expected: int, timeout_ms: int = 15000) -> list[Any]:
    """Records of ``topic`` until ``expected`` were read or ``timeout_ms`` passed."""
    consumer = AIOKafkaConsumer(
        topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest", enable_auto_commit=False, group_id=None
    )
    await consumer.start()
    records: list[Any] = []
    try:
        deadline = time.monotonic() + timeout_ms / 1000
        while len(records) < expected and time.monotonic() < deadline:
            batch = await consumer.getmany(timeout_ms=500)
            for partition_records in batch.values():
                records += partition_records
    finally:
        await consumer.stop()
    return records
