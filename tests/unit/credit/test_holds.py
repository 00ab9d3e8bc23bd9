"""Credit hold rules: place on stop-supply stage or grade D, release when overdue debt is settled."""

from __future__ import annotations

from decimal import Decimal

import pytest

from services.credit.domain.grades import Grade
from services.credit.domain.holds import (
    HoldAction,
    HoldFacts,
    HoldReason,
    evaluate_hold,
    stage_requires_hold,
)
from services.credit.domain.policy import DEFAULT_GRADE_POLICIES, CreditPolicy, GradePolicy
from shared.errors import DomainRuleViolation
from shared.stage import Stage

D = Decimal
S = Stage
H = HoldReason

# Default policy: supply stops at "agency" for every grade and for ungraded customers.
DEFAULT = CreditPolicy()
# Grade C stops already at "visit"; grade A only at arbitration/litigation.
TIERED = CreditPolicy(
    grades={
        **DEFAULT_GRADE_POLICIES,
        Grade.A: GradePolicy(45, D("0.01"), DEFAULT_GRADE_POLICIES[Grade.A].sales_policy, 30, S.ARBITRATION),
        Grade.C: GradePolicy(75, D("0.05"), DEFAULT_GRADE_POLICIES[Grade.C].sales_policy, 7, S.VISIT),
    }
)


@pytest.mark.parametrize(
    ("stage", "grade", "policy", "required"),
    [
        (None, Grade.B, DEFAULT, False),
        (S.LETTER, Grade.B, DEFAULT, False),
        (S.VISIT, Grade.B, DEFAULT, False),
        (S.AGENCY, Grade.B, DEFAULT, True),  # at the stop-supply stage
        (S.ARBITRATION, Grade.B, DEFAULT, True),  # past it
        (S.LITIGATION, Grade.B, DEFAULT, True),  # past it (same rank as arbitration)
        (S.AGENCY, None, DEFAULT, True),  # ungraded customers use the policy's ungraded stage
        (S.VISIT, Grade.C, TIERED, True),
        (S.AGENCY, Grade.A, TIERED, False),
        (S.LITIGATION, Grade.A, TIERED, True),  # litigation ranks with arbitration
    ],
    ids=[
        "no-case",
        "letter",
        "visit",
        "agency",
        "arbitration",
        "litigation",
        "ungraded-agency",
        "tiered-C-visit",
        "tiered-A-agency",
        "tiered-A-litigation",
    ],
)
def test_stage_requires_hold(stage: Stage | None, grade: Grade | None, policy: CreditPolicy, required: bool) -> None:
    assert stage_requires_hold(stage, grade, policy) is required


@pytest.mark.parametrize(
    ("facts", "action", "on_hold", "reasons"),
    [
        # Not on hold yet.
        (HoldFacts(False, Grade.B, S.VISIT, D(5000)), HoldAction.NONE, False, []),
        (HoldFacts(False, Grade.B, S.AGENCY, D(5000)), HoldAction.PLACE, True, [H.COLLECTION_STAGE_REACHED]),
        # Only a stage event arrived; the overdue amount is unknown and treated as outstanding.
        (HoldFacts(False, Grade.B, S.AGENCY, None), HoldAction.PLACE, True, [H.COLLECTION_STAGE_REACHED]),
        # Debt already settled: a stale stage does not stop supply.
        (HoldFacts(False, Grade.B, S.AGENCY, D(0)), HoldAction.NONE, False, []),
        (HoldFacts(False, Grade.D, None, D(0)), HoldAction.PLACE, True, [H.GRADE_D]),
        (
            HoldFacts(False, Grade.D, S.LITIGATION, D(1)),
            HoldAction.PLACE,
            True,
            [H.COLLECTION_STAGE_REACHED, H.GRADE_D],
        ),
        # On hold.
        (HoldFacts(True, Grade.B, S.AGENCY, D("0.01")), HoldAction.KEEP, True, [H.COLLECTION_STAGE_REACHED]),
        (HoldFacts(True, Grade.B, S.AGENCY, D(0)), HoldAction.RELEASE, False, [H.DEBT_SETTLED]),
        (HoldFacts(True, Grade.B, None, D(0)), HoldAction.RELEASE, False, [H.DEBT_SETTLED]),
        (HoldFacts(True, Grade.D, S.AGENCY, D(0)), HoldAction.KEEP, True, [H.GRADE_D]),  # settled but grade D
        (HoldFacts(True, Grade.B, S.AGENCY, None), HoldAction.KEEP, True, [H.COLLECTION_STAGE_REACHED]),
        # Case moved back to a stage below stop-supply but debt still overdue: stays on hold until settled.
        (HoldFacts(True, Grade.B, S.LETTER, D(100)), HoldAction.KEEP, True, [H.OVERDUE_OUTSTANDING]),
        (HoldFacts(True, None, None, D(0)), HoldAction.RELEASE, False, [H.DEBT_SETTLED]),
    ],
    ids=[
        "below-stage",
        "stage-reached",
        "stage-unknown-amount",
        "stage-but-settled",
        "grade-D",
        "stage-and-D",
        "held-still-owing",
        "held-settled",
        "held-settled-case-closed",
        "held-settled-grade-D",
        "held-unknown-amount",
        "held-stage-dropped-still-owing",
        "held-ungraded-settled",
    ],
)
def test_evaluate_hold(facts: HoldFacts, action: HoldAction, on_hold: bool, reasons: list[HoldReason]) -> None:
    decision = evaluate_hold(facts, DEFAULT)
    assert (decision.action, decision.on_hold, list(decision.reasons)) == (action, on_hold, reasons)


def test_tiered_policy_places_hold_earlier_for_grade_c() -> None:
    decision = evaluate_hold(HoldFacts(False, Grade.C, S.VISIT, D(100)), TIERED)
    assert decision.action is HoldAction.PLACE


def test_negative_overdue_amount_is_rejected() -> None:
    with pytest.raises(DomainRuleViolation):
        HoldFacts(True, Grade.B, None, D(-1))


def test_a_customer_collections_keeps_supplying_gets_no_stage_hold() -> None:
    facts = HoldFacts(
        on_hold=False,
        grade=Grade.A,
        collection_stage=Stage.LITIGATION,
        overdue_amount=None,
        keep_supplying=True,
    )
    assert evaluate_hold(facts).action is HoldAction.NONE
    grade_d = HoldFacts(
        on_hold=False, grade=Grade.D, collection_stage=Stage.AGENCY, overdue_amount=None, keep_supplying=True
    )
    assert evaluate_hold(grade_d).reasons == (HoldReason.GRADE_D,)  # keeping supply never overrides grade D
