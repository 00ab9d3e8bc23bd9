"""Cronbach's alpha against matrices worked by hand."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import pytest

from services.survey.domain.answers import Answers
from services.survey.domain.instrument import Dimension
from services.survey.domain.reliability import cronbach_alpha, cronbach_alpha_exact, dimension_alphas

# 4 respondents × 3 items.
#            item1 item2 item3 | total
#   R1:        5     6     5   |  16
#   R2:        3     4     4   |  11
#   R3:        6     6     7   |  19
#   R4:        4     5     4   |  13
# item1: mean 4.5,  squared deviations 0.25 + 2.25 + 2.25 + 0.25 = 5      → variance 5/3
# item2: mean 5.25, squared deviations 0.5625 + 1.5625 + 0.5625 + 0.0625 = 2.75 → 2.75/3 = 11/12
# item3: mean 5,    squared deviations 0 + 1 + 4 + 1 = 6                   → variance 2
# Σ item variances = 20/12 + 11/12 + 24/12 = 55/12
# totals: mean 14.75, squared deviations 1.5625 + 14.0625 + 18.0625 + 3.0625 = 36.75 → 12.25 = 49/4
# α = 3/2 × (1 − (55/12)/(49/4)) = 3/2 × (1 − 55/147) = 3/2 × 92/147 = 46/49 = 0.938775… → 0.9388
HAND_MATRIX = [[5, 6, 5], [3, 4, 4], [6, 6, 7], [4, 5, 4]]

# Two items that move in opposite directions: item variances 1/2 + 1/2 = 1 (rows (1,2), (2,1):
# each column 1,2 → variance 0.5); totals 3, 3 → variance 0 → undefined.
OPPOSED = [[1, 2], [2, 1]]

# Items that disagree: rows (1,3), (2,1), (3,2). Column variances 1 and 1 → Σ 2;
# totals 4, 3, 5 → mean 4, squared deviations 0 + 1 + 1 = 2 → variance 1;
# α = 2/1 × (1 − 2/1) = −2 (returned as is, not clipped).
DISAGREEING = [[1, 3], [2, 1], [3, 2]]


@pytest.mark.parametrize(
    ("matrix", "expected"),
    [
        (HAND_MATRIX, Decimal("0.9388")),
        (DISAGREEING, Decimal("-2.0000")),
        # Perfectly parallel items: every column 1,2,3 (var 1), totals 3,6,9 (var 9): 3/2 × (1 − 3/9) = 1
        ([[1, 1, 1], [2, 2, 2], [3, 3, 3]], Decimal("1.0000")),
        # Gaps may be negative: rows (−1,−2), (0,0), (1,1). Columns: var 1 and var 7/3 (mean −1/3,
        # squared deviations 25/9 + 1/9 + 16/9 = 42/9, / 2); totals −3, 0, 2: mean −1/3,
        # squared deviations 64/9 + 1/9 + 49/9 = 114/9 → var 57/9 = 19/3;
        # α = 2 × (1 − (10/3)/(19/3)) = 2 × 9/19 = 18/19 = 0.947368… → 0.9474
        ([[-1, -2], [0, 0], [1, 1]], Decimal("0.9474")),
    ],
    ids=["hand-4x3", "negative-alpha", "parallel-items", "negative-gaps"],
)
def test_cronbach_alpha(matrix: list[list[int]], expected: Decimal) -> None:
    assert cronbach_alpha(matrix) == expected


def test_the_hand_matrix_is_exactly_46_over_49() -> None:
    assert cronbach_alpha_exact(HAND_MATRIX) == Fraction(46, 49)


@pytest.mark.parametrize(
    "matrix",
    [[], [[5, 6, 5]], [[4, 4], [4, 4], [4, 4]], OPPOSED, [[1], [2], [3]]],
    ids=["no-respondents", "one-respondent", "all-equal", "zero-total-variance", "single-item"],
)
def test_alpha_is_none_when_undefined(matrix: list[list[int]]) -> None:
    assert cronbach_alpha(matrix) is None


def test_a_ragged_matrix_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="same number of items"):
        cronbach_alpha([[1, 2, 3], [1, 2]])


def test_dimension_alphas_for_expectations_perceptions_and_gaps() -> None:
    # Three respondents; only tangibles (items 1–4) vary, every other answer is 4.
    #   E tangibles: R1 7,7,7,7  R2 6,6,6,6  R3 5,5,5,5 → parallel items → α = 1
    #   P tangibles: R1 6,6,6,6  R2 7,6,6,6  R3 5,5,5,5
    #     item1 6,7,5: var 1; items 2–4 6,6,5: mean 17/3, squared deviations 1/9+1/9+4/9 = 2/3 → var 1/3
    #     Σ = 1 + 3 × 1/3 = 2; totals 24, 25, 20: mean 23, squared deviations 1+4+9 = 14 → var 7
    #     α = 4/3 × (1 − 2/7) = 20/21 = 0.952380… → 0.9524
    #   gaps tangibles: R1 −1,−1,−1,−1  R2 1,0,0,0  R3 0,0,0,0
    #     item1 −1,1,0: var 1; items 2–4 −1,0,0: var 1/3; Σ = 2; totals −4, 1, 0: mean −1,
    #     squared deviations 9+4+1 = 14 → var 7; α = 20/21 → 0.9524
    #   Other dimensions: everyone answered 4 → zero total variance → None.
    rest = (4,) * 18
    responses = [
        Answers(expectations=(7, 7, 7, 7, *rest), perceptions=(6, 6, 6, 6, *rest)),
        Answers(expectations=(6, 6, 6, 6, *rest), perceptions=(7, 6, 6, 6, *rest)),
        Answers(expectations=(5, 5, 5, 5, *rest), perceptions=(5, 5, 5, 5, *rest)),
    ]
    alphas = dimension_alphas(responses)
    assert set(alphas) == set(Dimension)
    tangibles = alphas[Dimension.TANGIBLES]
    assert (tangibles.expectation, tangibles.perception, tangibles.gap) == (
        Decimal("1.0000"),
        Decimal("0.9524"),
        Decimal("0.9524"),
    )
    for dimension in (Dimension.RELIABILITY, Dimension.RESPONSIVENESS, Dimension.ASSURANCE, Dimension.EMPATHY):
        assert (alphas[dimension].expectation, alphas[dimension].perception, alphas[dimension].gap) == (
            None,
            None,
            None,
        )


def test_dimension_alphas_of_a_single_respondent_are_undefined() -> None:
    alphas = dimension_alphas([Answers(expectations=tuple(range(1, 8)) * 3 + (1,), perceptions=(4,) * 22)])
    assert all(a.expectation is None and a.perception is None and a.gap is None for a in alphas.values())
