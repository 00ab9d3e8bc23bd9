"""Credit holds: placed and released as a profile's overdue and stage change."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession

from services.credit.domain.grades import Grade
from services.credit.domain.holds import HoldAction, HoldDecision, HoldFacts, evaluate_hold
from services.credit.domain.policy import CreditPolicy
from services.credit.models import CreditProfile, ProfileState
from shared.events.credit import CreditHoldPlaced, CreditHoldReleased
from shared.grade import HoldReason
from shared.outbox import emit
from shared.stage import Stage


def grade_of(profile: ProfileState | None) -> Grade | None:
    return Grade(profile.grade) if profile is not None and profile.grade else None


async def reconsider_hold(
    session: AsyncSession,
    profile: CreditProfile,
    policy: CreditPolicy,
    now: datetime,
    *,
    stage: Stage | None,
    overdue: Decimal | None,
    stop_supply_requested: bool = False,
    requested_reason: HoldReason = HoldReason.COLLECTION_STAGE_REACHED,
) -> HoldDecision:
    """Apply domain.holds to the latest facts; emit an event only when the hold is placed or released."""
    decision, event = decide_hold(
        profile,
        policy,
        now,
        stage=stage,
        overdue=overdue,
        stop_supply_requested=stop_supply_requested,
        requested_reason=requested_reason,
    )
    if event is not None:
        await emit(session, event, at=now)
    await session.flush()
    return decision


def decide_hold(
    profile: ProfileState,
    policy: CreditPolicy,
    now: datetime,
    *,
    stage: Stage | None,
    overdue: Decimal | None,
    stop_supply_requested: bool = False,
    requested_reason: HoldReason = HoldReason.COLLECTION_STAGE_REACHED,
    decisions: HoldDecisions | None = None,
) -> tuple[HoldDecision, CreditHoldPlaced | CreditHoldReleased | None]:
    """``evaluate_hold`` on the profile's facts, applied to the profile in memory; the event to emit, if any.

    No I/O: the caller writes the profile and the event (one event at a time, or a whole run in bulk, passing
    the run's ``decisions`` so that facts seen before are not evaluated again).
    """
    facts = (
        profile.on_hold,
        profile.grade,
        stage,
        overdue,
        bool(profile.keep_supplying),
        stop_supply_requested,
        requested_reason,
    )
    decision, reasons = (decisions or HoldDecisions(policy)).decide(facts)
    event: CreditHoldPlaced | CreditHoldReleased | None = None
    if decision.action is HoldAction.PLACE:
        profile.on_hold, profile.hold_reasons, profile.hold_changed_at = True, list(reasons), now
        event = CreditHoldPlaced(customer_id=profile.customer_id, reasons=list(reasons))
    elif decision.action is HoldAction.RELEASE:
        profile.on_hold, profile.hold_reasons, profile.hold_changed_at = False, [], now
        event = CreditHoldReleased(customer_id=profile.customer_id, reason=reasons[0])
    elif decision.action is HoldAction.KEEP and list(reasons) != list(profile.hold_reasons or []):
        profile.hold_reasons = list(reasons)
    if decision.action is not HoldAction.NONE:
        profile.updated_at = now
    return decision, event


HoldFactsKey = tuple[bool, str | None, Stage | None, Decimal | None, bool, bool, HoldReason]
"""What the hold decision depends on: hold state, grade (the profile's column), stage, overdue, keep supplying,
whether collections asked to stop supply and for which reason."""


class HoldDecisions:
    """The hold rule under one policy, each distinct set of facts evaluated once.

    The decision is a pure function of the facts (hold state, grade, stage, overdue, keep supplying, what
    collections asked): a sweep's run repeats a handful of such sets over thousands of events, so a run keeps
    one of these and looks each set up instead of building and evaluating it again.
    """

    def __init__(self, policy: CreditPolicy) -> None:
        self.policy = policy
        self._known: dict[HoldFactsKey, tuple[HoldDecision, tuple[str, ...]]] = {}

    def decide(self, key: HoldFactsKey) -> tuple[HoldDecision, tuple[str, ...]]:
        """The decision on these facts and its reasons as text (``evaluate_hold``, then what collections asked)."""
        known = self._known.get(key)
        if known is None:
            on_hold, grade, stage, overdue, keep_supplying, stop_supply_requested, requested_reason = key
            facts = HoldFacts(
                on_hold=on_hold,
                grade=Grade(grade) if grade else None,  # as grade_of: the profile's grade column
                collection_stage=stage,
                overdue_amount=overdue,
                keep_supplying=keep_supplying,
            )
            decision = evaluate_hold(facts, self.policy)
            if stop_supply_requested and decision.action is HoldAction.NONE:
                # Collections asked to stop supply explicitly (a stage its policy stops at earlier than ours, or
                # arrears marked malicious).
                decision = HoldDecision(HoldAction.PLACE, on_hold=True, reasons=(requested_reason,))
            elif (
                stop_supply_requested
                and decision.action is HoldAction.PLACE
                and requested_reason not in decision.reasons
            ):
                decision = HoldDecision(HoldAction.PLACE, on_hold=True, reasons=(requested_reason, *decision.reasons))
            known = self._known[key] = (decision, tuple(str(reason) for reason in decision.reasons))
        return known


def other_currency_exposure(profile: CreditProfile) -> list[str]:
    """Currencies other than the limit's in which collections last reported open receivables above 0."""
    return sorted(
        currency
        for currency, amount in (profile.receivables_by_currency or {}).items()
        if currency != profile.currency and Decimal(amount) > 0
    )


def known_overdue(profile: CreditProfile) -> Decimal | None:
    """Overdue debt as far as we know: collections' last report, 0 when collections never mentioned the customer."""
    if profile.overdue_amount is not None:
        return profile.overdue_amount
    return None if profile.collection_stage else Decimal(0)
