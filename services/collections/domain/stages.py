"""The vocabulary of a collection case: statuses, segments, dispute routes (stages are ``shared.stage``)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class CaseStatus(StrEnum):
    """Lifecycle of a collection case."""

    OPEN = "open"
    ON_HOLD = "on_hold"
    RESOLVED = "resolved"
    WRITTEN_OFF = "written_off"


CLOSED_STATUSES = frozenset({CaseStatus.RESOLVED, CaseStatus.WRITTEN_OFF})


class Segment(StrEnum):
    """Collection strategy segment of the debtor."""

    KEY_ACCOUNT = "key_account"
    GENERAL = "general"
    HIGH_RISK = "high_risk"


class ClauseKind(StrEnum):
    """Dispute-resolution clause of the contract as recorded by the customers service."""

    ARBITRATION = "arbitration"
    COURT = "court"
    UNKNOWN = "unknown"


class LegalRoute(StrEnum):
    """Where the legal stage of a case goes: exactly one of the two, never both."""

    ARBITRATION = "arbitration"
    COURT = "court"


@dataclass(frozen=True)
class DisputeResolution:
    """The contract's dispute-resolution clause: arbitration naming a commission, courts, or unknown."""

    kind: ClauseKind = ClauseKind.UNKNOWN
    commission: str | None = None

    @property
    def on_file(self) -> bool:
        """Whether a contract is on file: without one no legal stage is started (legal review first)."""
        return self.kind is not ClauseKind.UNKNOWN

    @property
    def route(self) -> LegalRoute:
        """Arbitration only for a valid agreement naming a commission; anything else goes to court."""
        # An arbitration agreement that names no commission is invalid (PRC Arbitration Law art. 16, 18),
        # and an unknown clause leaves the courts competent: both take the court route.
        if self.kind is ClauseKind.ARBITRATION and self.commission and self.commission.strip():
            return LegalRoute.ARBITRATION
        return LegalRoute.COURT

    @classmethod
    def arbitration(cls, commission: str) -> DisputeResolution:
        """An arbitration agreement naming ``commission``."""
        return cls(ClauseKind.ARBITRATION, commission)

    @classmethod
    def court(cls) -> DisputeResolution:
        """A clause giving jurisdiction to the courts."""
        return cls(ClauseKind.COURT)
