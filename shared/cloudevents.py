"""CloudEvents 1.0 in Kafka binary content mode (the SDK's Kafka binding's header names and formats).

Both directions are on the hot path (the relay, every consumer), so they read and write the headers
directly; a unit test checks the result against the ``cloudevents`` SDK's binding both ways.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence
from datetime import datetime, tzinfo
from typing import Any

from pydantic import ValidationError

from shared.events.base import EVENT_TYPES, Envelope

CONTENT_TYPE = "application/json"
PROPAGATED_HEADERS = ("x-request-id", "traceparent")
_CONTENT_TYPE_BYTES = CONTENT_TYPE.encode()
_REQUIRED = ("id", "source", "type", "specversion")
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

    The headers are written directly (the same names and formats as the SDK's Kafka binding, which the
    unit tests check): building an SDK event re-parses and re-serialises the payload, which was a
    third of the relay's time. ``traceparent`` travels as the CloudEvents distributed-tracing extension
    (header ``ce_traceparent``). ``sequence`` (the CloudEvents ``sequence`` extension, header
    ``ce_sequence``) is the producer's outbox position: it grows with every event a service emits, so a
    consumer can tell an older snapshot from a newer one.
    """
    return to_kafka_messages(
        event_type=event_type,
        source=source,
        occurred_at=occurred_at,
        extra_headers=extra_headers,
        traceparent=traceparent,
        events=[(event_id, subject, data, key, sequence)],
    )[0]


def to_kafka_messages(
    *,
    event_type: str,
    source: str,
    occurred_at: datetime,
    extra_headers: dict[str, str],
    traceparent: str | None,
    events: Iterable[Sequence[Any]],
) -> list[tuple[bytes, bytes, list[tuple[str, bytes]]]]:
    """``to_kafka_message`` for a run of events sharing type, source, time and propagated headers (the
    events of one transaction, as the relay reads them): each event a sequence starting with (event id,
    subject, data, key, sequence); further items are ignored (the relay passes its rows as they are read).

    What the run shares is encoded once, and the common event (a subject and a sequence) gets its headers
    in one list display: an event costs its own five fields. Built one by one, the headers were the largest
    part of the relay's CPU after the database.
    """
    shared = (*_type_headers(source, event_type), ("ce_time", _time_header(occurred_at, occurred_at.tzinfo)))
    tail = ((TRACEPARENT_EXTENSION, traceparent.encode()),) if traceparent else ()
    extra = tuple((name, value.encode()) for name, value in extra_headers.items())
    messages: list[tuple[bytes, bytes, list[tuple[str, bytes]]]] = []
    append = messages.append
    for event in events:
        event_id, subject, data, key, sequence = event[:5]
        if subject and sequence is not None:
            headers = [
                ("ce_id", event_id.encode()),
                *shared,
                ("ce_subject", subject.encode()),
                *tail,
                ("ce_sequence", b"%d" % sequence),
                *extra,
            ]
        else:
            headers = [("ce_id", event_id.encode()), *shared]
            if subject:
                headers.append(("ce_subject", subject.encode()))
            headers += tail
            if sequence is not None:
                headers.append(("ce_sequence", b"%d" % sequence))
            headers += extra
        append((key.encode(), data.encode(), headers))
    return messages


@functools.lru_cache(maxsize=256)
def _type_headers(source: str, event_type: str) -> tuple[tuple[str, bytes], ...]:
    """The headers every event of one type from one source shares (encoded once, not per message)."""
    return (
        ("ce_source", source.encode()),
        ("ce_type", event_type.encode()),
        ("ce_specversion", b"1.0"),
        ("content-type", _CONTENT_TYPE_BYTES),
    )


@functools.lru_cache(maxsize=64)
def _time_header(value: datetime, _zone: tzinfo | None) -> bytes:
    """``ce_time`` encoded; cached, since the events of one transaction share their time (keyed by the zone
    too: one instant in two zones compares equal but is written differently)."""
    return _format_time(value).encode()


def _format_time(value: datetime) -> str:
    text = value.isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


