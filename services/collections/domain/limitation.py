"""The limitation period for litigation (诉讼时效), counted in whole years from its start.

The period starts on the due date and restarts at every interruption (PRC Civil Code art. 195): the
creditor demands performance (a dunning letter sent, a demand made at a visit), the debtor acknowledges
the debt or promises to pay, pays part of it, or the creditor files. Once it has expired, a demand of the
creditor no longer revives it; the debtor's own acknowledgement, promise or payment does (the debtor then
cannot rely on the expiry: SPC Provisions on Limitation of Actions, art. 19).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum


class LimitationBasis(StrEnum):
    """Why the period runs from its start day: the due date, or the interruption that restarted it."""

    DUE_DATE = "due_date"
    DUNNING_LETTER = "dunning_letter"
    VISIT_DEMAND = "visit_demand"
    ACKNOWLEDGEMENT = "acknowledgement"
    PROMISE_TO_PAY = "promise_to_pay"
    PARTIAL_PAYMENT = "partial_payment"
    FILING = "filing"


# Interruptions by the debtor: they restart even an expired period (the expiry defence is waived).
DEBTOR_INTERRUPTIONS = frozenset(
    {LimitationBasis.ACKNOWLEDGEMENT, LimitationBasis.PROMISE_TO_PAY, LimitationBasis.PARTIAL_PAYMENT}
)


@dataclass(frozen=True)
class LimitationStart:
    """The day the limitation period runs from and why."""

    running_from: date
    basis: LimitationBasis = LimitationBasis.DUE_DATE

    @classmethod
    def from_due_date(cls, due_date: date) -> LimitationStart:
        """A claim not yet interrupted: the period runs from the due date."""
        return cls(due_date, LimitationBasis.DUE_DATE)

    def expires_on(self, years: int) -> date:
        """Last day a claim may still be filed."""
        return limitation_expires_on(self.running_from, years)


def limitation_expired_reason(start: LimitationStart, years: int) -> str:
    """Why litigation is refused, the one wording for the case history and the write-off review."""
    since = "due date" if start.basis is LimitationBasis.DUE_DATE else f"the last interruption ({start.basis})"
    return (
        f"litigation refused: the {years}-year limitation period running from {since} on {start.running_from} "
        f"expired on {start.expires_on(years)}; review the case for write-off"
    )


def interrupt(start: LimitationStart, on: date, basis: LimitationBasis, years: int) -> LimitationStart:
    """The period after an interruption of ``basis`` on ``on`` (art. 195): it restarts from that day.

    An interruption no later than the current start changes nothing (the later start is kept). After the
    period has expired only the debtor's acknowledgement, promise or payment restarts it.
    """
    if basis is LimitationBasis.DUE_DATE:
        raise ValueError("the due date starts the period; it is no interruption")
    if on <= start.running_from:
        return start
    if on > start.expires_on(years) and basis not in DEBTOR_INTERRUPTIONS:
        return start
    return LimitationStart(on, basis)


def add_years(day: date, years: int) -> date:
    """The same calendar day ``years`` later (or earlier); 29 February falls back to 28 February."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def limitation_expires_on(running_from: date, years: int) -> date:
    """Last day on which a claim whose period runs from ``running_from`` (due date or last interruption)
    may still be filed in court."""
    return add_years(running_from, years)


def within_limitation(running_from: date, as_of: date, years: int) -> bool:
    """Whether a claim whose period runs from ``running_from`` can go to court on ``as_of`` (expiry day included)."""
    return as_of <= limitation_expires_on(running_from, years)


def limitation_cutoff_due_date(as_of: date, years: int) -> date:
    """Earliest start still within limitation on ``as_of``: ``running_from >= cutoff`` iff within limitation.

    For the set-based sweep, which compares the case's period start (its last interruption, else its due
    date) in SQL instead of calling ``within_limitation``.
    """
    candidate = add_years(as_of, -years)
    # add_years is monotone but clamps 29 February, so step to the exact boundary.
    while within_limitation(candidate - timedelta(days=1), as_of, years):
        candidate -= timedelta(days=1)
    while not within_limitation(candidate, as_of, years):
        candidate += timedelta(days=1)
    return candidate
