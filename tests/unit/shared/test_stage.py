"""One stage vocabulary: the escalation order every service ranks by, and the typed StageEntered.stage."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest

from shared.events.collections import StageEntered
from shared.stage import Stage, highest_stage, stage_rank


@pytest.mark.parametrize(
    ("stage", "rank"),
    [(None, -1), (Stage.LETTER, 0), (Stage.VISIT, 1), (Stage.AGENCY, 2), (Stage.ARBITRATION, 3), (Stage.LITIGATION, 3)],
)
def test_stages_rank_in_escalation_order_with_the_two_finals_equal(stage: Stage | None, rank: int) -> None:
    assert stage_rank(stage) == rank
    if stage is not None:
        assert stage.rank == rank


@pytest.mark.parametrize(
    ("stages", "highest"),
    [
        ([], None),
        (["letter"], Stage.LETTER),
        (["visit", "letter", "agency"], Stage.AGENCY),
        (["agency", "mediation"], Stage.AGENCY),  # a name that is no stage is ignored
        (["mediation"], None),
        (["litigation", "arbitration"], Stage.LITIGATION),
        (["arbitration", "litigation"], Stage.LITIGATION),
    ],
)
def test_highest_stage_is_the_most_escalated(stages: list[str], highest: Stage | None) -> None:
    assert highest_stage(stages) == highest


def stage_entered(stage: str) -> StageEntered:
    return StageEntered.model_validate(
        {
            "customer_id": str(uuid.uuid4()),
            "case_id": str(uuid.uuid4()),
            "invoice_id": str(uuid.uuid4()),
            "stage": stage,
            "previous_stage": "letter",
            "rule": "general.visit",
            "reason": "30 days overdue",
            "policy_version": 1,
            "days_overdue": 30,
            "currency": "CNY",
            "amount": "100.00",
            "entered_at": datetime(2026, 3, 1, tzinfo=UTC).isoformat(),
        }
    )


def test_stage_entered_carries_a_stage_and_keeps_the_wire_format() -> None:
    event = stage_entered("visit")
    assert event.stage is Stage.VISIT
    assert event.previous_stage is Stage.LETTER
    assert event.model_dump(mode="json")["stage"] == "visit"
    assert event.model_dump(mode="json")["previous_stage"] == "letter"


def test_a_stage_a_newer_collections_adds_arrives_as_its_string() -> None:
    event = stage_entered("mediation")
    assert event.stage == "mediation"
    assert not isinstance(event.stage, Stage)
