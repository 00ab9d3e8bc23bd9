"""The per-message and per-row helpers of the relay, the consumers and bulk writes agree with the code they replace."""

from __future__ import annotations

import dataclasses
import random
import uuid
from datetime import UTC, datetime, timedelta, timezone

import pytest
from aiokafka.partitioner import DefaultPartitioner
from aiokafka.partitioner import murmur2 as aiokafka_murmur2

from services.credit.settings import CreditSettings
from shared.cloudevents import binary_attributes, from_kafka_record, to_kafka_message
from shared.events.base import Envelope
from shared.events.customers import CustomerRegistered
from shared.kafka import PRODUCER_BATCH_BYTES, key_partition, make_producer, murmur2, partitioner


def test_murmur2_is_aiokafkas_for_every_length_and_byte() -> None:
    generator = random.Random(11)
    keys = [bytes(generator.randrange(256) for _ in range(length)) for length in range(0, 80) for _ in range(25)]
    keys += [str(uuid.uuid4()).encode() for _ in range(500)] + ["客户-ü".encode()]
    for key in keys:
        assert murmur2(key) == aiokafka_murmur2(key), key


@pytest.mark.parametrize("count", [1, 2, 3, 6, 12])
def test_a_key_goes_to_the_default_partitioners_partition(count: int) -> None:
    partitions = list(range(count))
    for key in (str(uuid.uuid4()).encode() for _ in range(300)):
        expected = DefaultPartitioner()(key, partitions, partitions)
        assert key_partition(key, count) == expected
        assert partitioner(key, partitions, partitions) == expected
    assert partitioner(None, partitions, [count - 1]) == count - 1  # keyless: any available one


async def test_producers_fill_large_batches_with_the_default_partition_choice() -> None:
    producer = make_producer(CreditSettings(kafka_bootstrap_servers="127.0.0.1:1"), client_id="test")
    try:
        assert producer._partitioner is partitioner
        assert producer._message_accumulator._batch_size == PRODUCER_BATCH_BYTES
    finally:
        await producer.stop()


def _time_header(at: datetime) -> bytes:
    _, _, headers = to_kafka_message(
        event_id="e",
        event_type="creditflow.customers.customer_registered.v1",
        source="/creditflow/customers",
        subject=None,
        occurred_at=at,
        data="{}",
        key="k",
        extra_headers={},
    )
    return dict(headers)["ce_time"]


def test_one_instant_in_two_zones_is_written_in_each_zone() -> None:
    """``ce_time`` is cached per time: an equal instant in another zone must not reuse the first text."""
    utc = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
    shanghai = utc.astimezone(timezone(timedelta(hours=8)))
    assert utc == shanghai
    assert _time_header(utc) == b"2026-03-01T09:00:00Z"
    assert _time_header(shanghai) == b"2026-03-01T17:00:00+08:00"
    assert _time_header(utc) == b"2026-03-01T09:00:00Z"


def test_header_names_are_read_case_insensitively_every_time() -> None:
    """Header roles are remembered per name: a name seen in one case still reads in another."""
    headers = [
        ("ce_id", b"1"),
        ("ce_source", b"/x"),
        ("ce_type", b"t"),
        ("ce_specversion", b"1.0"),
        ("traceparent", b"00-a-b-01"),
        ("X-Other", b"ignored"),
    ]
    upper = [(name.upper(), value) for name, value in headers]
    for _ in range(2):
        for variant in (headers, upper):
            attributes, extra, _time = binary_attributes(variant)
            assert attributes == {"id": "1", "source": "/x", "type": "t", "specversion": "1.0"}
            assert extra == {"traceparent": "00-a-b-01"}


def test_bulk_binds_process_a_value_repeated_from_the_row_before_once() -> None:
    from shared.db import _bound

    calls: list[object] = []

    def processor(value: object) -> str:
        calls.append(value)
        return f"<{value}>"

    now, later = datetime(2026, 3, 1, tzinfo=UTC), datetime(2026, 3, 2, tzinfo=UTC)
    assert _bound(processor, [now, now, later, now]) == ["<" + str(v) + ">" for v in (now, now, later, now)]
    assert calls == [now, later, now]
    assert _bound(None, [1, 2]) == [1, 2]


@pytest.mark.parametrize(
    ("time", "subject", "headers", "sequence"),
    [
        (datetime(2026, 3, 1, 9, 0, tzinfo=UTC), "subject", {"traceparent": "00-a-b-01"}, 7),
        (None, None, {}, None),
    ],
)
def test_a_consumed_envelope_is_the_envelope_its_constructor_builds(
    time: datetime | None, subject: str | None, headers: dict[str, str], sequence: int | None
) -> None:
    """``Envelope.consumed`` fills the frozen dataclass directly: equal, field for field, to ``Envelope(...)``,
    and as frozen."""
    data = CustomerRegistered(customer_id=uuid.uuid4(), name="Acme", kind="commercial", lifecycle="active")
    fields = {
        "id": "e-1",
        "type": data.event_type,
        "source": "/creditflow/customers",
        "time": time,
        "subject": subject,
        "data": data,
        "topic": "creditflow.customers",
        "partition": 2,
        "offset": 41,
        "headers": headers,
        "sequence": sequence,
    }
    consumed = Envelope.consumed(*fields.values())
    built = Envelope(**fields)  # type: ignore[arg-type]
    assert consumed == built
    assert dataclasses.asdict(consumed) == dataclasses.asdict(built)
    assert [field.name for field in dataclasses.fields(Envelope)] == list(fields)
    with pytest.raises(dataclasses.FrozenInstanceError):
        consumed.offset = 42  # type: ignore[misc]


def test_a_records_envelope_is_the_one_built_from_its_attributes() -> None:
    data = CustomerRegistered(customer_id=uuid.uuid4(), name="Acme", kind="commercial", lifecycle="active")
    key, value, headers = to_kafka_message(
        event_id="e-9",
        event_type=data.event_type,
        source="/creditflow/customers",
        subject=str(data.customer_id),
        occurred_at=datetime(2026, 3, 1, 9, 0, tzinfo=UTC),
        data=data.model_dump_json(),
        key=str(data.customer_id),
        extra_headers={"x-request-id": "r-1"},
        traceparent="00-" + "a" * 32 + "-" + "b" * 16 + "-01",
        sequence=12,
    )
    envelope = from_kafka_record(
        topic="creditflow.customers", partition=1, offset=3, key=key, value=value, headers=headers
    )
    assert envelope == Envelope(
        id="e-9",
        type=data.event_type,
        source="/creditflow/customers",
        time=datetime(2026, 3, 1, 9, 0, tzinfo=UTC),
        subject=str(data.customer_id),
        data=data,
        topic="creditflow.customers",
        partition=1,
        offset=3,
        headers={"x-request-id": "r-1", "traceparent": "00-" + "a" * 32 + "-" + "b" * 16 + "-01"},
        sequence=12,
    )
