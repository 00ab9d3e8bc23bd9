"""Invoice imports: the states of a job and the status a finished one ends in."""

from __future__ import annotations

from enum import StrEnum


class ImportStatus(StrEnum):
    """Where an import is: waiting for a worker, being processed, or finished (one of three ways)."""

    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"  # every line accepted
    PARTIALLY_SUCCEEDED = "partially_succeeded"  # some lines accepted, some rejected
    # No line accepted (every line rejected), or stopped: a chunk failed at every attempt for a reason other
    # than its lines (the database, the registry, a bug); its lines and the later ones stay pending.
    FAILED = "failed"

    @property
    def finished(self) -> bool:
        return self not in (ImportStatus.QUEUED, ImportStatus.RUNNING)


class LineOutcome(StrEnum):
    """What became of one line: not processed yet, recorded as an invoice, or refused with its problems."""

    PENDING = "pending"
    ACCEPTED = "accepted"
    REJECTED = "rejected"


def finished_status(accepted: int, rejected: int) -> ImportStatus:
    """The status of an import all of whose lines are processed."""
    if rejected == 0 and accepted > 0:
        return ImportStatus.SUCCEEDED
    if accepted == 0:
        return ImportStatus.FAILED
    return ImportStatus.PARTIALLY_SUCCEEDED
