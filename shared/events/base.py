"""Event base class and the registry of every event type the suite publishes.

An event is a past-tense, versioned pydantic model; its CloudEvents ``type`` is
``creditflow.<producer>.<name>.v<N>`` and it travels on the producer's topic keyed by customer id.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict

EVENT_TYPES: dict[str, type[Event]] = {}


class Event(BaseModel):
    """Base of every event payload (the CloudEvent ``data``)."""

    # Consumers ignore fields they do not know, so producers may add optional fields within a version.
    model_config = ConfigDict(extra="ignore", frozen=True)

    event_type: ClassVar[str] = ""
    customer_id: uuid.UUID

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        if cls.__dict__.get("event_type"):
            parts = cls.event_type.split(".")
            if len(parts) != 4 or parts[0] != "creditflow" or not parts[3].startswith("v"):
                raise TypeError(f"event type {cls.event_type!r} is not creditflow.<producer>.<name>.v<N>")
            if cls.event_type in EVENT_TYPES and EVENT_TYPES[cls.event_type] is not cls:
                raise TypeError(f"event type {cls.event_type!r} defined twice")
            EVENT_TYPES[cls.event_type] = cls

    @classmethod
    def producer(cls) -> str:
        return cls.event_type.split(".")[1]

    @classmethod
    def topic(cls) -> str:
        return f"creditflow.{cls.producer()}"


@dataclass(frozen=True)
class Envelope:
    """A consumed event: CloudEvent attributes plus the typed payload and the Kafka coordinates."""

    id: str
    type: str
    source: str
    time: datetime | None
    subject: str | None
    data: Event
    topic: str
    partition: int
    offset: int
    headers: dict[str, str] = field(default_factory=dict)
    sequence: int | None = None  # the producer's outbox position (CloudEvents ``sequence``), when it sent one

    @classmethod
    def consumed(
        cls,
        id: str,
        type: str,
        source: str,
        time: datetime | None,
        subject: str | None,
        data: Event,
        topic: str,
        partition: int,
        offset: int,
        headers: dict[str, str],
        sequence: int | None,
    ) -> Envelope:
        """The envelope of a consumed record, every field given: the same value as ``Envelope(...)``, built for
        the consumer's hot path (a frozen dataclass's ``__init__`` sets each field through ``object.__setattr__``,
        a tenth of parsing a record; this fills the new instance's ``__dict__`` in one update)."""
        envelope = object.__new__(cls)
        vars(envelope).update(
            id=id,
            type=type,
            source=source,
            time=time,
            subject=subject,
            data=data,
            topic=topic,
            partition=partition,
            offset=offset,
            headers=headers,
            sequence=sequence,
        )
        return envelope
