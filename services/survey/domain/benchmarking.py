"""Benchmarking (标杆管理): a campaign's scores against another campaign or a competitor's published ones."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Protocol

from services.survey.domain.instrument import SCALE_MAX, SCALE_MIN, Dimension
from services.survey.domain.rounding import present
from services.survey.domain.scoring import unweighted_servqual, weighted_servqual
from services.survey.domain.weights import dimension_key_errors
from shared.errors import DomainRuleViolation

# A gap P − E on a 1–7 scale lies between −6 and +6.
GAP_LIMIT = Decimal(SCALE_MAX - SCALE_MIN)


class Scores(Protocol):
    """Anything with five dimension gaps and the two overall scores (AggregateScore, ResponseScore, ScoreSet)."""

    @property
    def dimension_gaps(self) -> Mapping[Dimension, Decimal]: ...

    @property
    def unweighted(self) -> Decimal: ...

    @property
    def weighted(self) -> Decimal | None: ...


@dataclass(frozen=True)
class ScoreSet:
    """Entered benchmark scores: five dimension gaps, their unweighted mean and, if weights were given, weighted."""

    dimension_gaps: dict[Dimension, Decimal]
    unweighted: Decimal
    weighted: Decimal | None


@dataclass(frozen=True)
class DimensionComparison:
    """One dimension: subject gap, benchmark gap and difference = subject − benchmark (positive = better)."""

    subject: Decimal
    benchmark: Decimal
    difference: Decimal


@dataclass(frozen=True)
class BenchmarkComparison:
    """Per-dimension and overall differences, subject − benchmark; weighted is None if either side lacks it."""

    dimensions: dict[Dimension, DimensionComparison]
    unweighted: DimensionComparison
    weighted: DimensionComparison | None


def benchmark_from_dimension_gaps(
    mapping: object, weights: Mapping[Dimension, Decimal] | None = None, field: str = "benchmark"
) -> ScoreSet:
    """Validate entered benchmark gaps (five dimensions, each an int/Decimal in −6…+6) and derive the overall scores.

    Unweighted = mean of the five gaps; weighted = Σ weight × gap / 100 when ``weights`` are
    given (use the campaign's, so both sides are weighted alike), else None. All 4 dp
    ROUND_HALF_UP. Problems are reported together in a DomainRuleViolation (422).
    """
    if not isinstance(mapping, Mapping):
        raise DomainRuleViolation(
            "benchmark scores must map each dimension to its gap",
            errors=[{"field": field, "message": "expected an object mapping dimension to gap"}],
        )
    errors: list[dict[str, Any]] = dimension_key_errors(mapping, field)
    gaps: dict[Dimension, Decimal] = {}
    for dimension in Dimension:
        if dimension.value not in mapping:
            continue
        gap = mapping[dimension.value]
        if (
            isinstance(gap, bool)
            or not isinstance(gap, int | Decimal)
            or not Decimal(gap).is_finite()
            or not -GAP_LIMIT <= gap <= GAP_LIMIT
        ):
            errors.append(
                {"field": f"{field}.{dimension.value}", "message": f"expected a number between -6 and 6, got {gap!r}"}
            )
        else:
            gaps[dimension] = Decimal(gap)
    if errors:
        raise DomainRuleViolation("invalid benchmark scores", errors=errors)
    return ScoreSet(
        dimension_gaps=gaps,
        unweighted=unweighted_servqual(gaps),
        weighted=None if weights is None else weighted_servqual(gaps, weights),
    )


def _compare(subject: Decimal, benchmark: Decimal) -> DimensionComparison:
    return DimensionComparison(subject=subject, benchmark=benchmark, difference=present(subject - benchmark))


def compare_scores(subject: Scores, benchmark: Scores) -> BenchmarkComparison:
    """Differences subject − benchmark per dimension, unweighted and weighted (4 dp); positive = subject better.

    Differences are taken between the presented (4 dp) values, so each row of the comparison
    adds up exactly as displayed.
    """
    weighted = None
    if subject.weighted is not None and benchmark.weighted is not None:
        weighted = _compare(subject.weighted, benchmark.weighted)
    return BenchmarkComparison(
        dimensions={
            dimension: _compare(subject.dimension_gaps[dimension], benchmark.dimension_gaps[dimension])
            for dimension in Dimension
        },
        unweighted=_compare(subject.unweighted, benchmark.unweighted),
        weighted=weighted,
    )
