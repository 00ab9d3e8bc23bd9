"""Intakes: topics other systems publish in their own format, applied by a service through its inbox consumer.

A service's own events are CloudEvents the suite defines (``shared/events``). An intake is the other way in:
a billing system publishes invoices on a topic we do not produce to, as CloudEvents or as plain JSON. The
intake reads each record into an ``Envelope`` (its id is what the inbox deduplicates on), and its handler
applies them with the service's own use case; the consumer loop, the inbox, retries and dead letters are the
shared ones (``shared/consumer.py``).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from aiokafka.structs import ConsumerRecord
from pydantic import BaseModel

from shared.errors import PermanentEventError
from shared.events.base import Envelope

RecordReader = Callable[[ConsumerRecord[Any, Any]], Envelope]


@dataclass(frozen=True)
class Intake:
    """Records another system publishes on ``topic``, read into envelopes of ``event_type`` and applied.

    ``read`` raises ``MalformedEvent`` for a record it cannot read (dead-lettered with the reason); ``handler``
    applies the envelopes (usually a ``batch_handler``). ``payload``, ``summary`` and ``description`` document
    the topic in the AsyncAPI document.
    """

    topic: str
    event_type: str
    read: RecordReader
    handler: Callable[..., Awaitable[None]]
    payload: type[BaseModel]
    summary: str
    description: str
    consumer: str  # the service that consumes the topic (AsyncAPI's receive operation)
    dead_letter_topic: str  # where its consumer parks the records it can never apply


class RecordsRefused(PermanentEventError):
    """Raised by a batch handler: these envelopes (id -> reason) can never be applied; the others can.

    The consumer applies the rest of the batch again in one transaction, then dead-letters the refused ones
    with their reason.
    """

    def __init__(self, reasons: Mapping[str, str]) -> None:
        super().__init__("; ".join(reasons.values()))
        self.reasons = dict(reasons)
