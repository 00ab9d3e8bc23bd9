"""CloudEvents 1.0 in Kafka binary content mode, through the ``cloudevents`` SDK's Kafka binding."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from cloudevents.core.bindings import kafka as ce_kafka
from cloudevents.core.v1.event import CloudEvent
from pydantic import ValidationError

from shared.events.base import EVENT_TYPES, Envelope

CONTENT_TYPE = "application/json"
PROPAGATED_HEADERS = ("x-request-id", "traceparent")
TRACEPARENT_EXTENSION = "ce_traceparent"


class MalformedEvent(Exception):
    """A Kafka message that is not a CloudEvent we can read: it goes to the dead-letter topic."""


def to_kafka_message(
    *,
    event_id: str,
    event_type: str,
    source: str,
    subject: str | None,
    occurred_at: datetime,
    data: str,
    key: str,
    extra_headers: dict[str, str],
    traceparent: str | None = None,
    sequence: int | None = None,
) -> tuple[bytes, bytes, list[tuple[str, bytes]]]:
    """(key, value, headers) of one event in binary mode; ``data`` is the JSON payload text.

    ``traceparent`` travels as the CloudEvents distributed-tracing extension (header ``ce_traceparent``).
    ``sequence`` (the CloudEvents ``sequence`` extension) is the producer's outbox position: it grows
    with every event a service emits, so a consumer can tell an older snapshot from a newer one.
    """
    attributes: dict[str, Any] = {
        "id": event_id,
        "source": source,
        "type": event_type,
        "specversion": "1.0",
        "time": occurred_at,
        "datacontenttype": CONTENT_TYPE,
    }
    if subject:
        attributes["subject"] = subject
    if traceparent:
        attributes["traceparent"] = traceparent
    if sequence is not None:
        attributes["sequence"] = str(sequence)
    message = ce_kafka.to_binary_event(
        CloudEvent(attributes=attributes, data=json.loads(data)), key_mapper=lambda _event: key
    )
    headers = [(name, value) for name, value in message.headers.items()]
    headers += [(name, value.encode()) for name, value in extra_headers.items()]
    return key.encode(), message.value, headers


def from_kafka_record(
    *,
    topic: str,
    partition: int,
    offset: int,
    key: bytes | None,
    value: bytes | None,
    headers: Sequence[tuple[str, bytes]],
) -> Envelope:
    """Parse a consumed record into an ``Envelope`` with a typed payload, or raise ``MalformedEvent``."""
    header_map = {name: raw for name, raw in headers}
    try:
        message = ce_kafka.KafkaMessage(headers=header_map, key=key, value=value or b"")
        event = ce_kafka.from_binary_event(message)
    except Exception as exc:  # the SDK raises several types for bad input
        raise MalformedEvent(f"not a binary-mode CloudEvent: {exc}") from exc
    event_type = event.get_type()
    model = EVENT_TYPES.get(event_type)
    if model is None:
        raise MalformedEvent(f"unknown event type {event_type!r}")
    raw = event.get_data()
    try:
        payload = model.model_validate(raw)
    except ValidationError as exc:
        raise MalformedEvent(f"payload does not match {event_type}: {exc.errors(include_url=False)}") from exc
    extra = {name: header_map[name].decode("utf-8", "replace") for name in PROPAGATED_HEADERS if name in header_map}
    if TRACEPARENT_EXTENSION in header_map:  # the event's own trace context wins over a transport header
        extra["traceparent"] = header_map[TRACEPARENT_EXTENSION].decode("utf-8", "replace")
    return Envelope(
        id=event.get_id(),
        type=event_type,
        source=event.get_source(),
        time=event.get_time(),
        subject=event.get_subject(),
        data=payload,
        topic=topic,
        partition=partition,
        offset=offset,
        headers=extra,
        sequence=_sequence(event.get_extension("sequence")),
    )


def _sequence(value: Any) -> int | None:
    """The producer sequence as a number; absent (older producers) or unreadable means unknown."""
    try:
        return int(value) if value is not None else None
    except (TypeError, ValueError):
        return None


def event_type_of(headers: Sequence[tuple[str, bytes]]) -> str | None:
    """The ``ce_type`` header, read without parsing the payload (to skip types a service ignores)."""
    for name, raw in headers:
        if name == "ce_type":
            return raw.decode("utf-8", "replace")
    return None
