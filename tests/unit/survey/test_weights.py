"""Importance weights: five known dimensions, each ≥ 0, summing to exactly 100."""

from __future__ import annotations

from decimal import Decimal

import pytest

from services.survey.domain.instrument import Dimension
from services.survey.domain.weights import DEFAULT_WEIGHTS, validate_weights
from shared.errors import DomainRuleViolation

DEFAULTS_AS_JSON = {"tangibles": 11, "reliability": 32, "responsiveness": 22, "assurance": 19, "empathy": 16}


def test_default_weights_are_the_product_defaults_and_sum_to_100() -> None:
    assert DEFAULT_WEIGHTS == {
        Dimension.RELIABILITY: Decimal(32),
        Dimension.RESPONSIVENESS: Decimal(22),
        Dimension.ASSURANCE: Decimal(19),
        Dimension.EMPATHY: Decimal(16),
        Dimension.TANGIBLES: Decimal(11),
    }
    assert sum(DEFAULT_WEIGHTS.values()) == 100
    assert validate_weights(DEFAULT_WEIGHTS) == DEFAULT_WEIGHTS


@pytest.mark.parametrize(
    ("mapping", "expected"),
    [
        (DEFAULTS_AS_JSON, DEFAULT_WEIGHTS),
        (
            {"tangibles": 0, "reliability": 100, "responsiveness": 0, "assurance": 0, "empathy": 0},
            {
                Dimension.TANGIBLES: 0,
                Dimension.RELIABILITY: 100,
                Dimension.RESPONSIVENESS: 0,
                Dimension.ASSURANCE: 0,
                Dimension.EMPATHY: 0,
            },
        ),
        (
            {
                "tangibles": Decimal("10.5"),
                "reliability": Decimal("32.5"),
                "responsiveness": 22,
                "assurance": 19,
                "empathy": 16,
            },
            {
                Dimension.TANGIBLES: Decimal("10.5"),
                Dimension.RELIABILITY: Decimal("32.5"),
                Dimension.RESPONSIVENESS: 22,
                Dimension.ASSURANCE: 19,
                Dimension.EMPATHY: 16,
            },
        ),
        (
            {"empathy": 20, "assurance": 20, "responsiveness": 20, "reliability": 20, "tangibles": 20},
            dict.fromkeys(Dimension, Decimal(20)),
        ),
    ],
    ids=["defaults-from-json", "all-on-one-zeros-allowed", "decimal-points", "any-key-order"],
)
def test_valid_weights_are_returned_as_decimals_by_dimension(
    mapping: dict[str, object], expected: dict[Dimension, Decimal]
) -> None:
    weights = validate_weights(mapping)
    assert weights == expected
    assert list(weights) == list(Dimension)
    assert all(isinstance(points, Decimal) for points in weights.values())


@pytest.mark.parametrize(
    ("mapping", "errors"),
    [
        ({**DEFAULTS_AS_JSON, "tangibles": 10}, [("weights", "sum to exactly 100, got 99")]),
        ({**DEFAULTS_AS_JSON, "tangibles": 12}, [("weights", "sum to exactly 100, got 101")]),
        ({**DEFAULTS_AS_JSON, "speed": 0}, [("weights.speed", "unknown dimension 'speed'")]),
        (
            {key: value for key, value in DEFAULTS_AS_JSON.items() if key != "empathy"} | {"tangibles": 27},
            [("weights.empathy", "missing dimension 'empathy'")],
        ),
        ({**DEFAULTS_AS_JSON, "tangibles": -1, "reliability": 44}, [("weights.tangibles", "0 or more, got -1")]),
        ({**DEFAULTS_AS_JSON, "tangibles": 11.0}, [("weights.tangibles", "integer or decimal, got 11.0")]),
        ({**DEFAULTS_AS_JSON, "tangibles": True}, [("weights.tangibles", "integer or decimal, got True")]),
        ({**DEFAULTS_AS_JSON, "tangibles": "11"}, [("weights.tangibles", "integer or decimal, got '11'")]),
        ({**DEFAULTS_AS_JSON, "tangibles": Decimal("NaN")}, [("weights.tangibles", "finite")]),
        ({}, [(f"weights.{d.value}", "missing") for d in Dimension]),
        ([11, 32, 22, 19, 16], [("weights", "expected an object")]),
        (
            {**DEFAULTS_AS_JSON, "Speed": 1, "reliability": -1},
            [("weights.Speed", "unknown dimension"), ("weights.reliability", "0 or more")],
        ),
    ],
    ids=[
        "sum-99",
        "sum-101",
        "unknown-dimension",
        "missing-one",
        "negative",
        "float",
        "bool",
        "string",
        "nan",
        "empty",
        "not-a-mapping",
        "several-problems-at-once",
    ],
)
def test_invalid_weights_are_refused_naming_the_field(mapping: object, errors: list[tuple[str, str]]) -> None:
    with pytest.raises(DomainRuleViolation) as raised:
        validate_weights(mapping)
    assert raised.value.status == 422
    assert [error["field"] for error in raised.value.errors] == [field for field, _ in errors]
    for error, (_, message_part) in zip(raised.value.errors, errors, strict=True):
        assert message_part in error["message"]


def test_the_field_prefix_can_name_the_respondents_points() -> None:
    with pytest.raises(DomainRuleViolation) as raised:
        validate_weights({**DEFAULTS_AS_JSON, "tangibles": 10}, field="importance_points")
    assert raised.value.errors[0]["field"] == "importance_points"
