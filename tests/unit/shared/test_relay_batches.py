"""The relay's record batches (``shared.outbox._send_batched``) against a recording producer: built beside the
event loop only when the producer is not idempotent, and handed over in append order per partition."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import pytest
from aiokafka.producer.message_accumulator import BatchBuilder
from aiokafka.record.default_records import DefaultRecordBatch

from shared.kafka import key_partition
from shared.outbox import _send_batched

TOPIC = "creditflow.customers"
PARTITIONS = [0, 1, 2]
GZIP = 1


class RecordingProducer:
    """What ``_send_batched`` uses of ``AIOKafkaProducer``, recording each batch as it is handed over."""

    def __init__(self) -> None:
        self.sent: list[tuple[int, bool, list[bytes]]] = []  # (partition, built before, record keys)

    async def partitions_for(self, topic: str) -> set[int]:
        assert topic == TOPIC
        return set(PARTITIONS)

    def create_batch(self) -> BatchBuilder:
        return BatchBuilder(4096, GZIP)  # small: many batches a partition

    async def send_batch(self, batch: BatchBuilder, topic: str, *, partition: int) -> asyncio.Future[Any]:
        built = batch._buffer is not None
        records = DefaultRecordBatch(bytearray(batch._build()))
        self.sent.append((partition, built, [record.key for record in records]))
        await asyncio.sleep(0)  # another batch's build may end meanwhile
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        future.set_result(None)
        return future


@pytest.mark.parametrize(("compress_beside", "built_before"), [(True, True), (False, False)])
async def test_batches_go_in_append_order_per_partition_built_beside_the_loop_only_when_asked(
    compress_beside: bool, built_before: bool
) -> None:
    """Idempotent producers write sequence numbers into a batch as they send it (``compress_beside`` off):
    then no batch may be built before. Either way each record goes once, a partition's in ``seq`` order."""
    keys = [str(uuid.uuid4()).encode() for _ in range(400)]
    rows = [(f"id-{n}", None, "{}", key.decode(), n, TOPIC) for n, key in enumerate(keys)]
    messages = [(key, b'{"n": %d}' % n + b" " * 200, [("ce_id", b"id-%d" % n)]) for n, key in enumerate(keys)]
    producer = RecordingProducer()

    pending = await _send_batched(producer, rows, messages, compress_beside=compress_beside)  # type: ignore[arg-type]

    assert len(producer.sent) > 2 * len(PARTITIONS)  # several full batches a partition
    assert {built for _, built, _ in producer.sent} == {built_before}
    for partition in PARTITIONS:
        in_order = [key for sent_to, _, sent in producer.sent if sent_to == partition for key in sent]
        assert in_order == [key for key in keys if key_partition(key, len(PARTITIONS)) == partition]
    # Each acknowledgement covers its batch's rows, in the order they were appended.
    assert [[keys[index] for index in indexes] for _, indexes in pending] == [sent for _, _, sent in producer.sent]
