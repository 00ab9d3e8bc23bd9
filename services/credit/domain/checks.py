"""Credit check (信用检查): what an order system asks before it ships — approve, or block with every reason."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from services.credit.domain.grades import Grade
from services.credit.domain.policy import CreditPolicy, StandardBreach
from shared.errors import field_error, raise_if_any
from shared.money import to_cents


class Decision(StrEnum):
    """Outcome of a credit check."""

    APPROVE = "approve"
    BLOCK = "block"


class BlockReason(StrEnum):
    """Why a credit check blocks; a blocked check lists every reason that applies, in this order."""

    NO_ASSESSMENT = "no_assessment"
    ON_HOLD = "on_hold"
    OVER_LIMIT = "over_limit"
    GRADE_D_REQUIRES_PREPAYMENT = "grade_d_requires_prepayment"
    OVERDUE_BEYOND_POLICY = "overdue_beyond_policy"
    CURRENCY_MISMATCH = "currency_mismatch"


class NoteReason(StrEnum):
    """A reason a check reports without blocking on it."""

    PREPAID_NO_CREDIT_EXTENDED = "prepaid_no_credit_extended"
    CASH_NO_CREDIT_EXTENDED = "cash_no_credit_extended"
    DSO_ABOVE_STANDARD = "dso_above_standard"
    BAD_DEBT_RATE_ABOVE_STANDARD = "bad_debt_rate_above_standard"


_BREACH_NOTES = {
    StandardBreach.DSO_ABOVE_STANDARD: NoteReason.DSO_ABOVE_STANDARD,
    StandardBreach.BAD_DEBT_RATE_ABOVE_STANDARD: NoteReason.BAD_DEBT_RATE_ABOVE_STANDARD,
}

CheckReason = BlockReason | NoteReason


@dataclass(frozen=True)
class CreditFacts:
    """What the credit service knows about a customer at check time.

    ``exposure`` = open receivables + open orders (see ``exposure``); ``grade`` None = never assessed;
    ``oldest_overdue_days`` = days past due of the oldest unpaid invoice, 0 when nothing is overdue;
    ``prepaid`` / ``cash`` = the order is paid in advance or in cash on delivery: no credit is extended, so it
    is approved whatever the limit, hold or grade (grade D sells only this way) and adds nothing to exposure;
    ``standard_breaches`` = where the customer falls short of its grade's credit standard (reported, not blocking);
    ``other_currency_exposure`` = currencies other than the limit's in which the customer owes something: they
    are not part of ``exposure`` (no conversion), so the check cannot tell whether the limit holds and blocks.
    """

    grade: Grade | None
    credit_limit: Decimal
    exposure: Decimal
    on_hold: bool
    oldest_overdue_days: int = 0
    prepaid: bool = False
    other_currency_exposure: tuple[str, ...] = ()
    cash: bool = False
    standard_breaches: tuple[StandardBreach, ...] = ()

    def __post_init__(self) -> None:
        errors = []
        if self.credit_limit < 0:
            errors.append(field_error("credit_limit", "must not be negative"))
        if self.exposure < 0:
            errors.append(field_error("exposure", "must not be negative"))
        if self.oldest_overdue_days < 0:
            errors.append(field_error("oldest_overdue_days", "must not be negative"))
        raise_if_any(errors)


@dataclass(frozen=True)
class CheckDecision:
    """Approve or block, every reason (blocking ones first, then notes), and the arithmetic behind the limit test."""

    decision: Decision
    reasons: tuple[CheckReason, ...]
    amount: Decimal
    exposure_after: Decimal
    credit_limit: Decimal
    available_before: Decimal


def exposure(open_receivables: Decimal, open_orders: Decimal) -> Decimal:
    """Credit exposure: open receivables plus open (unshipped, unbilled) orders, 2 dp."""
    return to_cents(open_receivables + open_orders)


def check_credit(facts: CreditFacts, amount: Decimal, policy: CreditPolicy | None = None) -> CheckDecision:
    """Approve ``amount`` only when no block reason applies; otherwise block listing them all.

    A prepaid or cash order extends no credit: it is approved, and its reasons say so. Breaches of the grade's
    credit standard never block; they follow the blocking reasons as notes.
    """
    raise_if_any([field_error("amount", "must be greater than 0")] if amount <= 0 else [])
    policy = policy or CreditPolicy()
    no_credit = facts.prepaid or facts.cash
    exposure_after = to_cents(facts.exposure if no_credit else facts.exposure + amount)
    reasons: list[CheckReason] = []
    if no_credit:
        reasons.append(NoteReason.PREPAID_NO_CREDIT_EXTENDED if facts.prepaid else NoteReason.CASH_NO_CREDIT_EXTENDED)
    else:
        reasons.extend(_block_reasons(facts, exposure_after, policy))
    blocked = any(isinstance(reason, BlockReason) for reason in reasons)
    reasons.extend(_BREACH_NOTES[breach] for breach in facts.standard_breaches)
    return CheckDecision(
        decision=Decision.BLOCK if blocked else Decision.APPROVE,
        reasons=tuple(reasons),
        amount=to_cents(amount),
        exposure_after=exposure_after,
        credit_limit=to_cents(facts.credit_limit),
        available_before=to_cents(facts.credit_limit - facts.exposure),
    )


def _block_reasons(facts: CreditFacts, exposure_after: Decimal, policy: CreditPolicy) -> list[BlockReason]:
    reasons: list[BlockReason] = []
    if facts.grade is None:
        reasons.append(BlockReason.NO_ASSESSMENT)
    if facts.on_hold:
        reasons.append(BlockReason.ON_HOLD)
    if exposure_after > facts.credit_limit:
        reasons.append(BlockReason.OVER_LIMIT)
    if facts.grade is Grade.D:
        reasons.append(BlockReason.GRADE_D_REQUIRES_PREPAYMENT)
    # Without a grade there is no per-grade tolerance to compare with; no_assessment already blocks.
    if facts.grade is not None and facts.oldest_overdue_days > policy.for_grade(facts.grade).max_overdue_days:
        reasons.append(BlockReason.OVERDUE_BEYOND_POLICY)
    if facts.other_currency_exposure:
        reasons.append(BlockReason.CURRENCY_MISMATCH)
    return reasons
