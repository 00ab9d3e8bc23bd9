"""The segment rule: high risk (grade D, registry, independent hold) wins over key account; a hold that a
collection stage caused never re-classifies the debtor."""

from __future__ import annotations

import pytest

from services.collections.domain.segments import (
    COLLECTION_HOLD_REASONS,
    SegmentFacts,
    hold_is_independent,
    segment_for,
)
from services.collections.domain.stages import Segment
from services.credit.domain.holds import HoldReason

GENERAL, KEY, HIGH = Segment.GENERAL, Segment.KEY_ACCOUNT, Segment.HIGH_RISK


@pytest.mark.parametrize(
    ("facts", "segment"),
    [
        (SegmentFacts(), GENERAL),
        (SegmentFacts(directory_segment="general", credit_grade="A"), GENERAL),
        (SegmentFacts(directory_segment="key_account", credit_grade="B"), KEY),
        (SegmentFacts(directory_segment="high_risk", credit_grade="A"), HIGH),
        (SegmentFacts(credit_grade="D"), HIGH),
        (SegmentFacts(credit_grade="d"), HIGH),  # however the grade was spelt
        (SegmentFacts(directory_segment="key_account", credit_grade="D"), HIGH),  # high risk wins
        (SegmentFacts(directory_segment="key_account", independent_hold=True), HIGH),
        (SegmentFacts(independent_hold=True), HIGH),
        (SegmentFacts(directory_segment="KEY_ACCOUNT"), KEY),
        (SegmentFacts(directory_segment="something-new"), GENERAL),
    ],
)
def test_segment_for(facts: SegmentFacts, segment: Segment) -> None:
    assert segment_for(facts) is segment


@pytest.mark.parametrize(
    ("on_hold", "reasons", "independent"),
    [
        (False, [], False),
        (False, ["grade_d"], False),  # released
        (True, ["collection_stage_reached"], False),  # the agency stage stopped supply
        (True, ["overdue_outstanding"], False),
        (True, ["collection_stage_reached", "overdue_outstanding"], False),
        (True, [], False),  # reasons unknown: never shorten a ladder on a guess
        (True, ["grade_d"], True),
        (True, ["collection_stage_reached", "grade_d"], True),
        (True, ["manual"], True),
    ],
)
def test_only_a_hold_independent_of_collections_counts(on_hold: bool, reasons: list[str], independent: bool) -> None:
    assert hold_is_independent(on_hold, reasons) is independent


@pytest.mark.parametrize("directory", [None, "general", "key_account"])
def test_a_collection_caused_hold_keeps_the_segment(directory: str | None) -> None:
    before = segment_for(SegmentFacts(directory_segment=directory, credit_grade="B"))
    held = hold_is_independent(True, ["collection_stage_reached"])
    assert segment_for(SegmentFacts(directory_segment=directory, credit_grade="B", independent_hold=held)) is before


def test_collection_hold_reasons_are_credits_words() -> None:
    caused_by_collections = (
        HoldReason.COLLECTION_STAGE_REACHED,
        HoldReason.OVERDUE_OUTSTANDING,
        HoldReason.MALICIOUS_ARREARS,
    )
    assert {str(reason) for reason in caused_by_collections} == COLLECTION_HOLD_REASONS
