"""Pure parts of the stage actions and case operations: tone, visits, filings, promises, disputes."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from services.collections.domain.actions import (
    ActionCosts,
    LetterTone,
    action_cost,
    action_costs,
    arbitration_filing,
    letter_tone,
    litigation_filing,
    reply_by,
)
from services.collections.domain.cases import (
    CaseEffect,
    VisitOutcome,
    validate_dispute,
    validate_manual_action,
    validate_promise,
    visit_effect,
)
from services.collections.domain.policy import Policy, default_policy
from services.collections.domain.stages import CaseStatus, ClauseKind, DisputeResolution
from shared.errors import Conflict, DomainRuleViolation
from shared.stage import Stage

D = Decimal
POLICY = default_policy()


@pytest.mark.parametrize(
    ("number", "tone"),
    [
        pytest.param(1, LetterTone.REMINDER, id="1st-reminder"),
        pytest.param(2, LetterTone.FIRM, id="2nd-firm"),
        pytest.param(3, LetterTone.FINAL_DEMAND, id="3rd-final"),
        pytest.param(7, LetterTone.FINAL_DEMAND, id="7th-final"),
    ],
)
def test_letter_tone_firms_with_each_letter(number: int, tone: LetterTone) -> None:
    assert letter_tone(number) is tone


@pytest.mark.parametrize("number", [0, -1])
def test_letter_numbers_start_at_one(number: int) -> None:
    with pytest.raises(DomainRuleViolation):
        letter_tone(number)


@pytest.mark.parametrize(
    ("tone", "expected"),
    [
        pytest.param(LetterTone.REMINDER, date(2026, 3, 15), id="reminder-14-days"),
        pytest.param(LetterTone.FIRM, date(2026, 3, 11), id="firm-10-days"),
        pytest.param(LetterTone.FINAL_DEMAND, date(2026, 3, 8), id="final-7-days"),
    ],
)
def test_reply_by(tone: LetterTone, expected: date) -> None:
    assert reply_by(tone, date(2026, 3, 1)) == expected


@pytest.mark.parametrize(
    ("stage", "cost"),
    [
        (Stage.LETTER, "5.00"),
        (Stage.VISIT, "200.00"),
        (Stage.AGENCY, "0.00"),
        (Stage.ARBITRATION, "3000.00"),
        (Stage.LITIGATION, "5000.00"),
    ],
    ids=lambda value: str(value),
)
def test_action_costs_come_from_the_policy(stage: Stage, cost: str) -> None:
    assert action_cost(POLICY, stage) == D(cost)


@pytest.mark.parametrize(
    ("stage", "carried_out", "internal", "recoverable"),
    [
        (Stage.LETTER, True, "5.00", "5.00"),  # a letter sent
        (Stage.LETTER, False, "0.00", "0.00"),  # deferred, not sent
        (Stage.VISIT, False, "0.00", "0.00"),  # only scheduled: nothing to charge
        (Stage.VISIT, True, "200.00", "200.00"),  # made
        (Stage.AGENCY, True, "0.00", "0.00"),  # paid by commission on recovery
        (Stage.ARBITRATION, True, "3000.00", "3000.00"),  # lodged: the losing debtor bears the fee
        (Stage.LITIGATION, True, "5000.00", "5000.00"),
    ],
)
def test_only_actions_carried_out_cost_and_only_recoverable_costs_are_charged(
    stage: Stage, carried_out: bool, internal: str, recoverable: str
) -> None:
    assert action_costs(POLICY, stage, carried_out=carried_out) == ActionCosts(D(internal), D(recoverable))


def test_a_cost_the_law_does_not_let_us_recover_stays_internal() -> None:
    data = POLICY.to_dict()
    data["stages"][1] = {**data["stages"][1], "recoverable": False}  # visits: our own cost
    policy = Policy.from_dict(data)
    assert action_costs(policy, Stage.VISIT, carried_out=True) == ActionCosts(D("200.00"), D("0.00"))
    bad = {**data, "stages": [{**data["stages"][0], "recoverable": "yes"}, *data["stages"][1:]]}
    with pytest.raises(DomainRuleViolation) as raised:
        Policy.from_dict(bad)
    assert [e["field"] for e in raised.value.errors] == ["stages[0].recoverable"]


VISITED = date(2026, 2, 10)


@pytest.mark.parametrize(
    ("outcome", "extra", "effect"),
    [
        pytest.param(VisitOutcome.PAID, {}, CaseEffect.RECORD_PAYMENT, id="paid"),
        pytest.param(
            VisitOutcome.PROMISE, {"promised_on": date(2026, 2, 20)}, CaseEffect.PAUSE_UNTIL_PROMISE, id="promise"
        ),
        pytest.param(
            VisitOutcome.DISPUTE, {"disputed_amount": D("2000.00")}, CaseEffect.HOLD_DISPUTED_AMOUNT, id="dispute"
        ),
        pytest.param(VisitOutcome.REFUSAL, {}, CaseEffect.ESCALATE_NOW, id="refusal-escalates-at-once"),
    ],
)
def test_visit_outcomes(outcome: VisitOutcome, extra: dict[str, object], effect: CaseEffect) -> None:
    result = visit_effect(outcome, visited_on=VISITED, outstanding=D("5000.00"), **extra)  # type: ignore[arg-type]
    assert result.effect is effect
    assert result.reason


@pytest.mark.parametrize(
    ("outcome", "extra"),
    [
        pytest.param(VisitOutcome.PROMISE, {}, id="promise-without-date"),
        pytest.param(VisitOutcome.PROMISE, {"promised_on": date(2026, 2, 9)}, id="promise-in-the-past"),
        pytest.param(VisitOutcome.DISPUTE, {}, id="dispute-without-amount"),
        pytest.param(VisitOutcome.DISPUTE, {"disputed_amount": D("5000.01")}, id="dispute-above-outstanding"),
        pytest.param(VisitOutcome.DISPUTE, {"disputed_amount": D("0")}, id="dispute-of-nothing"),
    ],
)
def test_visit_outcome_refusals(outcome: VisitOutcome, extra: dict[str, object]) -> None:
    with pytest.raises(DomainRuleViolation):
        visit_effect(outcome, visited_on=VISITED, outstanding=D("5000.00"), **extra)  # type: ignore[arg-type]


def test_case_operations_on_closed_cases_conflict() -> None:
    with pytest.raises(Conflict):
        validate_promise(CaseStatus.RESOLVED, date(2026, 3, 1), date(2026, 2, 1))
    with pytest.raises(Conflict):
        validate_dispute(CaseStatus.WRITTEN_OFF, D("1"), D("10"))
    with pytest.raises(Conflict):
        validate_manual_action(CaseStatus.RESOLVED, "write off", "uncollectable", "ops@example.com")


def test_manual_actions_need_reason_and_actor() -> None:
    with pytest.raises(DomainRuleViolation) as raised:
        validate_manual_action(CaseStatus.OPEN, "hold", " ", "")
    assert {e["field"] for e in raised.value.errors} == {"reason", "actor"}
    validate_manual_action(CaseStatus.OPEN, "hold", "customer in talks", "ops@example.com")


@pytest.mark.parametrize(
    ("promised_on", "refused_fields"),
    [(date(2026, 2, 1), []), (date(2026, 2, 2), []), (date(2026, 1, 31), ["promised_on"])],
    ids=["today", "tomorrow", "yesterday"],
)
def test_a_promise_may_be_dated_today_but_not_in_the_past(promised_on: date, refused_fields: list[str]) -> None:
    as_of = date(2026, 2, 1)
    try:
        validate_promise(CaseStatus.OPEN, promised_on, as_of)
    except DomainRuleViolation as exc:
        assert [error["field"] for error in exc.errors] == refused_fields
    else:
        assert refused_fields == []


FILED = date(2026, 6, 1)
SHIAC = DisputeResolution.arbitration("Shanghai International Arbitration Center")


def test_arbitration_filing_names_the_commission_of_the_contract() -> None:
    filing = arbitration_filing(SHIAC, D("60000.00"), D("1500.00"), D("205.00"), FILED, POLICY)
    assert (filing.stage, filing.forum, filing.filing_cost) == (
        Stage.ARBITRATION,
        "Shanghai International Arbitration Center",
        D("3000.00"),
    )
    assert filing.claim_total == D("61705.00")


@pytest.mark.parametrize(
    "clause",
    [
        pytest.param(DisputeResolution.court(), id="court-clause"),
        pytest.param(DisputeResolution(ClauseKind.ARBITRATION, None), id="no-commission"),
        pytest.param(DisputeResolution(), id="unknown"),
    ],
)
def test_arbitration_filing_needs_a_valid_agreement(clause: DisputeResolution) -> None:
    with pytest.raises(DomainRuleViolation):
        arbitration_filing(clause, D("60000.00"), D("0"), D("0"), FILED, POLICY)


def test_litigation_filing() -> None:
    filing = litigation_filing(
        DisputeResolution.court(), date(2026, 1, 1), D("60000.00"), D("0"), D("0"), FILED, POLICY
    )
    assert (filing.stage, filing.filing_cost, filing.claim_total) == (Stage.LITIGATION, D("5000.00"), D("60000.00"))


@pytest.mark.parametrize(
    ("clause", "due", "message"),
    [
        pytest.param(SHIAC, date(2026, 1, 1), "arbitration", id="arbitration-excludes-court"),
        pytest.param(DisputeResolution.court(), date(2023, 5, 31), "limitation", id="past-limitation"),
    ],
)
def test_litigation_filing_refusals(clause: DisputeResolution, due: date, message: str) -> None:
    with pytest.raises(DomainRuleViolation) as raised:
        litigation_filing(clause, due, D("60000.00"), D("0"), D("0"), FILED, POLICY)
    assert message in raised.value.detail


def test_filing_needs_something_to_claim() -> None:
    with pytest.raises(DomainRuleViolation):
        litigation_filing(DisputeResolution.court(), date(2026, 1, 1), D("0"), D("0"), D("0"), FILED, POLICY)
