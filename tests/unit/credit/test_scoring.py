"""6C scoring, grade thresholds and the payment-behaviour deduction."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

import pytest

from services.credit.domain.grades import Grade, GradeThresholds, grade_for
from services.credit.domain.scoring import (
    BehaviourAdjustmentRule,
    Factor,
    FactorScores,
    FactorWeights,
    PaymentBehaviour,
    behaviour_adjustment,
    score_assessment,
)
from shared.errors import DomainRuleViolation

D = Decimal


def scores(*values: int | str) -> FactorScores:
    """Factor scores in 6C order: character, capacity, capital, collateral, condition, continuity."""
    return FactorScores(*(D(value) for value in values))


@pytest.mark.parametrize(
    ("factors", "weights", "base_score", "contributions"),
    [
        # Default weights 25/20/20/15/10/10:
        # 80×.25 = 20, 70×.20 = 14, 60×.20 = 12, 50×.15 = 7.5, 90×.10 = 9, 100×.10 = 10 → 72.50.
        (
            scores(80, 70, 60, 50, 90, 100),
            FactorWeights(),
            D("72.50"),
            [D(20), D(14), D(12), D("7.5"), D(9), D(10)],
        ),
        (
            scores(100, 100, 100, 100, 100, 100),
            FactorWeights(),
            D("100.00"),
            [D(25), D(20), D(20), D(15), D(10), D(10)],
        ),
        (scores(0, 0, 0, 0, 0, 0), FactorWeights(), D("0.00"), [D(0)] * 6),
        # Decimal scores: 77.5×.25 = 19.375, 66.6×.20 = 13.32, 55.55×.20 = 11.11, 40×.15 = 6, 33.3×.10 = 3.33,
        # 12.34×.10 = 1.234 → 54.369 → 54.37 (half up).
        (
            scores("77.5", "66.6", "55.55", 40, "33.3", "12.34"),
            FactorWeights(),
            D("54.37"),
            [D("19.375"), D("13.32"), D("11.11"), D(6), D("3.33"), D("1.234")],
        ),
        # Custom weights 50/10/10/10/10/10: 80×.5 = 40, then 7 + 6 + 5 + 9 + 10 = 37 → 77.00.
        (
            scores(80, 70, 60, 50, 90, 100),
            FactorWeights(D(50), D(10), D(10), D(10), D(10), D(10)),
            D("77.00"),
            [D(40), D(7), D(6), D(5), D(9), D(10)],
        ),
        # Zero weight on collateral: 60×.3 + 60×.3 + 60×.2 + 0 + 60×.1 + 60×.1 = 60.
        (
            scores(60, 60, 60, 100, 60, 60),
            FactorWeights(D(30), D(30), D(20), D(0), D(10), D(10)),
            D("60.00"),
            [D(18), D(18), D(12), D(0), D(6), D(6)],
        ),
    ],
    ids=["defaults", "perfect", "zero", "decimal-scores", "custom-weights", "zero-weight"],
)
def test_weighted_score_and_contributions(
    factors: FactorScores, weights: FactorWeights, base_score: Decimal, contributions: list[Decimal]
) -> None:
    result = score_assessment(factors, weights)
    assert result.base_score == base_score
    assert result.score == base_score  # no behaviour given → no deduction
    assert result.adjustment is None
    assert [c.factor for c in result.contributions] == list(Factor)
    assert [c.contribution for c in result.contributions] == contributions
    # The score is the sum of the contributions, rounded to 2 dp.
    assert sum((c.contribution for c in result.contributions), D(0)).quantize(D("0.01")) == base_score


@pytest.mark.parametrize(
    ("score", "thresholds", "grade"),
    [
        (D(100), GradeThresholds(), Grade.A),
        (D(80), GradeThresholds(), Grade.A),
        (D("79.99"), GradeThresholds(), Grade.B),
        (D(65), GradeThresholds(), Grade.B),
        (D("64.99"), GradeThresholds(), Grade.C),
        (D(50), GradeThresholds(), Grade.C),
        (D("49.99"), GradeThresholds(), Grade.D),
        (D(0), GradeThresholds(), Grade.D),
        (D(90), GradeThresholds(D(90), D(75), D(60)), Grade.A),
        (D("89.99"), GradeThresholds(D(90), D(75), D(60)), Grade.B),
        (D(59), GradeThresholds(D(90), D(75), D(60)), Grade.D),
    ],
    ids=[
        "100-A",
        "80-A",
        "79.99-B",
        "65-B",
        "64.99-C",
        "50-C",
        "49.99-D",
        "0-D",
        "custom-90-A",
        "custom-89.99-B",
        "custom-59-D",
    ],
)
def test_grade_thresholds_are_inclusive_minimums(score: Decimal, thresholds: GradeThresholds, grade: Grade) -> None:
    assert grade_for(score, thresholds) is grade


@pytest.mark.parametrize(
    ("a", "b", "c", "fields"),
    [
        (D(80), D(80), D(50), ["thresholds"]),
        (D(50), D(65), D(80), ["thresholds"]),
        (D(101), D(65), D(50), ["thresholds.a"]),
        (D(80), D(65), D(-1), ["thresholds.c"]),
    ],
    ids=["equal", "ascending", "above-100", "negative"],
)
def test_invalid_thresholds(a: Decimal, b: Decimal, c: Decimal, fields: list[str]) -> None:
    with pytest.raises(DomainRuleViolation) as raised:
        GradeThresholds(a, b, c)
    assert [e["field"] for e in raised.value.errors] == fields


@pytest.mark.parametrize(
    ("values", "bad_fields"),
    [
        ((101, 70, 60, 50, 90, 100), ["factors.character"]),
        ((80, -1, 60, 50, 90, 100), ["factors.capacity"]),
        ((80, 70, "100.01", 50, 90, "-0.5"), ["factors.capital", "factors.continuity"]),
        ((-5, 200, -1, 150, 101, -100), [f"factors.{f}" for f in Factor]),
    ],
    ids=["one-above", "one-below", "two", "all"],
)
def test_factor_scores_outside_0_100_list_each_bad_factor(values: tuple[int | str, ...], bad_fields: list[str]) -> None:
    with pytest.raises(DomainRuleViolation) as raised:
        scores(*values)
    assert [e["field"] for e in raised.value.errors] == bad_fields
    assert raised.value.status == 422


@pytest.mark.parametrize(
    ("mapping", "bad_fields"),
    [
        (
            {"character": D(1), "capacity": D(1), "capital": D(1), "collateral": D(1), "condition": D(1)},
            ["factors.continuity"],
        ),
        ({**{f.value: D(1) for f in Factor}, "cash": D(1)}, ["factors.cash"]),
    ],
    ids=["missing", "unknown"],
)
def test_factor_scores_from_mapping_rejects_missing_and_unknown(
    mapping: dict[str, Decimal], bad_fields: list[str]
) -> None:
    with pytest.raises(DomainRuleViolation) as raised:
        FactorScores.from_mapping(mapping)
    assert [e["field"] for e in raised.value.errors] == bad_fields


def test_factor_scores_from_mapping() -> None:
    built = FactorScores.from_mapping({f.value: D(i * 10) for i, f in enumerate(Factor)})
    assert built == scores(0, 10, 20, 30, 40, 50)


@pytest.mark.parametrize(
    ("weights", "bad_fields"),
    [
        ((25, 20, 20, 15, 10, 5), ["weights"]),  # sums to 95
        ((25, 20, 20, 15, 10, 15), ["weights"]),  # sums to 105
        ((-10, 40, 20, 20, 20, 10), ["weights.character"]),  # sums to 100 but negative
    ],
    ids=["sum-95", "sum-105", "negative"],
)
def test_invalid_weights(weights: tuple[int, ...], bad_fields: list[str]) -> None:
    with pytest.raises(DomainRuleViolation) as raised:
        FactorWeights(*(D(w) for w in weights))
    assert [e["field"] for e in raised.value.errors] == bad_fields


@pytest.mark.parametrize(
    ("rate", "days_late", "days_deduction", "rate_deduction", "applied", "capped"),
    [
        (D("0.95"), D(30), D("0.00"), D("0.00"), D("0.00"), False),  # on target, within grace
        (D(1), D(0), D("0.00"), D("0.00"), D("0.00"), False),  # perfect payer: no bonus either
        (D("0.95"), D(40), D("5.00"), D("0.00"), D("5.00"), False),  # 10 days beyond 30 × 0.5
        (D("0.85"), D(10), D("0.00"), D("5.00"), D("5.00"), False),  # 10 points below 95 % × 0.5
        (D("0.85"), D(40), D("5.00"), D("5.00"), D("10.00"), False),  # both
        (D("0.935"), D("31.5"), D("0.75"), D("0.75"), D("1.50"), False),  # 1.5 days, 1.5 points
        (D("0.55"), D(60), D("15.00"), D("20.00"), D("20"), True),  # 35 uncapped → cap 20
    ],
    ids=["on-target", "perfect", "late-only", "low-rate-only", "both", "fractional", "capped"],
)
def test_behaviour_deduction(
    rate: Decimal,
    days_late: Decimal,
    days_deduction: Decimal,
    rate_deduction: Decimal,
    applied: Decimal,
    capped: bool,
) -> None:
    adjustment = behaviour_adjustment(PaymentBehaviour(rate, days_late))
    assert adjustment.days_late_deduction == days_deduction
    assert adjustment.collection_rate_deduction == rate_deduction
    assert adjustment.applied_deduction == applied
    assert adjustment.capped is capped


def test_behaviour_lowers_score_and_grade_and_stays_explicit() -> None:
    # 6C base 72.50 (grade B); 40 days late and 85 % collected → 5 + 5 = 10 → 62.50 (grade C).
    result = score_assessment(scores(80, 70, 60, 50, 90, 100), behaviour=PaymentBehaviour(D("0.85"), D(40)))
    assert result.base_score == D("72.50")
    assert result.adjustment is not None and result.adjustment.applied_deduction == D("10.00")
    assert result.score == D("62.50")
    assert result.grade is Grade.C


def test_score_never_goes_below_zero() -> None:
    # Base 5.00 minus the 20-point cap → 0.00, not −15.
    result = score_assessment(scores(5, 5, 5, 5, 5, 5), behaviour=PaymentBehaviour(D(0), D(365)))
    assert result.score == D("0.00")
    assert result.grade is Grade.D


def test_custom_adjustment_rule_and_thresholds() -> None:
    # 1 point per day beyond 10 days: 20 days late → 10; base 72.50 → 62.50, which is A under 60/40/20.
    rule = BehaviourAdjustmentRule(grace_days_late=D(10), points_per_day_late=D(1))
    result = score_assessment(
        scores(80, 70, 60, 50, 90, 100),
        thresholds=GradeThresholds(D(60), D(40), D(20)),
        behaviour=PaymentBehaviour(D(1), D(20)),
        adjustment_rule=rule,
    )
    assert (result.score, result.grade) == (D("62.50"), Grade.A)


@pytest.mark.parametrize(
    ("build", "field"),
    [
        (lambda: PaymentBehaviour(D("1.01"), D(0)), "payment_behaviour.collection_rate"),
        (lambda: PaymentBehaviour(D("-0.1"), D(0)), "payment_behaviour.collection_rate"),
        (lambda: PaymentBehaviour(D("0.9"), D(-1)), "payment_behaviour.average_days_late"),
        (lambda: BehaviourAdjustmentRule(max_deduction=D(-1)), "adjustment_rule.max_deduction"),
        (lambda: BehaviourAdjustmentRule(target_collection_rate=D(2)), "adjustment_rule.target_collection_rate"),
    ],
    ids=["rate-above-1", "rate-negative", "days-negative", "cap-negative", "target-above-1"],
)
def test_invalid_behaviour_inputs(build: Callable[[], object], field: str) -> None:
    with pytest.raises(DomainRuleViolation) as raised:
        build()
    assert [e["field"] for e in raised.value.errors] == [field]
