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
) -> tuple[HoldDecision, CreditHoldPlaced | CreditHoldReleased | None]:
    """``evaluate_hold`` on the profile's facts, applied to the profile in memory; the event to emit, if any.

    No I/O: the caller writes the profile and the event (one event at a time, or a whole run in bulk).
    """
    facts = HoldFacts(
        on_hold=profile.on_hold,
        grade=grade_of(profile),
        collection_stage=stage,
        overdue_amount=overdue,
        keep_supplying=bool(profile.keep_supplying),
    )
    decision = evaluate_hold(facts, policy)
    if stop_supply_requested and decision.action is HoldAction.NONE:
        # Collections asked to stop supply explicitly (a stage its policy stops at earlier than ours, or
        # arrears marked malicious).
        decision = HoldDecision(HoldAction.PLACE, on_hold=True, reasons=(requested_reason,))
    elif stop_supply_requested and decision.action is HoldAction.PLACE and requested_reason not in decision.reasons:
        decision = HoldDecision(HoldAction.PLACE, on_hold=True, reasons=(requested_reason, *decision.reasons))
    reasons = [str(reason) for reason in decision.reasons]
    event: CreditHoldPlaced | CreditHoldReleased | None = None
    if decision.action is HoldAction.PLACE:
        profile.on_hold, profile.hold_reasons, profile.hold_changed_at = True, reasons, now
        event = CreditHoldPlaced(customer_id=profile.customer_id, reasons=reasons)
    elif decision.action is HoldAction.RELEASE:
        profile.on_hold, profile.hold_reasons, profile.hold_changed_at = False, [], now
        event = CreditHoldReleased(customer_id=profile.customer_id, reason=reasons[0])
    elif decision.action is HoldAction.KEEP and reasons != list(profile.hold_reasons or []):
        profile.hold_reasons = reasons
    if decision.action is not HoldAction.NONE:
        profile.updated_at = now
    return decision, event


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
