"""Benchmarking (标杆管理): campaign against campaign or against entered scores."""

from __future__ import annotations

from decimal import Decimal

import pytest

from services.survey.domain.answers import Answers
from services.survey.domain.benchmarking import benchmark_from_dimension_gaps, compare_scores
from services.survey.domain.instrument import Dimension
from services.survey.domain.scoring import Response, aggregate_scores
from services.survey.domain.weights import DEFAULT_WEIGHTS
from shared.errors import DomainRuleViolation

ISSUE_GAPS = {
    "tangibles": Decimal("-0.65"),
    "reliability": Decimal("-1.10"),
    "responsiveness": Decimal("-0.83"),
    "assurance": Decimal("-0.70"),
    "empathy": Decimal("-1.01"),
}
COMPETITOR = {
    "tangibles": Decimal("-0.50"),
    "reliability": Decimal("-0.90"),
    "responsiveness": Decimal("-1.00"),
    "assurance": Decimal("-0.70"),
    "empathy": Decimal("-0.80"),
}


def test_entered_scores_derive_unweighted_and_weighted() -> None:
    # Competitor: (−0.5 − 0.9 − 1.0 − 0.7 − 0.8)/5 = −3.9/5 = −0.78;
    # weighted 11×−0.5 + 32×−0.9 + 22×−1.0 + 19×−0.7 + 16×−0.8 = −5.5 − 28.8 − 22 − 13.3 − 12.8 = −82.4 → −0.824
    competitor = benchmark_from_dimension_gaps(COMPETITOR, DEFAULT_WEIGHTS)
    assert competitor.unweighted == Decimal("-0.78")
    assert competitor.weighted == Decimal("-0.824")
    assert benchmark_from_dimension_gaps(COMPETITOR).weighted is None


def test_compare_with_entered_benchmark_scores() -> None:
    ours = benchmark_from_dimension_gaps(ISSUE_GAPS, DEFAULT_WEIGHTS)
    theirs = benchmark_from_dimension_gaps(COMPETITOR, DEFAULT_WEIGHTS)
    comparison = compare_scores(ours, theirs)
    # subject − benchmark per dimension: −0.65 + 0.5 = −0.15; −1.10 + 0.9 = −0.2; −0.83 + 1.0 = +0.17;
    # −0.70 + 0.70 = 0; −1.01 + 0.8 = −0.21
    assert {d: c.difference for d, c in comparison.dimensions.items()} == {
        Dimension.TANGIBLES: Decimal("-0.15"),
        Dimension.RELIABILITY: Decimal("-0.2"),
        Dimension.RESPONSIVENESS: Decimal("0.17"),
        Dimension.ASSURANCE: Decimal(0),
        Dimension.EMPATHY: Decimal("-0.21"),
    }
    assert comparison.dimensions[Dimension.RESPONSIVENESS].subject == Decimal("-0.83")
    assert comparison.dimensions[Dimension.RESPONSIVENESS].benchmark == Decimal("-1.00")
    # Overall: unweighted −0.858 − (−0.78) = −0.078; weighted −0.9007 − (−0.824) = −0.0767
    assert comparison.unweighted.difference == Decimal("-0.078")
    assert comparison.weighted is not None
    assert comparison.weighted.difference == Decimal("-0.0767")


def test_compare_without_weights_on_one_side_has_no_weighted_difference() -> None:
    comparison = compare_scores(
        benchmark_from_dimension_gaps(ISSUE_GAPS, DEFAULT_WEIGHTS), benchmark_from_dimension_gaps(COMPETITOR)
    )
    assert comparison.weighted is None
    assert comparison.unweighted.difference == Decimal("-0.078")


def test_compare_campaign_with_campaign() -> None:
    # Campaign 1: one respondent, E 6 / P 5 everywhere → every gap −1, unweighted −1, weighted −1.
    # Campaign 2: one respondent, E 6 / P 6 everywhere except reliability P 4 → reliability −2, others 0;
    #   unweighted −2/5 = −0.4; weighted 32 × −2 / 100 = −0.64.
    first = aggregate_scores([Response(Answers((6,) * 22, (5,) * 22))], DEFAULT_WEIGHTS)
    second = aggregate_scores([Response(Answers((6,) * 22, (6,) * 4 + (4,) * 5 + (6,) * 13))], DEFAULT_WEIGHTS)
    assert first is not None and second is not None
    comparison = compare_scores(first, second)
    # differences: tangibles −1 − 0 = −1, reliability −1 − (−2) = +1, others −1
    assert comparison.dimensions[Dimension.RELIABILITY].difference == Decimal(1)
    assert comparison.dimensions[Dimension.TANGIBLES].difference == Decimal(-1)
    # unweighted −1 − (−0.4) = −0.6; weighted −1 − (−0.64) = −0.36
    assert comparison.unweighted.difference == Decimal("-0.6")
    assert comparison.weighted is not None
    assert comparison.weighted.difference == Decimal("-0.36")


@pytest.mark.parametrize(
    ("mapping", "fields"),
    [
        ({**COMPETITOR, "speed": Decimal(0)}, ["benchmark.speed"]),
        ({k: v for k, v in COMPETITOR.items() if k != "assurance"}, ["benchmark.assurance"]),
        ({**COMPETITOR, "tangibles": Decimal("-6.01")}, ["benchmark.tangibles"]),
        ({**COMPETITOR, "tangibles": 7}, ["benchmark.tangibles"]),
        ({**COMPETITOR, "tangibles": -0.5}, ["benchmark.tangibles"]),
        ({**COMPETITOR, "tangibles": Decimal("NaN")}, ["benchmark.tangibles"]),
        ([Decimal(0)] * 5, ["benchmark"]),
    ],
    ids=["unknown-dimension", "missing-dimension", "below-minus-6", "above-6", "float", "nan", "not-a-mapping"],
)
def test_invalid_entered_scores_are_refused(mapping: object, fields: list[str]) -> None:
    with pytest.raises(DomainRuleViolation) as raised:
        benchmark_from_dimension_gaps(mapping)
    assert [error["field"] for error in raised.value.errors] == fields


@pytest.mark.parametrize("limit", [Decimal(-6), Decimal(6), 0], ids=["minus-6", "plus-6", "int-zero"])
def test_gap_limits_are_inclusive(limit: Decimal) -> None:
    assert (
        benchmark_from_dimension_gaps({**COMPETITOR, "tangibles": limit}).dimension_gaps[Dimension.TANGIBLES] == limit
    )
