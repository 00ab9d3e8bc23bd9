"""A respondent's 22 expectations and 22 perceptions: validation and 1988 reverse scoring."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, cast

from services.survey.domain.instrument import (
    ITEM_COUNT,
    REVERSE_SCORED_ITEMS,
    SCALE_MAX,
    SCALE_MIN,
    InstrumentVersion,
    dimension_of,
    parse_version,
)
from shared.errors import DomainRuleViolation


@dataclass(frozen=True)
class Answers:
    """Validated answers: ``expectations[i]`` and ``perceptions[i]`` belong to item i + 1, each 1–7."""

    expectations: tuple[int, ...]
    perceptions: tuple[int, ...]


def _side_errors(field: str, values: object) -> list[dict[str, Any]]:
    if isinstance(values, str | bytes) or not isinstance(values, Sequence):
        return [{"field": field, "message": f"expected a list of {ITEM_COUNT} integers"}]
    if len(values) != ITEM_COUNT:
        return [{"field": field, "message": f"expected exactly {ITEM_COUNT} answers, got {len(values)}"}]
    errors: list[dict[str, Any]] = []
    for index, value in enumerate(values):
        number = index + 1
        # bool is an int subclass and a float is not a scale point: both are refused.
        if isinstance(value, bool) or not isinstance(value, int) or not SCALE_MIN <= value <= SCALE_MAX:
            errors.append(
                {
                    "field": f"{field}[{index}]",
                    "message": (
                        f"item {number} ({dimension_of(number).value}): expected an integer "
                        f"{SCALE_MIN}–{SCALE_MAX}, got {value!r}"
                    ),
                }
            )
    return errors


def validate_answers(expectations: object, perceptions: object) -> Answers:
    """Check both lists hold exactly 22 integers in 1–7; otherwise one DomainRuleViolation (422).

    Errors locate the problem by JSON position (``perceptions[3]``) and name the item number
    (item 4) and its dimension in the message; every problem in both lists is reported at once.
    """
    errors = _side_errors("expectations", expectations) + _side_errors("perceptions", perceptions)
    if errors:
        raise DomainRuleViolation("invalid SERVQUAL answers", errors=errors)
    return Answers(
        expectations=tuple(cast(Sequence[int], expectations)), perceptions=tuple(cast(Sequence[int], perceptions))
    )


def normalise_answers(version: InstrumentVersion | str, answers: Answers) -> Answers:
    """Answers in the positively worded (1991) orientation: reverse-score (8 − x) the version's negative items.

    For ``servqual-1988`` items 10–13 and 18–22 are reversed in both expectations and perceptions;
    ``servqual-1991`` answers come back unchanged. An unknown version is a rule violation (422).
    """
    reversed_items = REVERSE_SCORED_ITEMS[parse_version(version)]
    reflection = SCALE_MIN + SCALE_MAX

    def orient(values: tuple[int, ...]) -> tuple[int, ...]:
        return tuple(
            reflection - value if number in reversed_items else value for number, value in enumerate(values, start=1)
        )

    return Answers(expectations=orient(answers.expectations), perceptions=orient(answers.perceptions))
