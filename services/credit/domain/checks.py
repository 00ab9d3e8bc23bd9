"""Credit check (信用检查): what an order system asks before it ships — approve, or block with every reason."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from services.credit.domain.grades import Grade
from services.credit.domain.policy import CreditPolicy
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


@dataclass(frozen=True)
class CreditFacts:
    """What the credit service knows about a customer at check time.

    ``exposure`` = open receivables + open orders (see ``exposure``); ``grade`` None = never assessed;
    ``oldest_overdue_days`` = days past due of the oldest unpaid invoice, 0 when nothing is overdue;
    ``prepaid`` = the order is paid in advance (lifts the grade-D block only);
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
    """Approve or block, every reason, and the arithmetic behind the limit test (2 dp)."""

    decision: Decision
    reasons: tuple[BlockReason, ...]
    amount: Decimal
    exposure_after: Decimal
    credit_limit: Decimal
    available_before: Decimal


def exposure(open_receivables: Decimal, open_orders: Decimal) -> Decimal:
    """Credit exposure: open receivables plus open (unshipped, unbilled) orders, 2 dp."""
    return to_cents(open_receivables + open_orders)


def check_credit(facts: CreditFacts, amount: Decimal, policy: CreditPolicy | None = None) -> CheckDecision:
    """Approve ``amount`` only when no block reason applies; otherwise block listing them all."""
    raise_if_any([field_error("amount", "must be greater than 0")] if amount <= 0 else [])
    policy = policy or CreditPolicy()
    exposure_after = to_cents(facts.exposure + amount)
    reasons: list[BlockReason] = []
    if facts.grade is None:
        reasons.append(BlockReason.NO_ASSESSMENT)
    if facts.on_hold:
        reasons.append(BlockReason.ON_HOLD)
    if exposure_after > facts.credit_limit:
        reasons.append(BlockReason.OVER_LIMIT)
    if facts.grade is Grade.D and not facts.prepaid:
        reasons.append(BlockReason.GRADE_D_REQUIRES_PREPAYMENT)
    # Without a grade there is no per-grade tolerance to compare with; no_assessment already blocks.
    if facts.grade is not None and facts.oldest_overdue_days > policy.for_grade(facts.grade).max_overdue_days:
        reasons.append(BlockReason.OVERDUE_BEYOND_POLICY)
    if facts.other_currency_exposure:
        reasons.append(BlockReason.CURRENCY_MISMATCH)
    return CheckDecision(
        decision=Decision.BLOCK if reasons else Decision.APPROVE,
        reasons=tuple(reasons),
        amount=to_cents(amount),
        exposure_after=exposure_after,
        credit_limit=to_cents(facts.credit_limit),
        available_before=to_cents(facts.credit_limit - facts.exposure),
    )
