"""Credit hold (停止供货): when to stop supply and when to resume it. Pure rules returning reason codes.

Place a hold when collections has taken the customer to the policy's stop-supply stage or further
while overdue debt is outstanding, or when the grade is D. Release it when overdue debt is settled
(overdue amount 0) and the grade is not D. A customer on hold with debt still overdue stays on hold
even if the reason that placed the hold has gone (e.g. the case was moved back a stage).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from services.credit.domain.grades import Grade
from services.credit.domain.policy import CreditPolicy
from shared.errors import field_error, raise_if_any
from shared.stage import Stage


class HoldReason(StrEnum):
    """Why a customer is (or stays) on hold, or why a hold was released."""

    COLLECTION_STAGE_REACHED = "collection_stage_reached"
    GRADE_D = "grade_d"
    OVERDUE_OUTSTANDING = "overdue_outstanding"
    DEBT_SETTLED = "debt_settled"
    MALICIOUS_ARREARS = "malicious_arrears"  # collections marked the arrears malicious (恶性拖欠)


class HoldAction(StrEnum):
    """What the caller must do: place or release emit an event; keep and none change nothing."""

    PLACE = "place"
    RELEASE = "release"
    KEEP = "keep"
    NONE = "none"


@dataclass(frozen=True)
class HoldFacts:
    """The customer's hold state, grade, furthest open collection stage and overdue amount.

    ``overdue_amount`` None means the caller does not know it (e.g. only a stage event arrived);
    it is then treated as outstanding, so a stage event alone can place a hold but never release one.
    """

    on_hold: bool
    grade: Grade | None
    collection_stage: Stage | None
    overdue_amount: Decimal | None
    keep_supplying: bool = False  # collections' strategy keeps supplying (a key account, arrears not malicious)

    def __post_init__(self) -> None:
        if self.overdue_amount is not None and self.overdue_amount < 0:
            raise_if_any([field_error("overdue_amount", "must not be negative")])


@dataclass(frozen=True)
class HoldDecision:
    """The action, the hold state after it, and the reasons (place/keep: why held; release: why freed)."""

    action: HoldAction
    on_hold: bool
    reasons: tuple[HoldReason, ...]


def stage_requires_hold(stage: Stage | None, grade: Grade | None, policy: CreditPolicy) -> bool:
    """True when ``stage`` is at or past the stop-supply stage of the customer's grade."""
    return stage is not None and stage.rank >= policy.stop_supply_stage(grade).rank


def hold_reasons(facts: HoldFacts, policy: CreditPolicy | None = None) -> tuple[HoldReason, ...]:
    """Every reason that requires a hold now: stage reached (with debt outstanding, unless collections keeps
    supplying the customer) and grade D."""
    policy = policy or CreditPolicy()
    debt_outstanding = facts.overdue_amount is None or facts.overdue_amount > 0
    reasons = []
    stage_stops = not facts.keep_supplying and stage_requires_hold(facts.collection_stage, facts.grade, policy)
    if debt_outstanding and stage_stops:
        reasons.append(HoldReason.COLLECTION_STAGE_REACHED)
    if facts.grade is Grade.D:
        reasons.append(HoldReason.GRADE_D)
    return tuple(reasons)


def release_allowed(facts: HoldFacts) -> bool:
    """True when overdue debt is known to be settled (0) and the grade is not D."""
    return facts.overdue_amount == 0 and facts.grade is not Grade.D


def evaluate_hold(facts: HoldFacts, policy: CreditPolicy | None = None) -> HoldDecision:
    """Decide whether to place, keep or release a credit hold given the latest facts."""
    reasons = hold_reasons(facts, policy)
    if not facts.on_hold:
        if reasons:
            return HoldDecision(HoldAction.PLACE, on_hold=True, reasons=reasons)
        return HoldDecision(HoldAction.NONE, on_hold=False, reasons=())
    if release_allowed(facts):
        return HoldDecision(HoldAction.RELEASE, on_hold=False, reasons=(HoldReason.DEBT_SETTLED,))
    return HoldDecision(HoldAction.KEEP, on_hold=True, reasons=reasons or (HoldReason.OVERDUE_OUTSTANDING,))
