"""SERVQUAL gap scores per respondent and over a group of respondents (campaign, customer, segment).

Definitions (product.md section 6):
- item gap = P − E;
- dimension gap = mean of the dimension's item gaps (likewise mean E and mean P);
- unweighted SERVQUAL = mean of the five dimension gaps;
- weighted SERVQUAL = Σ weight × dimension gap / 100, with the respondent's own importance
  points when given, else the campaign's weights.

A group score is the arithmetic mean over respondents: per item and per dimension mean E, mean P
and mean gap; unweighted = mean of the group's five dimension gaps (the same as the mean of the
respondents' unweighted scores); weighted = mean of the respondents' weighted scores, each
computed with that respondent's own weights, so respondents who allocated points are honoured
(it differs from Σ campaign weight × group dimension gap / 100 when some did).

Every value is computed exactly (fractions) and handed out rounded to 4 decimal places,
ROUND_HALF_UP; nothing is rounded before the end. Verdicts are taken on the presented values.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

from services.survey.domain.answers import Answers
from services.survey.domain.instrument import DIMENSION_ITEMS, ITEM_COUNT, Dimension, dimension_of
from services.survey.domain.reliability import DimensionAlpha, dimension_alphas
from services.survey.domain.rounding import Exact, exact, mean, present
from services.survey.domain.verdicts import DEFAULT_TOLERANCE, Verdict, validate_tolerance, verdict_for
from services.survey.domain.weights import WEIGHT_TOTAL, validate_weights


@dataclass(frozen=True)
class Response:
    """One respondent's normalised answers and the importance points they allocated, if any."""

    answers: Answers
    importance_points: Mapping[Dimension, Decimal] | None = None


@dataclass(frozen=True)
class ResponseScore:
    """One respondent's scores, each rounded to 4 dp; ``weights`` are the ones the weighted score used."""

    item_gaps: tuple[Decimal, ...]
    dimension_expectations: dict[Dimension, Decimal]
    dimension_perceptions: dict[Dimension, Decimal]
    dimension_gaps: dict[Dimension, Decimal]
    unweighted: Decimal
    weighted: Decimal
    weights: dict[Dimension, Decimal]
    own_weights: bool


@dataclass(frozen=True)
class ItemScore:
    """Group means for one item (4 dp)."""

    number: int
    dimension: Dimension
    mean_expectation: Decimal
    mean_perception: Decimal
    gap: Decimal


@dataclass(frozen=True)
class DimensionScore:
    """Group means for one dimension (4 dp), its verdict and Cronbach's alpha for E, P and gaps."""

    mean_expectation: Decimal
    mean_perception: Decimal
    gap: Decimal
    verdict: Verdict
    alpha: DimensionAlpha


@dataclass(frozen=True)
class AggregateScore:
    """Scores of a group of respondents; ``verdict`` is the overall one, taken on the weighted score."""

    respondents: int
    items: tuple[ItemScore, ...]
    dimensions: dict[Dimension, DimensionScore]
    unweighted: Decimal
    weighted: Decimal
    verdict: Verdict
    tolerance: Decimal

    @property
    def dimension_gaps(self) -> dict[Dimension, Decimal]:
        """The five dimension gaps (4 dp), for events and benchmarking."""
        return {dimension: score.gap for dimension, score in self.dimensions.items()}


def _by_dimension(values: Sequence[int]) -> dict[Dimension, Fraction]:
    return {dimension: mean(values[number - 1] for number in numbers) for dimension, numbers in DIMENSION_ITEMS.items()}


def _item_gaps(answers: Answers) -> list[int]:
    return [
        perception - expectation
        for expectation, perception in zip(answers.expectations, answers.perceptions, strict=True)
    ]


def _unweighted(dimension_gaps: Mapping[Dimension, Exact]) -> Fraction:
    return mean(dimension_gaps[dimension] for dimension in Dimension)


def _weighted(dimension_gaps: Mapping[Dimension, Exact], weights: Mapping[Dimension, Decimal]) -> Fraction:
    checked = validate_weights(dict(weights))
    total = sum((exact(checked[dimension]) * exact(dimension_gaps[dimension]) for dimension in Dimension), Fraction(0))
    return total / exact(WEIGHT_TOTAL)


