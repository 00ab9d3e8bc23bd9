"""Apply a state-carrying event (a snapshot) only when it is newer than the one already applied.

Snapshot events (``receivables_changed``, a credit limit, a hold, a case's stage) overwrite what a read
model holds. Redelivery of the *same* event is absorbed by the inbox, but a relay that republishes
after a broker loss, or ``creditflow replay``, can deliver an older snapshot after a newer one. Each
event carries its producer's sequence (CloudEvents ``sequence``, the outbox position); the read model
keeps, per stream (e.g. ``receivables:EUR``), the last sequence it applied, next to the figures.
"""

from __future__ import annotations

from shared.events.base import Envelope


def newer_snapshot(applied: dict[str, int] | None, stream: str, envelope: Envelope) -> dict[str, int] | None:
    """The updated map of applied sequences when ``envelope`` is newer on ``stream``; None when it is stale.

    An event without a sequence (from a producer older than this rule) is applied, as before.
    """
    current = dict(applied or {})
    if envelope.sequence is None:
        return current
    last = current.get(stream)
    if last is not None and envelope.sequence <= last:
        return None
    current[stream] = envelope.sequence
    return current
