"""Case operations that need no database: promises, disputes, holds, write-offs and visit outcomes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum

from services.collections.domain.money import require_positive
from services.collections.domain.stages import CLOSED_STATUSES, CaseStatus
from shared.errors import Conflict, DomainRuleViolation


def require_open(status: CaseStatus, operation: str) -> None:
    """Raise Conflict when a closed (resolved or written-off) case is asked to ``operation``."""
    if status in CLOSED_STATUSES:
        raise Conflict(f"case is {status}: cannot {operation}")


def validate_promise(status: CaseStatus, promised_on: date, as_of: date) -> None:
    """A promise to pay needs an open case and a date not in the past."""
    require_open(status, "record a promise to pay")
    if promised_on < as_of:
        raise DomainRuleViolation(
            "a promise to pay cannot be dated in the past",
            errors=[{"field": "promised_on", "message": f"{promised_on} is before {as_of}"}],
        )


def validate_dispute(status: CaseStatus, disputed_amount: Decimal, outstanding: Decimal) -> None:
    """A dispute needs an open case and an amount above zero and at most the outstanding amount."""
    require_open(status, "record a dispute")
    require_positive(disputed_amount, "disputed_amount")
    if disputed_amount > outstanding:
        raise DomainRuleViolation(
            "the disputed amount exceeds what is outstanding",
            errors=[{"field": "disputed_amount", "message": f"{disputed_amount} > {outstanding} outstanding"}],
        )


def validate_manual_action(status: CaseStatus, operation: str, reason: str, actor: str) -> None:
    """Manual escalate / hold / write-off need an open case, a reason and an actor."""
    problems = []
    if not reason.strip():
        problems.append({"field": "reason", "message": "a reason is required"})
    if not actor.strip():
        problems.append({"field": "actor", "message": "an actor is required"})
    if problems:
        raise DomainRuleViolation(f"cannot {operation} without reason and actor", errors=problems)
    require_open(status, operation)


class VisitOutcome(StrEnum):
    """What a collector's visit achieved."""

    PAID = "paid"
    PROMISE = "promise"
    DISPUTE = "dispute"
    REFUSAL = "refusal"


class CaseEffect(StrEnum):
    """What a visit outcome does to the case."""

    RECORD_PAYMENT = "record_payment"  # the payment is recorded; a full payment resolves the case
    PAUSE_UNTIL_PROMISE = "pause_until_promise"  # escalation pauses until the promised date
    HOLD_DISPUTED_AMOUNT = "hold_disputed_amount"  # the disputed amount is frozen, the rest escalates
    ESCALATE_NOW = "escalate_now"  # refusal: escalation.escalate_now to the next stage at once


@dataclass(frozen=True)
class VisitEffect:
    """The consequence of a visit outcome for its case."""

    outcome: VisitOutcome
    effect: CaseEffect
    promised_on: date | None = None
    disputed_amount: Decimal | None = None
    reason: str = ""


def visit_effect(
    outcome: VisitOutcome,
    *,
    visited_on: date,
    outstanding: Decimal,
    promised_on: date | None = None,
    disputed_amount: Decimal | None = None,
) -> VisitEffect:
    """Map a visit outcome to what happens to the case; a promise needs a date, a dispute an amount."""
    if outcome is VisitOutcome.PAID:
        return VisitEffect(outcome, CaseEffect.RECORD_PAYMENT, reason=f"paid at the visit on {visited_on}")
    if outcome is VisitOutcome.PROMISE:
        if promised_on is None:
            raise DomainRuleViolation(
                "a promise needs the promised date", errors=[{"field": "promised_on", "message": "required"}]
            )
        validate_promise(CaseStatus.OPEN, promised_on, visited_on)
        return VisitEffect(
            outcome,
            CaseEffect.PAUSE_UNTIL_PROMISE,
            promised_on=promised_on,
            reason=f"promised at the visit on {visited_on} to pay by {promised_on}",
        )
    if outcome is VisitOutcome.DISPUTE:
        if disputed_amount is None:
            raise DomainRuleViolation(
                "a dispute needs the disputed amount", errors=[{"field": "disputed_amount", "message": "required"}]
            )
        validate_dispute(CaseStatus.OPEN, disputed_amount, outstanding)
        return VisitEffect(
            outcome,
            CaseEffect.HOLD_DISPUTED_AMOUNT,
            disputed_amount=disputed_amount,
            reason=f"{disputed_amount} of {outstanding} disputed at the visit on {visited_on}",
        )
    return VisitEffect(
        outcome, CaseEffect.ESCALATE_NOW, reason=f"payment refused at the visit on {visited_on}: escalate at once"
    )