def unweighted_servqual(dimension_gaps: Mapping[Dimension, Exact]) -> Decimal:
    """Mean of the five dimension gaps, 4 dp ROUND_HALF_UP."""
    return present(_unweighted(dimension_gaps))


def weighted_servqual(dimension_gaps: Mapping[Dimension, Exact], weights: Mapping[Dimension, Decimal]) -> Decimal:
    """Σ weight × dimension gap / 100, 4 dp ROUND_HALF_UP; the weights are validated (422 if not 100)."""
    return present(_weighted(dimension_gaps, weights))


def _weights_of(response: Response, campaign_weights: Mapping[Dimension, Decimal]) -> dict[Dimension, Decimal]:
    if response.importance_points is not None:
        return validate_weights(dict(response.importance_points), field="importance_points")
    return validate_weights(dict(campaign_weights))


def score_response(response: Response, campaign_weights: Mapping[Dimension, Decimal]) -> ResponseScore:
    """Score one respondent: item, dimension, unweighted and weighted gaps (4 dp ROUND_HALF_UP).

    With integer weights a single respondent's scores are exact at 4 dp (gaps are multiples of
    0.05), so nothing is actually rounded away.
    """
    answers = response.answers
    weights = _weights_of(response, campaign_weights)
    item_gaps = _item_gaps(answers)
    gaps = _by_dimension(item_gaps)
    return ResponseScore(
        item_gaps=tuple(present(gap) for gap in item_gaps),
        dimension_expectations={d: present(v) for d, v in _by_dimension(answers.expectations).items()},
        dimension_perceptions={d: present(v) for d, v in _by_dimension(answers.perceptions).items()},
        dimension_gaps={dimension: present(gap) for dimension, gap in gaps.items()},
        unweighted=present(_unweighted(gaps)),
        weighted=present(_weighted(gaps, weights)),
        weights=weights,
        own_weights=response.importance_points is not None,
    )


def aggregate_scores(
    responses: Sequence[Response],
    campaign_weights: Mapping[Dimension, Decimal],
    tolerance: Decimal | int = DEFAULT_TOLERANCE,
) -> AggregateScore | None:
    """Group score over respondents (campaign, customer or segment); None when there are no responses.

    Means over respondents, exact until the end, then 4 dp ROUND_HALF_UP. Weighted = mean of each
    respondent's weighted score (own points, else campaign weights). Verdicts use ``tolerance``
    on the presented gaps; the overall verdict is taken on the weighted score.
    """
    if not responses:
        return None
    limit = validate_tolerance(tolerance)
    answer_sets = [response.answers for response in responses]
    item_expectations = [mean(answers.expectations[index] for answers in answer_sets) for index in range(ITEM_COUNT)]
    item_perceptions = [mean(answers.perceptions[index] for answers in answer_sets) for index in range(ITEM_COUNT)]
    items = tuple(
        ItemScore(
            number=index + 1,
            dimension=dimension_of(index + 1),
            mean_expectation=present(item_expectations[index]),
            mean_perception=present(item_perceptions[index]),
            gap=present(item_perceptions[index] - item_expectations[index]),
        )
        for index in range(ITEM_COUNT)
    )
    alphas = dimension_alphas(answer_sets)
    dimension_gaps: dict[Dimension, Fraction] = {}
    dimensions: dict[Dimension, DimensionScore] = {}
    for dimension, numbers in DIMENSION_ITEMS.items():
        mean_expectation = mean(item_expectations[number - 1] for number in numbers)
        mean_perception = mean(item_perceptions[number - 1] for number in numbers)
        dimension_gaps[dimension] = mean_perception - mean_expectation
        gap = present(dimension_gaps[dimension])
        dimensions[dimension] = DimensionScore(
            mean_expectation=present(mean_expectation),
            mean_perception=present(mean_perception),
            gap=gap,
            verdict=verdict_for(gap, limit),
            alpha=alphas[dimension],
        )
    weighted = present(
        mean(
            _weighted(_by_dimension(_item_gaps(response.answers)), _weights_of(response, campaign_weights))
            for response in responses
        )
    )
    return AggregateScore(
        respondents=len(responses),
        items=items,
        dimensions=dimensions,
        unweighted=present(_unweighted(dimension_gaps)),
        weighted=weighted,
        verdict=verdict_for(weighted, limit),
        tolerance=limit,
    )
