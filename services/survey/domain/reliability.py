"""Cronbach's alpha: how consistently a dimension's items measure the same thing."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

from services.survey.domain.answers import Answers
from services.survey.domain.instrument import DIMENSION_ITEMS, Dimension
from services.survey.domain.rounding import Exact, exact, mean, present


def _sample_variance(values: Sequence[Fraction]) -> Fraction:
    centre = mean(values)
    return sum(((value - centre) ** 2 for value in values), Fraction(0)) / (len(values) - 1)


def cronbach_alpha_exact(matrix: Sequence[Sequence[Exact]]) -> Fraction | None:
    """Exact alpha of a respondents × items matrix, or None when it is undefined (see ``cronbach_alpha``)."""
    if not matrix:
        return None
    item_count = len(matrix[0])
    if any(len(row) != item_count for row in matrix):
        raise ValueError("every respondent must answer the same number of items")
    if len(matrix) < 2 or item_count < 2:
        return None
    rows = [[exact(value) for value in row] for row in matrix]
    item_variances = sum((_sample_variance([row[column] for row in rows]) for column in range(item_count)), Fraction(0))
    total_variance = _sample_variance([sum(row, Fraction(0)) for row in rows])
    if total_variance == 0:
        return None
    return Fraction(item_count, item_count - 1) * (1 - item_variances / total_variance)


def cronbach_alpha(matrix: Sequence[Sequence[Exact]]) -> Decimal | None:
    """α = k/(k−1) × (1 − Σ item variances / variance of respondent totals), 4 dp ROUND_HALF_UP.

    Rows are respondents, columns items; variances are sample variances (divisor n − 1).
    Returns None when alpha is undefined: fewer than 2 respondents or 2 items (no variance to
    speak of) or every respondent has the same total (variance of totals 0, division by zero).
    Alpha may be negative when items disagree; it is returned as computed, not clipped.
    """
    alpha = cronbach_alpha_exact(matrix)
    return None if alpha is None else present(alpha)


@dataclass(frozen=True)
class DimensionAlpha:
    """Cronbach's alpha of one dimension's items for expectations, perceptions and gaps (None = undefined)."""

    expectation: Decimal | None
    perception: Decimal | None
    gap: Decimal | None


def dimension_alphas(responses: Sequence[Answers]) -> dict[Dimension, DimensionAlpha]:
    """Cronbach's alpha per dimension over normalised answers, for E, P and the item gaps P − E."""
    alphas: dict[Dimension, DimensionAlpha] = {}
    for dimension, numbers in DIMENSION_ITEMS.items():
        indexes = [number - 1 for number in numbers]
        expectations = [[answers.expectations[index] for index in indexes] for answers in responses]
        perceptions = [[answers.perceptions[index] for index in indexes] for answers in responses]
        gaps = [
            [answers.perceptions[index] - answers.expectations[index] for index in indexes] for answers in responses
        ]
        alphas[dimension] = DimensionAlpha(
            expectation=cronbach_alpha(expectations),
            perception=cronbach_alpha(perceptions),
            gap=cronbach_alpha(gaps),
        )
    return alphas
