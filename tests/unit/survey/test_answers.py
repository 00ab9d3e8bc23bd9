"""Answer validation (exactly 22 + 22 integers 1–7) and 1988 reverse scoring."""

from __future__ import annotations

import pytest

from services.survey.domain.answers import Answers, normalise_answers, validate_answers
from services.survey.domain.instrument import InstrumentVersion
from shared.errors import DomainRuleViolation

VALID = [4] * 22


def test_valid_answers_become_tuples_in_item_order() -> None:
    expectations = list(range(1, 8)) * 3 + [7]
    answers = validate_answers(expectations, VALID)
    assert answers == Answers(expectations=tuple(expectations), perceptions=tuple(VALID))
    assert len(answers.expectations) == len(answers.perceptions) == 22


@pytest.mark.parametrize(
    ("expectations", "perceptions", "field", "message_part"),
    [
        ([4] * 21, VALID, "expectations", "got 21"),
        ([4] * 23, VALID, "expectations", "got 23"),
        (VALID, [4] * 21, "perceptions", "got 21"),
        (VALID, [4] * 23, "perceptions", "got 23"),
        (VALID, [], "perceptions", "got 0"),
        ("4444444444444444444444", VALID, "expectations", "list of 22"),
        (None, VALID, "expectations", "list of 22"),
    ],
    ids=[
        "21-expectations",
        "23-expectations",
        "21-perceptions",
        "23-perceptions",
        "no-perceptions",
        "string",
        "missing",
    ],
)
def test_wrong_number_of_answers_is_refused(
    expectations: object, perceptions: object, field: str, message_part: str
) -> None:
    with pytest.raises(DomainRuleViolation) as raised:
        validate_answers(expectations, perceptions)
    assert raised.value.status == 422
    assert [error["field"] for error in raised.value.errors] == [field]
    assert message_part in raised.value.errors[0]["message"]


def _with(index: int, value: object) -> list[object]:
    answers: list[object] = list(VALID)
    answers[index] = value
    return answers


@pytest.mark.parametrize(
    ("side", "index", "value", "item_text"),
    [
        ("expectations", 0, 0, "item 1 (tangibles)"),
        ("expectations", 21, 8, "item 22 (empathy)"),
        ("perceptions", 4, 0, "item 5 (reliability)"),
        ("perceptions", 12, 8, "item 13 (responsiveness)"),
        ("perceptions", 14, -1, "item 15 (assurance)"),
        ("perceptions", 3, True, "item 4 (tangibles)"),
        ("expectations", 6, 5.0, "item 7 (reliability)"),
        ("expectations", 9, "5", "item 10 (responsiveness)"),
        ("expectations", 17, None, "item 18 (empathy)"),
    ],
    ids=[
        "E1-zero",
        "E22-eight",
        "P5-zero",
        "P13-eight",
        "P15-negative",
        "P4-bool",
        "E7-float",
        "E10-string",
        "E18-null",
    ],
)
def test_an_answer_off_the_scale_is_refused_naming_the_item(
    side: str, index: int, value: object, item_text: str
) -> None:
    expectations = _with(index, value) if side == "expectations" else VALID
    perceptions = _with(index, value) if side == "perceptions" else VALID
    with pytest.raises(DomainRuleViolation) as raised:
        validate_answers(expectations, perceptions)
    [error] = raised.value.errors
    assert error["field"] == f"{side}[{index}]"
    assert item_text in error["message"]
    assert repr(value) in error["message"]


@pytest.mark.parametrize("value", [1, 7], ids=["one", "seven"])
def test_scale_ends_are_accepted(value: int) -> None:
    assert validate_answers([value] * 22, [value] * 22).perceptions == (value,) * 22


def test_every_problem_in_both_lists_is_reported_at_once() -> None:
    with pytest.raises(DomainRuleViolation) as raised:
        validate_answers(_with(2, 0), [4] * 21)
    assert [error["field"] for error in raised.value.errors] == ["expectations[2]", "perceptions"]


# 1988: items 10–13 and 18–22 were negatively worded; 8 − x turns them round.
# Answers 1..7 cycling over items 1–22 → item 10 (value 3) → 5, 11 (4) → 4, 12 (5) → 3,
# 13 (6) → 2, 18 (4) → 4, 19 (5) → 3, 20 (6) → 2, 21 (7) → 1, 22 (1) → 7; the rest unchanged.
CYCLE = tuple(list(range(1, 8)) * 3 + [1])
CYCLE_1988_NORMALISED = (1, 2, 3, 4, 5, 6, 7, 1, 2, 5, 4, 3, 2, 7, 1, 2, 3, 4, 3, 2, 1, 7)


@pytest.mark.parametrize(
    ("version", "expected"),
    [
        (InstrumentVersion.SERVQUAL_1991, CYCLE),
        ("servqual-1991", CYCLE),
        (InstrumentVersion.SERVQUAL_1988, CYCLE_1988_NORMALISED),
        ("servqual-1988", CYCLE_1988_NORMALISED),
    ],
    ids=["1991-unchanged", "1991-by-id", "1988-reversed", "1988-by-id"],
)
def test_normalise_answers_reverse_scores_the_1988_negative_items(
    version: InstrumentVersion | str, expected: tuple[int, ...]
) -> None:
    answers = Answers(expectations=CYCLE, perceptions=CYCLE)
    normalised = normalise_answers(version, answers)
    assert normalised.expectations == expected
    assert normalised.perceptions == expected


def test_reverse_scoring_maps_each_scale_point_to_its_mirror() -> None:
    # Item 10 answered 1..7 → 7..1; item 9 (positively worded in 1988 too) stays put.
    for value in range(1, 8):
        answers = Answers(expectations=(value,) * 22, perceptions=(value,) * 22)
        normalised = normalise_answers(InstrumentVersion.SERVQUAL_1988, answers)
        assert normalised.expectations[9] == 8 - value
        assert normalised.expectations[8] == value


def test_normalise_answers_refuses_an_unknown_version() -> None:
    with pytest.raises(DomainRuleViolation) as raised:
        normalise_answers("servqual-1985", Answers(expectations=CYCLE, perceptions=CYCLE))
    assert raised.value.errors[0]["field"] == "instrument_version"