_ATTRIBUTE, _CONTENT, _PROPAGATED, _OTHER = "attribute", "content-type", "propagated", "other"
_HEADER_ROLES: dict[str, tuple[str, str]] = {}
"""What each header name seen so far is (role, key), so a record's ten headers are not lower-cased and
compared one by one each time (a third of parsing a record); bounded: unknown names are not remembered."""
_ATTRIBUTE_KEYS: dict[str, str] = {}
"""The attribute headers among them (name -> key): most of a record's headers, read with one lookup each."""


def _header_role(name: str) -> tuple[str, str]:
    """What a header is: a CloudEvents attribute (key without ``ce_``), the content type, a propagated header."""
    lowered = name.lower()
    if lowered.startswith("ce_"):
        role = (_ATTRIBUTE, lowered[3:])
    elif lowered == "content-type":
        role = (_CONTENT, lowered)
    elif lowered in PROPAGATED_HEADERS:
        role = (_PROPAGATED, lowered)
    else:
        role = (_OTHER, lowered)
    if len(_HEADER_ROLES) < 256:
        _HEADER_ROLES[name] = role
        if role[0] is _ATTRIBUTE:
            _ATTRIBUTE_KEYS[name] = role[1]
    return role


def binary_attributes(headers: Sequence[tuple[str, bytes]]) -> tuple[dict[str, str], dict[str, str], datetime | None]:
    """A binary-mode record's CloudEvents attributes (``ce_`` removed), propagated headers and time.

    Raises ``MalformedEvent`` when a required attribute is missing or the content is not JSON.
    """
    attributes: dict[str, str] = {}
    content_type: str | None = None
    extra: dict[str, str] = {}
    attribute_key = _ATTRIBUTE_KEYS.get
    try:
        for name, raw in headers:
            key = attribute_key(name)
            if key is not None:
                attributes[key] = raw.decode("utf-8")
                continue
            role, key = _HEADER_ROLES.get(name) or _header_role(name)
            if role is _ATTRIBUTE:
                attributes[key] = raw.decode("utf-8")
            elif role is _CONTENT:
                content_type = raw.decode("utf-8")
            elif role is _PROPAGATED:
                extra[key] = raw.decode("utf-8", "replace")
    except UnicodeDecodeError as exc:
        raise MalformedEvent(f"not a binary-mode CloudEvent: {exc}") from exc
    missing = [name for name in _REQUIRED if not attributes.get(name)]
    if missing:
        raise MalformedEvent(f"not a binary-mode CloudEvent: missing {', '.join('ce_' + m for m in missing)}")
    if attributes["specversion"] != "1.0":
        raise MalformedEvent(f"not a binary-mode CloudEvent: specversion {attributes['specversion']!r}")
    if content_type is not None and "json" not in content_type:
        raise MalformedEvent(f"not a binary-mode CloudEvent: content type {content_type!r} is not JSON")
    time: datetime | None = None
    if "time" in attributes:
        try:
            time = datetime.fromisoformat(attributes["time"])
        except ValueError as exc:
            raise MalformedEvent(f"not a binary-mode CloudEvent: bad ce_time: {exc}") from exc
    if "traceparent" in attributes:  # the event's own trace context wins over a transport header
        extra["traceparent"] = attributes["traceparent"]
    return attributes, extra, time


def from_kafka_record(
    *,
    topic: str,
    partition: int,
    offset: int,
    key: bytes | None,
    value: bytes | None,
    headers: Sequence[tuple[str, bytes]],
) -> Envelope:
    """Parse a consumed record into an ``Envelope`` with a typed payload, or raise ``MalformedEvent``.

    Binary mode is read straight from the headers and the payload validated from its JSON bytes by
    pydantic (no intermediate dict, no SDK event object): parsing was a quarter of a fetch's time.
    """
    attributes, extra, time = binary_attributes(headers)
    event_type = attributes["type"]
    model = EVENT_TYPES.get(event_type)
    if model is None:
        raise MalformedEvent(f"unknown event type {event_type!r}")
    try:
        payload = model.model_validate_json(value or b"null")
    except ValidationError as exc:
        raise MalformedEvent(f"payload does not match {event_type}: {exc.errors(include_url=False)}") from exc
    return Envelope.consumed(
        attributes["id"],
        event_type,
        attributes["source"],
        time,
        attributes.get("subject"),
        payload,
        topic,
        partition,
        offset,
        extra,
        _sequence(attributes.get("sequence")),
    )


def _sequence(value: str | None) -> int | None:
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
