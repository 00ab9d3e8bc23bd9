"""A run's ``HoldDecisions`` (each distinct set of facts evaluated once, looked up after) decides every event as
``decide_hold`` without one does (the rule evaluated afresh): the same profile after each event, the same events
emitted. Every combination of facts, in a shuffled order, one shared memo against a fresh rule per event."""

from __future__ import annotations

import dataclasses
import itertools
import random
import uuid
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from services.credit.domain.grades import Grade
from services.credit.domain.holds import HoldAction, HoldFacts, evaluate_hold
from services.credit.domain.policy import DEFAULT_GRADE_POLICIES, CreditPolicy
from services.credit.models import ProfileRow
from services.credit.service.holds import HoldDecisions, decide_hold
from shared.grade import HoldReason
from shared.stage import Stage

NOW = datetime(2026, 6, 30, 9, tzinfo=UTC)
GRADES = (None, "A", "B", "C", "D")
STAGES = (None, *Stage)
OVERDUE = (None, Decimal("0"), Decimal("0.00"), Decimal("12.50"))
REASONS = (HoldReason.COLLECTION_STAGE_REACHED, HoldReason.MALICIOUS_ARREARS)
HOLD_REASONS = ([], ["collection_stage_reached"], ["overdue_outstanding"], ["malicious_arrears", "grade_d"])
POLICIES = {
    "default": CreditPolicy(),
    "grade A stops at visit, no cancellation": CreditPolicy(
        grades={
            **DEFAULT_GRADE_POLICIES,
            Grade.A: dataclasses.replace(DEFAULT_GRADE_POLICIES[Grade.A], stop_supply_stage=Stage.VISIT),
        },
        ungraded_stop_supply_stage=Stage.LETTER,
        cancel_limit_stage=None,
    ),
}


def profile(on_hold: bool, grade: str | None, keep_supplying: bool, hold_reasons: list[str]) -> ProfileRow:
    return ProfileRow(
        {
            "customer_id": uuid.UUID(int=7),
            "grade": grade,
            "on_hold": on_hold,
            "keep_supplying": keep_supplying,
            "hold_reasons": list(hold_reasons),
            "hold_changed_at": None,
            "updated_at": None,
        }
    )


def outcome(row: ProfileRow, result: tuple[Any, Any]) -> tuple[Any, ...]:
    decision, event = result
    return decision, None if event is None else (type(event), event.model_dump()), row.values()


@pytest.mark.parametrize("policy_name", list(POLICIES))
def test_a_shared_memo_decides_every_set_of_facts_as_the_rule_evaluated_afresh(policy_name: str) -> None:
    policy = POLICIES[policy_name]
    combinations = list(
        itertools.product((False, True), GRADES, (False, True), HOLD_REASONS, STAGES, OVERDUE, (False, True), REASONS)
    )
    order = combinations * 2  # every set of facts is met once unknown, then again known
    random.Random(11).shuffle(order)
    decisions = HoldDecisions(policy)
    for on_hold, grade, keep, hold_reasons, stage, overdue, stop, reason in order:
        memo_row, fresh_row = (profile(on_hold, grade, keep, hold_reasons) for _ in range(2))
        kwargs: dict[str, Any] = {
            "stage": stage,
            "overdue": overdue,
            "stop_supply_requested": stop,
            "requested_reason": reason,
        }
        memoised = decide_hold(memo_row, policy, NOW, decisions=decisions, **kwargs)
        fresh = decide_hold(fresh_row, policy, NOW, **kwargs)
        assert outcome(memo_row, memoised) == outcome(fresh_row, fresh)


def test_without_a_request_to_stop_supply_the_decision_is_evaluate_holds() -> None:
    decisions = HoldDecisions(CreditPolicy())
    for on_hold, grade, stage, overdue, keep in itertools.product(
        (False, True), GRADES, STAGES, OVERDUE, (False, True)
    ):
        facts = HoldFacts(on_hold, None if grade is None else Grade(grade), stage, overdue, keep)
        expected = evaluate_hold(facts, CreditPolicy())
        for _ in range(2):
            decision, reasons = decisions.decide(
                (on_hold, grade, stage, overdue, keep, False, HoldReason.COLLECTION_STAGE_REACHED)
            )
            assert decision == expected
            assert reasons == tuple(str(reason) for reason in expected.reasons)
    assert {decision.action for decision, _ in decisions._known.values()} == set(HoldAction)
