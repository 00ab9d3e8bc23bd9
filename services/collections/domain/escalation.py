"""Escalation decisions: which stages a case passes as of a date, and the same rules for the SQL sweep.

Everything is built on ``stage_rules.effective_rules``: ``decide`` walks those rules for one case, and the
set-based sweep (``services/collections/sweep/rules_sql.py``) compiles the same rules into one SQL ``CASE``, so
the per-case decision and the sweep cannot drift apart (tests/api/test_collections_sweep_sql.py runs the
compiled SQL on a grid against ``decide``). ``step_reason`` words every stage entered, for both.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from decimal import Decimal
from enum import StrEnum
from uuid import UUID

from services.collections.domain.limitation import LimitationStart, limitation_expired_reason, within_limitation
from services.collections.domain.money import require_non_negative
from services.collections.domain.policy import Policy, SupplyStop
from services.collections.domain.stage_rules import EffectiveStageRule, effective_rules
from services.collections.domain.stages import (
    CLOSED_STATUSES,
    CaseStatus,
    DisputeResolution,
    LegalRoute,
    Segment,
)
from shared.errors import Conflict
from shared.money import ZERO
from shared.stage import Stage, stage_rank

CaseId = UUID | str


@dataclass(frozen=True)
class CaseFacts:
    """What the escalation rules need to know about one case (or one overdue invoice without a case)."""

    due_date: date
    outstanding: Decimal  # principal still unpaid
    current_stage: Stage | None = None
    status: CaseStatus = CaseStatus.OPEN
    disputed_amount: Decimal = ZERO  # frozen while disputed; only the rest escalates
    segment: Segment = Segment.GENERAL
    dispute_resolution: DisputeResolution = field(default_factory=DisputeResolution)
    promise_to_pay: date | None = None  # clear it once a broken promise has been acted on
    manual_hold: bool = False
    malicious: bool = False  # arrears flagged malicious: stops a key account's supply
    case_id: CaseId | None = None
    limitation: LimitationStart | None = None  # None: the period runs from the due date, uninterrupted

    @property
    def limitation_start(self) -> LimitationStart:
        """Where the limitation period runs from: the last interruption, else the due date."""
        return self.limitation or LimitationStart.from_due_date(self.due_date)


# Why a case due for its legal stage waits: the forum (court or arbitration) is in the contract.
LEGAL_REVIEW_NO_CONTRACT = "legal review: no contract on file"


class DecisionOutcome(StrEnum):
    """What the decision amounts to."""

    ESCALATED = "escalated"  # entered one or more stages
    NO_CHANGE = "no_change"  # open and overdue, but no further stage is due yet
    NOT_OVERDUE = "not_overdue"
    PAID = "paid"
    CLOSED = "closed"  # resolved or written off
    HELD = "held"  # manual hold
    DISPUTED = "disputed"  # the whole outstanding amount is disputed
    PAUSED = "paused"  # promise to pay not yet due


@dataclass(frozen=True)
class StageStep:
    """One stage entered, with the rule that fired and why."""

    stage: Stage
    rule: str
    reason: str


@dataclass(frozen=True)
class StageDecision:
    """The result of ``decide``: where the case goes, every stage it passes, and the measures due."""

    outcome: DecisionOutcome
    from_stage: Stage | None
    to_stage: Stage | None
    steps: tuple[StageStep, ...]  # every stage entered, in order; empty when nothing moves
    reason: str
    days_overdue: int
    escalating_amount: Decimal  # outstanding less the disputed amount
    policy_version: int
    stop_supply: bool  # supply must be stopped (state, not change: compare with the current hold)
    write_off_review: bool = False
    write_off_reason: str | None = None
    promise_broken: bool = False  # the service should clear the promise once this is applied
    case_id: CaseId | None = None

    @property
    def moved(self) -> bool:
        """Whether the case enters at least one stage."""
        return bool(self.steps)

    @property
    def stages_passed(self) -> tuple[Stage, ...]:
        """The stages entered, in order."""
        return tuple(step.stage for step in self.steps)


class Waiting(StrEnum):
    """Why the next stage will not fire on its date alone."""

    PROMISE = "promise_to_pay"  # paused until the promised date; a broken promise waives the days
    HOLD = "manual_hold"
    DISPUTE = "dispute"  # the whole outstanding amount is disputed
    AMOUNT = "amount_below_threshold"  # the undisputed amount is below the next stage's minimum


@dataclass(frozen=True)
class NextAction:
    """What the policy does next with an open case, and from which day (the work queue's "next action")."""

    stage: Stage
    due_on: date
    min_amount: Decimal
    rule: str
    waiting_for: Waiting | None = None


def next_action(facts: CaseFacts, policy: Policy) -> NextAction | None:
    """The next stage ahead of an open case and the day it becomes due under ``policy``'s effective rules.

    None for a closed or paid case, or one at its route's final stage. The day is the due date plus the
    next rule's days; a promise moves it to the day after the promised date (the days are then waived).
    """
    if facts.status in CLOSED_STATUSES or facts.outstanding == 0:
        return None
    promised = facts.promise_to_pay
    rules = effective_rules(
        policy, facts.segment, facts.dispute_resolution, facts.current_stage, promise_broken=promised is not None
    )
    if not rules:
        return None
    rule = rules[0]
    due_on = facts.due_date + timedelta(days=rule.min_days_overdue)
    if promised is not None:
        due_on = max(due_on, promised + timedelta(days=1))
    escalating_amount = facts.outstanding - min(facts.disputed_amount, facts.outstanding)
    waiting_for: Waiting | None = None
    if facts.manual_hold or facts.status is CaseStatus.ON_HOLD:
        waiting_for = Waiting.HOLD
    elif escalating_amount == 0:
        waiting_for = Waiting.DISPUTE
    elif promised is not None:
        waiting_for = Waiting.PROMISE
    elif escalating_amount < rule.min_amount:
        waiting_for = Waiting.AMOUNT
    return NextAction(rule.stage, due_on, rule.min_amount, rule.rule, waiting_for)


def supply_must_stop(policy: Policy, segment: Segment, stage: Stage | None, *, malicious: bool = False) -> bool:
    """Whether an open overdue case of ``segment`` at ``stage`` requires supply to stop."""
    strategy = policy.strategy_for(segment)
    if strategy.supply_stop is SupplyStop.AT_ONCE:
        return True
    if strategy.supply_stop is SupplyStop.ONLY_IF_MALICIOUS:
        return malicious
    return stage is not None and stage_rank(stage) >= stage_rank(policy.stop_supply_stage)


def keeps_supplying(policy: Policy, segment: Segment, *, malicious: bool = False) -> bool:
    """Whether the segment's strategy keeps supplying whatever the stage (a key account, arrears not malicious):
    credit then places no hold for the stage alone."""
    return policy.strategy_for(segment).supply_stop is SupplyStop.ONLY_IF_MALICIOUS and not malicious


def decide(facts: CaseFacts, policy: Policy, as_of: date) -> StageDecision:
    """Decide, from the due date and the policy, every stage the case enters as of ``as_of``."""
    days_overdue, escalating_amount = _figures(facts, as_of)

    def standstill(outcome: DecisionOutcome, reason: str, *, supply: bool = True) -> StageDecision:
        return _standstill(facts, policy, days_overdue, escalating_amount, outcome, reason, supply=supply)

    if facts.status in CLOSED_STATUSES:
        return standstill(DecisionOutcome.CLOSED, f"case is {facts.status}", supply=False)
    if facts.outstanding == 0:
        return standstill(DecisionOutcome.PAID, "nothing outstanding", supply=False)
    if days_overdue <= 0:
        return standstill(DecisionOutcome.NOT_OVERDUE, f"not overdue: due {facts.due_date}", supply=False)
    if facts.manual_hold or facts.status is CaseStatus.ON_HOLD:
        return standstill(DecisionOutcome.HELD, "case is on manual hold")
    if escalating_amount == 0:
        return standstill(
            DecisionOutcome.DISPUTED, f"the whole outstanding {facts.outstanding} is disputed: held until resolved"
        )
    if facts.promise_to_pay is not None:
        if as_of <= facts.promise_to_pay:
            return standstill(DecisionOutcome.PAUSED, f"paused: promise to pay by {facts.promise_to_pay}")
        return _walk(facts, policy, as_of, PROMISE_BROKEN.format(promised_on=facts.promise_to_pay), promise_broken=True)
    return _walk(facts, policy, as_of, None)


def escalate_now(
    facts: CaseFacts, policy: Policy, as_of: date, trigger: str, *, override_amount: bool = False
) -> StageDecision:
    """Escalate at once to the next stage, days waived (visit refusal, manual escalation by ``trigger``).

    The amount threshold of the next stage still applies unless ``override_amount`` (a person's decision);
    the legal route and the limitation period always apply. Further stages whose thresholds are met are
    passed too. Raises Conflict for a closed case or one already at its final stage; a decision that does
    not move (amount below the threshold, limitation expired) is returned for the caller to report.
    """
    if facts.status in CLOSED_STATUSES:
        raise Conflict(f"case is {facts.status}: it cannot be escalated")
    if not effective_rules(policy, facts.segment, facts.dispute_resolution, facts.current_stage):
        raise Conflict(f"case is already at its final stage {facts.current_stage}")
    days_overdue, escalating_amount = _figures(facts, as_of)
    if days_overdue <= 0:
        raise Conflict(f"invoice is not overdue (due {facts.due_date}): nothing to escalate")
    if escalating_amount == 0:
        raise Conflict("nothing undisputed is outstanding: nothing to escalate")
    return _walk(facts, policy, as_of, trigger, override_amount=override_amount)


def _figures(facts: CaseFacts, as_of: date) -> tuple[int, Decimal]:
    require_non_negative(facts.outstanding, "outstanding")
    require_non_negative(facts.disputed_amount, "disputed_amount")
    # A dispute larger than the debt holds all of it, never a negative remainder.
    return (as_of - facts.due_date).days, facts.outstanding - min(facts.disputed_amount, facts.outstanding)


def _standstill(
    facts: CaseFacts,
    policy: Policy,
    days_overdue: int,
    escalating_amount: Decimal,
    outcome: DecisionOutcome,
    reason: str,
    *,
    supply: bool,
) -> StageDecision:
    return StageDecision(
        outcome=outcome,
        from_stage=facts.current_stage,
        to_stage=facts.current_stage,
        steps=(),
        reason=reason,
        days_overdue=days_overdue,
        escalating_amount=escalating_amount,
        policy_version=policy.version,
        stop_supply=supply and supply_must_stop(policy, facts.segment, facts.current_stage, malicious=facts.malicious),
        case_id=facts.case_id,
    )


def _walk(
    facts: CaseFacts,
    policy: Policy,
    as_of: date,
    trigger: str | None,
    *,
    promise_broken: bool = False,
    override_amount: bool = False,
) -> StageDecision:
    """Enter every stage of the chain ahead whose rule matches; the first one's days waived when triggered."""
    days_overdue, escalating_amount = _figures(facts, as_of)
    route = facts.dispute_resolution.route
    within = within_limitation(facts.limitation_start.running_from, as_of, policy.limitation_years)
    rules = effective_rules(policy, facts.segment, route, facts.current_stage, promise_broken=trigger is not None)
    if override_amount and rules:
        rules[0] = replace(rules[0], min_amount=ZERO, rule=rules[0].rule + f" [amount overridden: {trigger}]")
    steps: list[StageStep] = []
    write_off_reason: str | None = None
    legal_review_reason: str | None = None
    for rule in rules:
        if rule.requires_contract and not facts.dispute_resolution.on_file:
            # Without a contract the forum is unknown: legal review first, unless the claim is time-barred
            # anyway (a court claim past limitation goes to write-off review whatever the contract says).
            if rule.matches_ignoring_limitation(days_overdue, escalating_amount):
                if within_limitation(facts.limitation_start.running_from, as_of, policy.limitation_years):
                    legal_review_reason = LEGAL_REVIEW_NO_CONTRACT
                else:
                    write_off_reason = limitation_expired_reason(facts.limitation_start, policy.limitation_years)
            break
        if rule.matches(days_overdue, escalating_amount, within):
            waived_by = trigger if not steps else None
            reason = _reason(rule, facts, days_overdue, escalating_amount, route, policy, waived_by)
            steps.append(StageStep(rule.stage, rule.rule, reason))
            continue
        if rule.limitation_applies and rule.matches_ignoring_limitation(days_overdue, escalating_amount):
            write_off_reason = limitation_expired_reason(facts.limitation_start, policy.limitation_years)
        break

    to_stage = steps[-1].stage if steps else facts.current_stage
    if steps:
        outcome = DecisionOutcome.ESCALATED
        reason = " → ".join(step.stage for step in steps) + f": {steps[-1].reason}"
        if trigger is not None and len(steps) > 1:
            reason = f"{trigger}; {reason}"  # the last step's reason no longer names the trigger
    else:
        outcome = DecisionOutcome.NO_CHANGE
        reason = (
            write_off_reason
            or legal_review_reason
            or (
                f"{days_overdue} days overdue, amount {escalating_amount}: no further stage due under policy "
                f"v{policy.version}"
            )
        )
        if trigger is not None:
            reason = f"{trigger}; {reason}"
    return StageDecision(
        outcome=outcome,
        from_stage=facts.current_stage,
        to_stage=to_stage,
        steps=tuple(steps),
        reason=reason,
        days_overdue=days_overdue,
        escalating_amount=escalating_amount,
        policy_version=policy.version,
        stop_supply=supply_must_stop(policy, facts.segment, to_stage, malicious=facts.malicious),
        write_off_review=write_off_reason is not None,
        write_off_reason=write_off_reason,
        promise_broken=promise_broken,
        case_id=facts.case_id,
    )


def _reason(
    rule: EffectiveStageRule,
    facts: CaseFacts,
    days_overdue: int,
    amount: Decimal,
    route: LegalRoute,
    policy: Policy,
    waived_by: str | None,
) -> str:
    return step_reason(
        rule,
        days_overdue=days_overdue,
        due_date=facts.due_date,
        amount=amount,
        outstanding=facts.outstanding,
        disputed_amount=facts.disputed_amount,
        segment=facts.segment,
        route=route,
        policy_version=policy.version,
        waived_by=waived_by,
    )


# The wording of a stage entered, once: ``step_reason`` fills it in Python, the PostgreSQL sweep compiles the
# same templates into SQL string concatenation (services/collections/sweep/rules_sql.py, ``template_sql``).
STEP_REASON = (
    "{days}; amount {amount}{minimum}{undisputed}; segment {segment}; clause {route}; policy v{policy_version}"
)
DAYS_COUNTED = "{days_overdue} days overdue since due date {due_date} (threshold {threshold})"
DAYS_WAIVED = "{waived_by}: escalated at once, days waived ({days_overdue} days overdue)"
PROMISE_BROKEN = "promise to pay by {promised_on} broken"
MINIMUM = " >= {min_amount}"
UNDISPUTED = " (undisputed part of {outstanding})"


def minimum_text(rule: EffectiveStageRule) -> str:
    """The amount threshold as the reason words it ('' when the stage has none)."""
    return MINIMUM.format(min_amount=rule.min_amount) if rule.min_amount > 0 else ""


def step_reason(
    rule: EffectiveStageRule,
    *,
    days_overdue: int,
    due_date: date,
    amount: Decimal,
    outstanding: Decimal,
    disputed_amount: Decimal,
    segment: Segment | str,
    route: LegalRoute | str,
    policy_version: int,
    waived_by: str | None = None,
) -> str:
    """Why a case entered ``rule``'s stage: the one wording, for ``decide`` and for the sweep's rows alike."""
    if waived_by is not None:
        days = DAYS_WAIVED.format(waived_by=waived_by, days_overdue=days_overdue)
    else:
        days = DAYS_COUNTED.format(days_overdue=days_overdue, due_date=due_date, threshold=rule.min_days_overdue)
    return STEP_REASON.format(
        days=days,
        amount=amount,
        minimum=minimum_text(rule),
        undisputed=UNDISPUTED.format(outstanding=outstanding) if disputed_amount > 0 else "",
        segment=segment,
        route=route,
        policy_version=policy_version,
    )


@dataclass(frozen=True)
class SimulatedMove:
    """One case a draft policy would move (or flag for write-off review)."""

    case_id: CaseId | None
    from_stage: Stage | None
    to_stage: Stage | None
    stages_passed: tuple[Stage, ...]
    write_off_review: bool
    reason: str


def simulate(cases: Iterable[CaseFacts], draft_policy: Policy, as_of: date) -> list[SimulatedMove]:
    """Which cases ``draft_policy`` would move where as of ``as_of``; changes nothing."""
    moves: list[SimulatedMove] = []
    for facts in cases:
        decision = decide(facts, draft_policy, as_of)
        if decision.moved or decision.write_off_review:
            moves.append(
                SimulatedMove(
                    case_id=facts.case_id,
                    from_stage=decision.from_stage,
                    to_stage=decision.to_stage,
                    stages_passed=decision.stages_passed,
                    write_off_review=decision.write_off_review,
                    reason=decision.reason,
                )
            )
    return moves
