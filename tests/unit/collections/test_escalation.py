"""Escalation decisions under the default policy: boundaries, thresholds, clauses, strategies, pauses."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest

from services.collections.domain.escalation import (
    CaseFacts,
    DecisionOutcome,
    decide,
    escalate_now,
    simulate,
)
from services.collections.domain.policy import Policy, StageRule, default_policy
from services.collections.domain.stages import CaseStatus, ClauseKind, DisputeResolution, Segment
from shared.errors import Conflict, DomainRuleViolation
from shared.stage import Stage

DUE = date(2026, 1, 1)
POLICY = default_policy()
COURT = DisputeResolution.court()
ARBITRATION = DisputeResolution.arbitration("Shanghai International Arbitration Center")

L, V, A, ARB, LIT = Stage.LETTER, Stage.VISIT, Stage.AGENCY, Stage.ARBITRATION, Stage.LITIGATION


def day(n: int) -> date:
    """The date ``n`` days after the due date."""
    return DUE + timedelta(days=n)


def facts(amount: str = "60000.00", **changes: Any) -> CaseFacts:
    """A 60,000.00 invoice due on DUE under a court clause, with ``changes``."""
    return replace(CaseFacts(due_date=DUE, outstanding=Decimal(amount), dispute_resolution=COURT), **changes)


@pytest.mark.parametrize(
    ("days", "passed"),
    [
        pytest.param(0, (), id="day-0-not-overdue"),
        pytest.param(1, (L,), id="day-1-letter"),
        pytest.param(29, (L,), id="day-29-still-letter"),
        pytest.param(30, (L, V), id="day-30-visit"),
        pytest.param(59, (L, V), id="day-59-still-visit"),
        pytest.param(60, (L, V, A), id="day-60-agency"),
        pytest.param(89, (L, V, A), id="day-89-still-agency"),
        pytest.param(90, (L, V, A, LIT), id="day-90-litigation"),
    ],
)
def test_stage_boundaries_for_a_new_case(days: int, passed: tuple[Stage, ...]) -> None:
    # 60,000.00 under a court clause clears every amount threshold (10,000 agency, 50,000 litigation).
    decision = decide(facts(), POLICY, day(days))
    assert decision.stages_passed == passed
    assert decision.to_stage == (passed[-1] if passed else None)
    assert decision.days_overdue == days


@pytest.mark.parametrize(
    ("current", "days", "passed"),
    [
        pytest.param(L, 29, (), id="letter-day-29-stays"),
        pytest.param(L, 30, (V,), id="letter-day-30-visit"),
        pytest.param(V, 59, (), id="visit-day-59-stays"),
        pytest.param(V, 60, (A,), id="visit-day-60-agency"),
        pytest.param(A, 89, (), id="agency-day-89-stays"),
        pytest.param(A, 90, (LIT,), id="agency-day-90-litigation"),
        pytest.param(LIT, 500, (), id="litigation-is-final"),
    ],
)
def test_stage_boundaries_from_the_current_stage(current: Stage, days: int, passed: tuple[Stage, ...]) -> None:
    decision = decide(facts(current_stage=current), POLICY, day(days))
    assert decision.stages_passed == passed
    assert decision.outcome is (DecisionOutcome.ESCALATED if passed else DecisionOutcome.NO_CHANGE)
    assert decision.to_stage == (passed[-1] if passed else current)


@pytest.mark.parametrize(
    ("amount", "days", "to_stage"),
    [
        pytest.param("9999.99", 60, V, id="9999.99-stops-at-visit"),
        pytest.param("10000.00", 60, A, id="10000-reaches-agency"),
        pytest.param("49999.99", 90, A, id="49999.99-no-litigation"),
        pytest.param("50000.00", 90, LIT, id="50000-litigation"),
        pytest.param("5000.00", 400, V, id="5000-stops-at-visit-for-good"),
    ],
)
def test_amount_thresholds(amount: str, days: int, to_stage: Stage) -> None:
    assert decide(facts(amount), POLICY, day(days)).to_stage is to_stage


@pytest.mark.parametrize(
    ("clause", "amount", "to_stage"),
    [
        pytest.param(ARBITRATION, "60000.00", ARB, id="arbitration-agreement"),
        pytest.param(ARBITRATION, "20000.00", ARB, id="arbitration-has-no-50000-threshold"),
        pytest.param(COURT, "60000.00", LIT, id="court"),
        pytest.param(COURT, "20000.00", A, id="court-below-50000"),
        # no contract on file: the legal stage waits for legal review (see test_no_contract_waits_at_agency)
        pytest.param(DisputeResolution(ClauseKind.UNKNOWN), "60000.00", A, id="no-contract-waits-at-agency"),
        pytest.param(
            DisputeResolution(ClauseKind.ARBITRATION, None),
            "60000.00",
            LIT,
            id="arbitration-without-commission-is-invalid-so-court",
        ),
        pytest.param(DisputeResolution(ClauseKind.ARBITRATION, "  "), "60000.00", LIT, id="blank-commission"),
    ],
)
def test_clause_decides_the_legal_stage(clause: DisputeResolution, amount: str, to_stage: Stage) -> None:
    decision = decide(facts(amount, dispute_resolution=clause), POLICY, day(90))
    assert decision.to_stage is to_stage
    assert not {ARB, LIT} <= set(decision.stages_passed)


@pytest.mark.parametrize("days", [90, 120, 400])
def test_no_contract_waits_at_agency_for_legal_review(days: int) -> None:
    no_contract = facts(current_stage=A, dispute_resolution=DisputeResolution())
    decision = decide(no_contract, POLICY, day(days))
    assert (decision.outcome, decision.to_stage, decision.steps) == (DecisionOutcome.NO_CHANGE, A, ())
    assert decision.reason == "legal review: no contract on file" and not decision.write_off_review
    # the contract arrives: the same case goes to court on the next sweep
    assert decide(replace(no_contract, dispute_resolution=COURT), POLICY, day(days)).to_stage is LIT


def test_no_contract_past_limitation_goes_to_write_off_review() -> None:
    decision = decide(facts(current_stage=A, dispute_resolution=DisputeResolution()), POLICY, date(2029, 6, 1))
    assert decision.write_off_review and decision.to_stage is A
    assert decision.write_off_reason is not None and "limitation period" in decision.write_off_reason


def test_no_contract_is_no_reason_to_wait_before_the_legal_stage_is_due() -> None:
    decision = decide(facts(current_stage=A, dispute_resolution=DisputeResolution()), POLICY, day(89))
    assert decision.outcome is DecisionOutcome.NO_CHANGE and "no further stage due" in decision.reason


@pytest.mark.parametrize(
    ("due", "as_of", "to_stage", "write_off"),
    [
        # due 2026-01-01: limitation expires 2029-01-01, the expiry day itself still inside
        pytest.param(DUE, date(2029, 1, 1), LIT, False, id="last-day-inside"),
        pytest.param(DUE, date(2029, 1, 2), A, True, id="one-day-outside"),
        # 29 February: the third anniversary falls back to 28 February
        pytest.param(date(2024, 2, 29), date(2027, 2, 28), LIT, False, id="leap-day-inside"),
        pytest.param(date(2024, 2, 29), date(2027, 3, 1), A, True, id="leap-day-outside"),
    ],
)
def test_limitation_period(due: date, as_of: date, to_stage: Stage, write_off: bool) -> None:
    decision = decide(facts(due_date=due), POLICY, as_of)
    assert decision.to_stage is to_stage
    assert decision.write_off_review is write_off
    if write_off:
        assert decision.write_off_reason is not None
        assert "limitation period" in decision.write_off_reason
        assert LIT not in decision.stages_passed


def test_case_waiting_at_agency_past_limitation_is_flagged_not_moved() -> None:
    decision = decide(facts(current_stage=A), POLICY, date(2030, 6, 1))
    assert (decision.outcome, decision.to_stage, decision.write_off_review) == (DecisionOutcome.NO_CHANGE, A, True)


def test_arbitration_is_not_limited_here_and_never_flagged() -> None:
    decision = decide(facts(dispute_resolution=ARBITRATION), POLICY, date(2030, 6, 1))
    assert (decision.to_stage, decision.write_off_review) == (ARB, False)


@pytest.mark.parametrize(
    ("segment", "amount", "days", "passed", "stop_supply"),
    [
        pytest.param(Segment.KEY_ACCOUNT, "60000.00", 0, (), False, id="key-day-0"),
        pytest.param(Segment.KEY_ACCOUNT, "60000.00", 1, (V,), False, id="key-visit-first-no-letter"),
        pytest.param(Segment.KEY_ACCOUNT, "60000.00", 59, (V,), False, id="key-day-59"),
        pytest.param(Segment.KEY_ACCOUNT, "60000.00", 60, (V, A), False, id="key-agency-supply-continues"),
        pytest.param(Segment.KEY_ACCOUNT, "60000.00", 90, (V, A, LIT), False, id="key-litigation"),
        # high risk halves every delay: 1→1, 30→15, 60→30, 90→45; supply stops at once
        pytest.param(Segment.HIGH_RISK, "60000.00", 1, (L,), True, id="high-risk-day-1"),
        pytest.param(Segment.HIGH_RISK, "60000.00", 14, (L,), True, id="high-risk-day-14"),
        pytest.param(Segment.HIGH_RISK, "60000.00", 15, (L, V), True, id="high-risk-day-15-visit"),
        pytest.param(Segment.HIGH_RISK, "60000.00", 29, (L, V), True, id="high-risk-day-29"),
        pytest.param(Segment.HIGH_RISK, "60000.00", 30, (L, V, A), True, id="high-risk-day-30-agency"),
        pytest.param(Segment.HIGH_RISK, "60000.00", 44, (L, V, A), True, id="high-risk-day-44"),
        pytest.param(Segment.HIGH_RISK, "60000.00", 45, (L, V, A, LIT), True, id="high-risk-day-45-litigation"),
        pytest.param(Segment.HIGH_RISK, "9999.99", 45, (L, V), True, id="high-risk-amounts-unchanged"),
        # general: supply stops once the case reaches agency (the policy's stop-supply stage)
        pytest.param(Segment.GENERAL, "60000.00", 59, (L, V), False, id="general-visit-supply-continues"),
        pytest.param(Segment.GENERAL, "60000.00", 60, (L, V, A), True, id="general-agency-stops-supply"),
        pytest.param(Segment.GENERAL, "5000.00", 200, (L, V), False, id="general-small-debt-never-stops"),
    ],
)
def test_segment_strategies(
    segment: Segment, amount: str, days: int, passed: tuple[Stage, ...], stop_supply: bool
) -> None:
    decision = decide(facts(amount, segment=segment), POLICY, day(days))
    assert decision.stages_passed == passed
    assert decision.stop_supply is stop_supply


def test_malicious_arrears_stop_a_key_accounts_supply() -> None:
    decision = decide(facts(segment=Segment.KEY_ACCOUNT, malicious=True), POLICY, day(1))
    assert decision.stages_passed == (V,)
    assert decision.stop_supply is True


def test_high_risk_stops_supply_even_while_paused() -> None:
    decision = decide(facts(segment=Segment.HIGH_RISK, current_stage=L, promise_to_pay=day(20)), POLICY, day(10))
    assert (decision.outcome, decision.stop_supply) == (DecisionOutcome.PAUSED, True)


@pytest.mark.parametrize(
    ("amount", "current", "promise", "days", "outcome", "passed"),
    [
        pytest.param("20000.00", V, 40, 35, DecisionOutcome.PAUSED, (), id="before-promise-paused"),
        pytest.param("20000.00", V, 40, 40, DecisionOutcome.PAUSED, (), id="on-promised-day-paused"),
        # paused past day 60: without the promise it would be at agency
        pytest.param("20000.00", V, 70, 65, DecisionOutcome.PAUSED, (), id="promise-holds-past-threshold"),
        # broken on day 41: agency at once although day 41 < 60
        pytest.param("20000.00", V, 40, 41, DecisionOutcome.ESCALATED, (A,), id="broken-escalates-at-once"),
        pytest.param("20000.00", L, 10, 12, DecisionOutcome.ESCALATED, (V,), id="broken-at-letter-visit-day-12"),
        # broken late: the waived first step, then every stage whose days are met
        pytest.param("60000.00", L, 80, 95, DecisionOutcome.ESCALATED, (V, A, LIT), id="broken-long-after"),
        # the next stage's amount threshold still applies
        pytest.param("5000.00", V, 40, 41, DecisionOutcome.NO_CHANGE, (), id="broken-below-agency-amount"),
    ],
)
def test_promise_to_pay(
    amount: str, current: Stage, promise: int, days: int, outcome: DecisionOutcome, passed: tuple[Stage, ...]
) -> None:
    decision = decide(facts(amount, current_stage=current, promise_to_pay=day(promise)), POLICY, day(days))
    assert decision.outcome is outcome
    assert decision.stages_passed == passed
    assert decision.promise_broken is (days > promise)
    if days > promise:
        assert "broken" in decision.reason


@pytest.mark.parametrize(
    ("amount", "disputed", "days", "outcome", "to_stage", "escalating"),
    [
        pytest.param("60000.00", "60000.00", 90, DecisionOutcome.DISPUTED, None, "0.00", id="whole-disputed-held"),
        pytest.param("60000.00", "70000.00", 90, DecisionOutcome.DISPUTED, None, "0.00", id="over-disputed-held"),
        # 60,000 − 15,000 = 45,000 undisputed: agency (≥ 10,000) but not litigation (< 50,000)
        pytest.param("60000.00", "15000.00", 90, DecisionOutcome.ESCALATED, A, "45000.00", id="partial-to-agency"),
        # 60,000 − 55,000 = 5,000 undisputed: below the agency threshold
        pytest.param("60000.00", "55000.00", 60, DecisionOutcome.ESCALATED, V, "5000.00", id="partial-small-rest"),
        pytest.param(
            "60000.00", "10000.00", 90, DecisionOutcome.ESCALATED, LIT, "50000.00", id="rest-exactly-50000-litigates"
        ),
    ],
)
def test_dispute_holds_only_the_disputed_amount(
    amount: str, disputed: str, days: int, outcome: DecisionOutcome, to_stage: Stage | None, escalating: str
) -> None:
    decision = decide(facts(amount, disputed_amount=Decimal(disputed)), POLICY, day(days))
    assert (decision.outcome, decision.to_stage) == (outcome, to_stage)
    assert decision.escalating_amount == Decimal(escalating)
    if decision.steps:
        assert "undisputed part of 60000.00" in decision.steps[-1].reason


@pytest.mark.parametrize(
    ("changes", "outcome", "stop_supply"),
    [
        pytest.param({"manual_hold": True}, DecisionOutcome.HELD, True, id="manual-hold"),
        pytest.param({"status": CaseStatus.ON_HOLD}, DecisionOutcome.HELD, True, id="status-on-hold"),
        pytest.param({"status": CaseStatus.RESOLVED}, DecisionOutcome.CLOSED, False, id="resolved"),
        pytest.param({"status": CaseStatus.WRITTEN_OFF}, DecisionOutcome.CLOSED, False, id="written-off"),
        pytest.param({"outstanding": Decimal("0")}, DecisionOutcome.PAID, False, id="paid"),
    ],
)
def test_cases_that_do_not_move(changes: dict[str, Any], outcome: DecisionOutcome, stop_supply: bool) -> None:
    decision = decide(facts(current_stage=A, **changes), POLICY, day(200))
    assert (decision.outcome, decision.moved, decision.to_stage) == (outcome, False, A)
    assert decision.stop_supply is stop_supply


@pytest.mark.parametrize(
    "changes",
    [
        pytest.param({"outstanding": Decimal("-1")}, id="negative-outstanding"),
        pytest.param({"disputed_amount": Decimal("-1")}, id="negative-dispute"),
    ],
)
def test_negative_figures_are_refused(changes: dict[str, Any]) -> None:
    with pytest.raises(DomainRuleViolation):
        decide(facts(**changes), POLICY, day(10))


def test_long_gap_passes_every_stage_in_one_decision_with_reasons() -> None:
    decision = decide(facts(current_stage=L), POLICY, day(95))
    assert decision.stages_passed == (V, A, LIT)
    visit, agency, litigation = decision.steps
    # days always counted from the due date, never from the last sweep
    assert visit.reason == (
        "95 days overdue since due date 2026-01-01 (threshold 30); amount 60000.00; "
        "segment general; clause court; policy v1"
    )
    assert agency.rule == "agency: days_overdue >= 60 and amount >= 10000.00 (policy v1; segment general)"
    assert "amount 60000.00 >= 50000.00" in litigation.reason
    assert "within 3-year limitation period" in litigation.rule
    assert decision.reason.startswith("visit → agency → litigation: ")
    assert decision.policy_version == 1


def _sweep(case: CaseFacts, days: list[int]) -> list[Stage | None]:
    """Run decisions as time passes, applying each to the case as the sweep would."""
    stages = []
    for n in days:
        decision = decide(case, POLICY, day(n))
        case = replace(case, current_stage=decision.to_stage)
        stages.append(decision.to_stage)
    return stages


@pytest.mark.parametrize(
    ("amount", "clause", "expected"),
    [
        pytest.param("60000.00", COURT, [L, V, A, LIT, LIT, LIT], id="60000-court-to-litigation"),
        pytest.param("60000.00", ARBITRATION, [L, V, A, ARB, ARB, ARB], id="60000-arbitration-never-court"),
        pytest.param("5000.00", COURT, [L, V, V, V, V, V], id="5000-stops-at-visit"),
        pytest.param("5000.00", ARBITRATION, [L, V, V, V, V, V], id="5000-arbitration-also-stops"),
    ],
)
def test_invoice_walks_the_pipeline_as_time_passes(
    amount: str, clause: DisputeResolution, expected: list[Stage]
) -> None:
    assert _sweep(facts(amount, dispute_resolution=clause), [1, 30, 60, 90, 400, 2000]) == expected


def test_payment_at_visit_stops_the_pipeline() -> None:
    at_visit = facts(current_stage=V)
    assert decide(replace(at_visit, outstanding=Decimal("0")), POLICY, day(90)).moved is False


def test_stages_never_go_backwards_after_a_partial_payment() -> None:
    # at agency, then paid down to 5,000: stays at agency, and the court route needs 50,000
    paid_down = facts("5000.00", current_stage=A)
    assert decide(paid_down, POLICY, day(95)).to_stage is A
    # agency's own 10,000 is behind it: arbitration has no threshold of its own
    assert decide(replace(paid_down, dispute_resolution=ARBITRATION), POLICY, day(95)).to_stage is ARB


@pytest.mark.parametrize(
    ("amount", "current", "override", "outcome", "passed"),
    [
        pytest.param("20000.00", V, False, DecisionOutcome.ESCALATED, (A,), id="refusal-to-agency-at-once"),
        pytest.param("5000.00", V, False, DecisionOutcome.NO_CHANGE, (), id="refusal-below-agency-amount"),
        pytest.param("5000.00", V, True, DecisionOutcome.ESCALATED, (A,), id="manual-override-of-amount"),
        pytest.param("60000.00", L, False, DecisionOutcome.ESCALATED, (V,), id="manual-escalate-from-letter"),
    ],
)
def test_escalate_now(
    amount: str, current: Stage, override: bool, outcome: DecisionOutcome, passed: tuple[Stage, ...]
) -> None:
    decision = escalate_now(
        facts(amount, current_stage=current), POLICY, day(35), "payment refused at the visit", override_amount=override
    )
    assert (decision.outcome, decision.stages_passed) == (outcome, passed)
    if passed:
        assert decision.steps[0].reason.startswith("payment refused at the visit: escalated at once")


@pytest.mark.parametrize(
    "changes",
    [
        pytest.param({"current_stage": LIT}, id="already-final"),
        pytest.param({"status": CaseStatus.RESOLVED}, id="closed"),
        pytest.param({"due_date": day(100)}, id="not-overdue"),
        pytest.param({"disputed_amount": Decimal("60000.00")}, id="all-disputed"),
    ],
)
def test_escalate_now_refuses_with_conflict(changes: dict[str, Any]) -> None:
    with pytest.raises(Conflict):
        escalate_now(facts(**changes), POLICY, day(35), "manual escalation by ops")


def test_escalate_now_respects_the_limitation_period() -> None:
    decision = escalate_now(facts(current_stage=A), POLICY, date(2030, 1, 1), "manual escalation by ops")
    assert (decision.moved, decision.write_off_review) == (False, True)


def test_simulation_reports_moves_under_a_draft_policy_and_changes_nothing() -> None:
    draft = Policy(
        stages=tuple(
            StageRule(r.stage, 45, r.min_amount, r.action, r.cost) if r.stage is A else r for r in POLICY.stages
        ),
        version=2,
    )
    cases = [
        facts("20000.00", current_stage=V, case_id="c-1"),  # day 50: agency under the draft (45), not now (60)
        facts("5000.00", current_stage=V, case_id="c-2"),  # below the agency amount either way
        facts("20000.00", current_stage=L, case_id="c-3", due_date=day(40)),  # 10 days overdue: stays letter
        facts("60000.00", current_stage=A, case_id="c-4", due_date=date(2020, 1, 1)),  # past limitation
    ]
    before = list(cases)
    moves = simulate(cases, draft, day(50))
    assert [(m.case_id, m.from_stage, m.to_stage, m.stages_passed, m.write_off_review) for m in moves] == [
        ("c-1", V, A, (A,), False),
        ("c-4", A, A, (), True),
    ]
    assert simulate(cases, POLICY, day(50)) == [moves[1]]
    assert cases == before
