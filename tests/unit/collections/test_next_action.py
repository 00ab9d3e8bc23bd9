"""The work queue's next action: the next stage ahead of a case and the day it becomes due, per segment and route."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from services.collections.domain.escalation import CaseFacts, Waiting, decide, next_action
from services.collections.domain.policy import default_policy
from services.collections.domain.stages import CaseStatus, DisputeResolution, Segment
from shared.stage import Stage

DUE = date(2026, 1, 1)
POLICY = default_policy()
COURT = DisputeResolution.court()
ARBITRATION = DisputeResolution.arbitration("CIETAC")


def facts(amount: str = "60000.00", **changes: Any) -> CaseFacts:
    return replace(CaseFacts(due_date=DUE, outstanding=Decimal(amount), dispute_resolution=COURT), **changes)


@pytest.mark.parametrize(
    ("case", "stage", "due_on", "waiting_for"),
    [
        pytest.param(facts(), Stage.LETTER, date(2026, 1, 2), None, id="new-case-letter-next-day"),
        pytest.param(
            facts(current_stage=Stage.LETTER), Stage.VISIT, date(2026, 1, 31), None, id="letter-then-visit-30"
        ),
        pytest.param(facts(current_stage=Stage.VISIT), Stage.AGENCY, date(2026, 3, 2), None, id="visit-then-agency-60"),
        pytest.param(
            facts(current_stage=Stage.AGENCY), Stage.LITIGATION, date(2026, 4, 1), None, id="court-route-litigation"
        ),
        pytest.param(
            facts(current_stage=Stage.AGENCY, dispute_resolution=ARBITRATION),
            Stage.ARBITRATION,
            date(2026, 4, 1),
            None,
            id="arbitration-route",
        ),
        pytest.param(
            facts(current_stage=Stage.LETTER, segment=Segment.HIGH_RISK),
            Stage.VISIT,
            date(2026, 1, 16),
            None,
            id="high-risk-halves-days",
        ),
        pytest.param(facts(segment=Segment.KEY_ACCOUNT), Stage.VISIT, date(2026, 1, 2), None, id="key-account-visit"),
        pytest.param(
            facts("5000.00", current_stage=Stage.VISIT),
            Stage.AGENCY,
            date(2026, 3, 2),
            Waiting.AMOUNT,
            id="below-agency-minimum",
        ),
        pytest.param(
            facts(current_stage=Stage.LETTER, promise_to_pay=date(2026, 2, 10)),
            Stage.VISIT,
            date(2026, 2, 11),
            Waiting.PROMISE,
            id="promise-moves-it-past-the-promised-day",
        ),
        pytest.param(
            facts(current_stage=Stage.LETTER, status=CaseStatus.ON_HOLD),
            Stage.VISIT,
            date(2026, 1, 31),
            Waiting.HOLD,
            id="on-hold",
        ),
        pytest.param(
            facts(current_stage=Stage.LETTER, disputed_amount=Decimal("60000.00")),
            Stage.VISIT,
            date(2026, 1, 31),
            Waiting.DISPUTE,
            id="all-disputed",
        ),
    ],
)
def test_next_action(case: CaseFacts, stage: Stage, due_on: date, waiting_for: Waiting | None) -> None:
    action = next_action(case, POLICY)
    assert action is not None
    assert (action.stage, action.due_on, action.waiting_for) == (stage, due_on, waiting_for)


@pytest.mark.parametrize(
    "case",
    [
        pytest.param(facts(current_stage=Stage.LITIGATION), id="final-stage"),
        pytest.param(facts(status=CaseStatus.RESOLVED), id="resolved"),
        pytest.param(facts("0.00", current_stage=Stage.LETTER), id="paid"),
    ],
)
def test_no_next_action(case: CaseFacts) -> None:
    assert next_action(case, POLICY) is None


@pytest.mark.parametrize("stage", [None, Stage.LETTER, Stage.VISIT, Stage.AGENCY])
@pytest.mark.parametrize("segment", list(Segment))
def test_the_decision_moves_the_case_on_the_day_next_action_names(stage: Stage | None, segment: Segment) -> None:
    """Same rule as the sweep's: the day before nothing moves, on the day the named stage is entered."""
    case = facts(current_stage=stage, segment=segment)
    action = next_action(case, POLICY)
    assert action is not None
    before = decide(case, POLICY, action.due_on.fromordinal(action.due_on.toordinal() - 1))
    on_the_day = decide(case, POLICY, action.due_on)
    assert not before.moved
    assert on_the_day.stages_passed[0] is action.stage
