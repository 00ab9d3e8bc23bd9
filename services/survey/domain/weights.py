"""Importance weights: 100 points spread over the five dimensions."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from services.survey.domain.instrument import Dimension
from shared.errors import DomainRuleViolation

WEIGHT_TOTAL = Decimal(100)

# The product's defaults: the average allocation of 100 points customers made in the SERVQUAL
# studies (Zeithaml, Parasuraman and Berry, Delivering Quality Service, 1990).
DEFAULT_WEIGHTS: dict[Dimension, Decimal] = {
    Dimension.TANGIBLES: Decimal(11),
    Dimension.RELIABILITY: Decimal(32),
    Dimension.RESPONSIVENESS: Decimal(22),
    Dimension.ASSURANCE: Decimal(19),
    Dimension.EMPATHY: Decimal(16),
}


def dimension_key_errors(mapping: Mapping[Any, Any], field: str) -> list[dict[str, str]]:
    """Errors for keys of ``mapping`` that are not dimensions and for dimensions it lacks."""
    known = {dimension.value for dimension in Dimension}
    errors = [
        {"field": f"{field}.{key}", "message": f"unknown dimension {key!r}; expected one of {', '.join(sorted(known))}"}
        for key in mapping
        if key not in known
    ]
    errors += [
        {"field": f"{field}.{dimension.value}", "message": f"missing dimension {dimension.value!r}"}
        for dimension in Dimension
        if dimension.value not in mapping
    ]
    return errors


def validate_weights(mapping: object, field: str = "weights") -> dict[Dimension, Decimal]:
    """Check importance points: exactly the five dimensions, each an int/Decimal ≥ 0, summing to 100.

    Returns the weights keyed by ``Dimension`` in questionnaire order, as Decimals. Every problem
    found is reported at once in a ``DomainRuleViolation`` (422) whose ``errors`` name the field,
    e.g. ``weights.speed`` for an unknown dimension. Floats and bools are refused: points are exact.
    """
    if not isinstance(mapping, Mapping):
        raise DomainRuleViolation(
            "weights must map each dimension to its points",
            errors=[{"field": field, "message": "expected an object mapping dimension to points"}],
        )
    errors = dimension_key_errors(mapping, field)
    weights: dict[Dimension, Decimal] = {}
    for dimension in Dimension:
        if dimension.value not in mapping:
            continue
        points = mapping[dimension.value]
        location = f"{field}.{dimension.value}"
        if isinstance(points, bool) or not isinstance(points, int | Decimal):
            errors.append({"field": location, "message": f"expected an integer or decimal, got {points!r}"})
        elif isinstance(points, Decimal) and not points.is_finite():
            errors.append({"field": location, "message": f"expected a finite number, got {points}"})
        elif points < 0:
            errors.append({"field": location, "message": f"points must be 0 or more, got {points}"})
        else:
            weights[dimension] = Decimal(points)
    if not errors:
        total = sum(weights.values(), Decimal(0))
        if total != WEIGHT_TOTAL:
            errors.append({"field": field, "message": f"points must sum to exactly 100, got {total}"})
    if errors:
        raise DomainRuleViolation("invalid importance weights", errors=errors)
    return weights
