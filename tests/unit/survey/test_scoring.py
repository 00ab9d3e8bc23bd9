"""SERVQUAL scoring against worked examples computed by hand."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from fractions import Fraction

import pytest

from services.survey.domain.answers import Answers, normalise_answers, validate_answers
from services.survey.domain.instrument import Dimension
from services.survey.domain.rounding import Exact, present
from services.survey.domain.scoring import (
    Response,
    aggregate_scores,
    score_response,
    unweighted_servqual,
    weighted_servqual,
)
from services.survey.domain.verdicts import Verdict
from services.survey.domain.weights import DEFAULT_WEIGHTS
from shared.errors import DomainRuleViolation

T, REL, RESP, A, EMP = (
    Dimension.TANGIBLES,
    Dimension.RELIABILITY,
    Dimension.RESPONSIVENESS,
    Dimension.ASSURANCE,
    Dimension.EMPATHY,
)


def gaps(
    tangibles: str, reliability: str, responsiveness: str, assurance: str, empathy: str
) -> dict[Dimension, Decimal]:
    return {
        T: Decimal(tangibles),
        REL: Decimal(reliability),
        RESP: Decimal(responsiveness),
        A: Decimal(assurance),
        EMP: Decimal(empathy),
    }


def by_dimension(
    tangibles: list[int], reliability: list[int], responsiveness: list[int], assurance: list[int], empathy: list[int]
) -> list[int]:
    assert [len(tangibles), len(reliability), len(responsiveness), len(assurance), len(empathy)] == [4, 5, 4, 4, 5]
    return tangibles + reliability + responsiveness + assurance + empathy


# The issue's worked example.
ISSUE_GAPS = gaps("-0.65", "-1.10", "-0.83", "-0.70", "-1.01")


@pytest.mark.parametrize(
    ("dimension_gaps", "unweighted", "weighted"),
    [
        # (−0.65 − 1.10 − 0.83 − 0.70 − 1.01) / 5 = −4.29 / 5 = −0.858
        # 11×−0.65 + 32×−1.10 + 22×−0.83 + 19×−0.70 + 16×−1.01
        #   = −7.15 − 35.20 − 18.26 − 13.30 − 16.16 = −90.07 → / 100 = −0.9007
        (ISSUE_GAPS, Decimal("-0.8580"), Decimal("-0.9007")),
        # all zero → 0
        (gaps("0", "0", "0", "0", "0"), Decimal("0.0000"), Decimal("0.0000")),
        # (1 + 0.4 + 0 − 0.25 + 0.2) / 5 = 1.35 / 5 = 0.27; 11 + 12.8 + 0 − 4.75 + 3.2 = 22.25 → 0.2225
        (gaps("1", "0.4", "0", "-0.25", "0.2"), Decimal("0.2700"), Decimal("0.2225")),
        # Rounding at the end only: (1/3 + 0 + 0 + 0 + 0) / 5 = 1/15 = 0.0666… → 0.0667;
        # weighted 11 × 1/3 / 100 = 11/300 = 0.03666… → 0.0367
        ({T: Fraction(1, 3), REL: 0, RESP: 0, A: 0, EMP: 0}, Decimal("0.0667"), Decimal("0.0367")),
    ],
    ids=["issue-example", "all-zero", "positive-gaps", "thirds-rounded-once"],
)
def test_unweighted_and_weighted_servqual(
    dimension_gaps: Mapping[Dimension, Exact], unweighted: Decimal, weighted: Decimal
) -> None:
    assert unweighted_servqual(dimension_gaps) == unweighted
    assert weighted_servqual(dimension_gaps, DEFAULT_WEIGHTS) == weighted
    assert str(weighted_servqual(dimension_gaps, DEFAULT_WEIGHTS)) == str(weighted)  # always 4 dp


def test_the_issue_example_reads_as_the_issue_states() -> None:
    assert unweighted_servqual(ISSUE_GAPS) == Decimal("-0.858")
    assert weighted_servqual(ISSUE_GAPS, DEFAULT_WEIGHTS) == Decimal("-0.9007")


def test_weighted_servqual_refuses_weights_not_summing_to_100() -> None:
    with pytest.raises(DomainRuleViolation):
        weighted_servqual(ISSUE_GAPS, {**DEFAULT_WEIGHTS, T: Decimal(10)})


# Three respondents, worked by hand.
# A (campaign weights): E all 7; P tangibles 6, reliability 5, responsiveness 6, assurance 7, empathy 6.
#   gaps T −1, Rel −2, Resp −1, A 0, Emp −1; unweighted −5/5 = −1;
#   weighted (11×−1 + 32×−2 + 22×−1 + 19×0 + 16×−1)/100 = −113/100 = −1.13
RESPONDENT_A = Answers(
    expectations=(7,) * 22,
    perceptions=tuple(by_dimension([6] * 4, [5] * 5, [6] * 4, [7] * 4, [6] * 5)),
)
# B (own points, 20 each): E all 6; P item 1 = 7, items 2–4 = 6, reliability 4,4,4,4,6,
#   responsiveness 6, assurance 5, empathy 6,6,6,6,1.
#   gaps T (1+0+0+0)/4 = 0.25, Rel (−2×4 + 0)/5 = −1.6, Resp 0, A −1, Emp (0×4 − 5)/5 = −1;
#   unweighted (0.25 − 1.6 + 0 − 1 − 1)/5 = −3.35/5 = −0.67; weighted 20 × −3.35 / 100 = −0.67
#   (with the campaign's weights it would be 2.75 − 51.2 + 0 − 19 − 16 = −83.45 → −0.8345)
RESPONDENT_B = Answers(
    expectations=(6,) * 22,
    perceptions=tuple(by_dimension([7, 6, 6, 6], [4, 4, 4, 4, 6], [6] * 4, [5] * 4, [6, 6, 6, 6, 1])),
)
EQUAL_POINTS = dict.fromkeys(Dimension, Decimal(20))
# C (campaign weights): E = P = 5 everywhere, every gap 0.
RESPONDENT_C = Answers(expectations=(5,) * 22, perceptions=(5,) * 22)


@pytest.mark.parametrize(
    ("response", "dimension_gaps", "unweighted", "weighted", "own"),
    [
        (Response(RESPONDENT_A), gaps("-1", "-2", "-1", "0", "-1"), "-1.0000", "-1.1300", False),
        (Response(RESPONDENT_B, EQUAL_POINTS), gaps("0.25", "-1.6", "0", "-1", "-1"), "-0.6700", "-0.6700", True),
        (Response(RESPONDENT_B), gaps("0.25", "-1.6", "0", "-1", "-1"), "-0.6700", "-0.8345", False),
        (Response(RESPONDENT_C), gaps("0", "0", "0", "0", "0"), "0.0000", "0.0000", False),
    ],
    ids=["A-campaign-weights", "B-own-points", "B-without-points-uses-campaign", "C-no-gap"],
)
def test_score_response(
    response: Response, dimension_gaps: dict[Dimension, Decimal], unweighted: str, weighted: str, own: bool
) -> None:
    score = score_response(response, DEFAULT_WEIGHTS)
    assert score.dimension_gaps == dimension_gaps
    assert score.unweighted == Decimal(unweighted)
    assert score.weighted == Decimal(weighted)
    assert str(score.weighted) == weighted
    assert score.own_weights is own
    assert score.weights == (EQUAL_POINTS if own else DEFAULT_WEIGHTS)


def test_score_response_reports_item_gaps_and_dimension_means() -> None:
    score = score_response(Response(RESPONDENT_B, EQUAL_POINTS), DEFAULT_WEIGHTS)
    assert score.item_gaps[0] == 1 and score.item_gaps[4] == -2 and score.item_gaps[21] == -5
    assert len(score.item_gaps) == 22
    # B's reliability P: (4+4+4+4+6)/5 = 4.4; empathy P: (6×4 + 1)/5 = 5
    assert score.dimension_perceptions[REL] == Decimal("4.4")
    assert score.dimension_perceptions[EMP] == Decimal("5")
    assert score.dimension_expectations == dict.fromkeys(Dimension, Decimal(6))


def test_invalid_respondent_points_are_refused_under_their_own_field() -> None:
    with pytest.raises(DomainRuleViolation) as raised:
        score_response(Response(RESPONDENT_A, {**EQUAL_POINTS, T: Decimal(19)}), DEFAULT_WEIGHTS)
    assert raised.value.errors[0]["field"] == "importance_points"


def test_aggregate_over_three_respondents_matches_the_hand_computation() -> None:
    aggregate = aggregate_scores(
        [Response(RESPONDENT_A), Response(RESPONDENT_B, EQUAL_POINTS), Response(RESPONDENT_C)], DEFAULT_WEIGHTS
    )
    assert aggregate is not None
    assert aggregate.respondents == 3

    # Per item, mean over the three respondents:
    #   item 1: E (7+6+5)/3 = 6, P (6+7+5)/3 = 6, gap 0
    #   item 2: E 6, P (6+6+5)/3 = 17/3 = 5.6667, gap (−1+0+0)/3 = −0.3333
    #   item 5: E 6, P (5+4+5)/3 = 14/3 = 4.6667, gap (−2−2+0)/3 = −1.3333
    #   item 9: E 6, P (5+6+5)/3 = 16/3 = 5.3333, gap (−2+0+0)/3 = −0.6667
    #   item 22: E 6, P (6+1+5)/3 = 4, gap (−1−5+0)/3 = −2
    expected_items = {
        1: ("6.0000", "6.0000", "0.0000"),
        2: ("6.0000", "5.6667", "-0.3333"),
        5: ("6.0000", "4.6667", "-1.3333"),
        9: ("6.0000", "5.3333", "-0.6667"),
        22: ("6.0000", "4.0000", "-2.0000"),
    }
    for number, (mean_e, mean_p, gap) in expected_items.items():
        item = aggregate.items[number - 1]
        assert item.number == number
        assert (str(item.mean_expectation), str(item.mean_perception), str(item.gap)) == (mean_e, mean_p, gap)
    assert aggregate.items[21].dimension is EMP

    # Per dimension (mean over respondents of their dimension means):
    #   T: E 6, P (6 + 6.25 + 5)/3 = 5.75, gap (−1 + 0.25 + 0)/3 = −0.25 → satisfactory (boundary)
    #   Rel: E 6, P (5 + 4.4 + 5)/3 = 4.8, gap (−2 − 1.6 + 0)/3 = −1.2 → unacceptable
    #   Resp: E 6, P (6+6+5)/3 = 5.6667, gap −1/3 = −0.3333 → unacceptable
    #   A: E 6, P (7+5+5)/3 = 5.6667, gap −1/3 = −0.3333 → unacceptable
    #   Emp: E 6, P (6+5+5)/3 = 5.3333, gap −2/3 = −0.6667 → unacceptable
    expected_dimensions = {
        T: ("6.0000", "5.7500", "-0.2500", Verdict.SATISFACTORY),
        REL: ("6.0000", "4.8000", "-1.2000", Verdict.UNACCEPTABLE),
        RESP: ("6.0000", "5.6667", "-0.3333", Verdict.UNACCEPTABLE),
        A: ("6.0000", "5.6667", "-0.3333", Verdict.UNACCEPTABLE),
        EMP: ("6.0000", "5.3333", "-0.6667", Verdict.UNACCEPTABLE),
    }
    for dimension, (mean_e, mean_p, gap, verdict) in expected_dimensions.items():
        score = aggregate.dimensions[dimension]
        assert (str(score.mean_expectation), str(score.mean_perception), str(score.gap)) == (mean_e, mean_p, gap)
        assert score.verdict is verdict
    assert aggregate.dimension_gaps == {d: Decimal(v[2]) for d, v in expected_dimensions.items()}

    # Unweighted, exact: (−1/4 − 6/5 − 1/3 − 1/3 − 2/3)/5 = (−15 − 72 − 80)/60/5 = −167/300 = −0.55666… → −0.5567
    # (equal to the mean of the respondents' unweighted scores: (−1 − 0.67 + 0)/3)
    assert str(aggregate.unweighted) == "-0.5567"
    # Weighted = mean of each respondent's weighted score, B with own points:
    #   (−1.13 − 0.67 + 0)/3 = −1.8/3 = −0.6 → unacceptable
    assert str(aggregate.weighted) == "-0.6000"
    assert aggregate.verdict is Verdict.UNACCEPTABLE


def test_aggregate_over_two_respondents_per_customer() -> None:
    # A and C only: T gap (−1 + 0)/2 = −0.5, Rel −1, Resp −0.5, A 0, Emp −0.5;
    # unweighted (−0.5 − 1 − 0.5 + 0 − 0.5)/5 = −2.5/5 = −0.5; weighted (−1.13 + 0)/2 = −0.565
    aggregate = aggregate_scores([Response(RESPONDENT_A), Response(RESPONDENT_C)], DEFAULT_WEIGHTS)
    assert aggregate is not None
    assert aggregate.dimension_gaps == gaps("-0.5", "-1", "-0.5", "0", "-0.5")
    assert aggregate.unweighted == Decimal("-0.5")
    assert aggregate.weighted == Decimal("-0.565")
    # Assurance gap 0 is satisfactory; tangibles −0.5 is unacceptable with the default 0.25 tolerance.
    assert aggregate.dimensions[A].verdict is Verdict.SATISFACTORY
    assert aggregate.dimensions[T].verdict is Verdict.UNACCEPTABLE


def test_aggregate_tolerance_is_configurable() -> None:
    # With a tolerance of 0.5, tangibles −0.5 sits on the boundary: satisfactory. Reliability −1 and
    # the overall weighted −0.565 are still below −0.5: unacceptable.
    aggregate = aggregate_scores(
        [Response(RESPONDENT_A), Response(RESPONDENT_C)], DEFAULT_WEIGHTS, tolerance=Decimal("0.5")
    )
    assert aggregate is not None
    assert aggregate.tolerance == Decimal("0.5")
    assert aggregate.dimensions[T].verdict is Verdict.SATISFACTORY
    assert aggregate.dimensions[REL].verdict is Verdict.UNACCEPTABLE
    assert aggregate.verdict is Verdict.UNACCEPTABLE


def test_aggregate_of_a_quality_surprise() -> None:
    # One respondent, E 4 and P 5 everywhere: every gap +1 > 0.25 → quality surprise.
    aggregate = aggregate_scores([Response(Answers((4,) * 22, (5,) * 22))], DEFAULT_WEIGHTS)
    assert aggregate is not None
    assert aggregate.weighted == aggregate.unweighted == Decimal(1)
    assert aggregate.verdict is Verdict.QUALITY_SURPRISE
    assert {score.verdict for score in aggregate.dimensions.values()} == {Verdict.QUALITY_SURPRISE}


def test_aggregate_of_no_responses_is_none() -> None:
    assert aggregate_scores([], DEFAULT_WEIGHTS) is None


def test_aggregate_refuses_a_negative_tolerance() -> None:
    with pytest.raises(DomainRuleViolation):
        aggregate_scores([Response(RESPONDENT_C)], DEFAULT_WEIGHTS, tolerance=Decimal("-0.1"))


def test_a_1988_response_is_scored_after_reverse_scoring() -> None:
    # 1988 answers: E 6 and P 6 everywhere except responsiveness, where the negatively worded
    # items were answered E 2 ("disagree that they shouldn't be expected to …") and P 5.
    # Reversed: E 8 − 2 = 6, P 8 − 5 = 3 → responsiveness gap −3, others 0.
    # Unweighted −3/5 = −0.6; weighted 22 × −3 / 100 = −0.66.
    raw = validate_answers(
        by_dimension([6] * 4, [6] * 5, [2] * 4, [6] * 4, [6] * 5),
        by_dimension([6] * 4, [6] * 5, [5] * 4, [6] * 4, [6] * 5),
    )
    score = score_response(Response(normalise_answers("servqual-1988", raw)), DEFAULT_WEIGHTS)
    assert score.dimension_gaps[RESP] == Decimal(-3)
    assert score.unweighted == Decimal("-0.6")
    assert score.weighted == Decimal("-0.66")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (Fraction(1, 20000), "0.0001"),  # 0.00005 → half up
        (Fraction(-1, 20000), "-0.0001"),  # −0.00005 → half away from zero
        (Fraction(4999, 100_000_000), "0.0000"),
        (Fraction(2, 3), "0.6667"),
        (Fraction(-2, 3), "-0.6667"),
        (Decimal("-0.858"), "-0.8580"),
        (0, "0.0000"),
        (7, "7.0000"),
    ],
    ids=[
        "half-up",
        "negative-half-away",
        "just-below-half",
        "two-thirds",
        "minus-two-thirds",
        "decimal",
        "zero",
        "integer",
    ],
)
def test_presentation_rounds_to_4_dp_half_up(value: Fraction | Decimal | int, expected: str) -> None:
    assert str(present(value)) == expected
