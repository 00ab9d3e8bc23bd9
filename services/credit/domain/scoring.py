"""6C credit scoring (信用评价): weighted factor scores, payment-behaviour adjustment, grade.

Units: factor scores and weights are 0–100 (weights are percentages summing to 100); the
collection rate is a fraction (0.95 = 95 %). Contributions are rounded to 4 dp (exact for factor
scores with up to 2 dp and whole-number weights); the score is the unrounded sum rounded to 2 dp.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from decimal import Decimal
from enum import StrEnum

from services.credit.domain.grades import Grade, GradeThresholds, grade_for
from services.credit.domain.rounding import HUNDRED, round_places
from shared.errors import field_error, raise_if_any


class Factor(StrEnum):
    """The six Cs of credit."""

    CHARACTER = "character"
    CAPACITY = "capacity"
    CAPITAL = "capital"
    COLLATERAL = "collateral"
    CONDITION = "condition"
    CONTINUITY = "continuity"


@dataclass(frozen=True)
class FactorScores:
    """One 0–100 score per factor; every out-of-range factor is reported in one DomainRuleViolation."""

    character: Decimal
    capacity: Decimal
    capital: Decimal
    collateral: Decimal
    condition: Decimal
    continuity: Decimal

    def __post_init__(self) -> None:
        raise_if_any(
            [
                field_error(f"factors.{factor}", f"must be between 0 and 100, got {value}")
                for factor, value in self.by_factor().items()
                if not 0 <= value <= 100
            ]
        )

    def by_factor(self) -> dict[Factor, Decimal]:
        """The scores keyed by factor, in the canonical 6C order."""
        return {Factor(item.name): getattr(self, item.name) for item in fields(self)}

    @classmethod
    def from_mapping(cls, scores: Mapping[str, Decimal]) -> FactorScores:
        """Build from ``{"character": 80, ...}``; missing or unknown factors are rule violations."""
        known = {factor.value for factor in Factor}
        errors = [field_error(f"factors.{name}", "is required") for name in known - scores.keys()]
        errors += [field_error(f"factors.{name}", "is not a 6C factor") for name in scores.keys() - known]
        raise_if_any(sorted(errors, key=lambda error: error["field"]))
        return cls(**{name: Decimal(scores[name]) for name in known})


@dataclass(frozen=True)
class FactorWeights:
    """Percentage weight of each factor; each ≥ 0 and together exactly 100."""

    character: Decimal = Decimal(25)
    capacity: Decimal = Decimal(20)
    capital: Decimal = Decimal(20)
    collateral: Decimal = Decimal(15)
    condition: Decimal = Decimal(10)
    continuity: Decimal = Decimal(10)

    def __post_init__(self) -> None:
        weights = self.by_factor()
        errors = [
            field_error(f"weights.{factor}", f"must not be negative, got {weight}")
            for factor, weight in weights.items()
            if weight < 0
        ]
        total = sum(weights.values(), Decimal(0))
        if total != HUNDRED:
            errors.append(field_error("weights", f"must sum to 100, got {total}"))
        raise_if_any(errors)

    def by_factor(self) -> dict[Factor, Decimal]:
        """The weights keyed by factor, in the canonical 6C order."""
        return {Factor(item.name): getattr(self, item.name) for item in fields(self)}


@dataclass(frozen=True)
class PaymentBehaviour:
    """How the customer paid, as collections reports it: collection rate (fraction) and mean days late."""

    collection_rate: Decimal
    average_days_late: Decimal

    def __post_init__(self) -> None:
        errors = []
        if not 0 <= self.collection_rate <= 1:
            errors.append(field_error("payment_behaviour.collection_rate", "must be a fraction between 0 and 1"))
        if self.average_days_late < 0:
            errors.append(field_error("payment_behaviour.average_days_late", "must not be negative"))
        raise_if_any(errors)


@dataclass(frozen=True)
class BehaviourAdjustmentRule:
    """Deduct points for lateness beyond a grace period and for collecting below target; total capped.

    days-late deduction   = max(0, average_days_late − grace_days_late) × points_per_day_late
    collection deduction  = max(0, target_collection_rate − collection_rate) × 100 × points_per_rate_point
    applied deduction     = min(days-late + collection, max_deduction), each part rounded to 2 dp
    Defaults: 0.5 point per day late beyond 30 days, 0.5 point per percentage point below 95 %, at most 20.
    """

    grace_days_late: Decimal = Decimal(30)
    points_per_day_late: Decimal = Decimal("0.5")
    target_collection_rate: Decimal = Decimal("0.95")
    points_per_rate_point: Decimal = Decimal("0.5")
    max_deduction: Decimal = Decimal(20)

    def __post_init__(self) -> None:
        errors = [
            field_error(f"adjustment_rule.{name}", "must not be negative")
            for name in (
                "grace_days_late",
                "points_per_day_late",
                "points_per_rate_point",
                "max_deduction",
            )
            if getattr(self, name) < 0
        ]
        if not 0 <= self.target_collection_rate <= 1:
            errors.append(field_error("adjustment_rule.target_collection_rate", "must be a fraction between 0 and 1"))
        raise_if_any(errors)


@dataclass(frozen=True)
class BehaviourAdjustment:
    """The deduction payment behaviour caused, each part shown; ``applied_deduction`` is after the cap."""

    behaviour: PaymentBehaviour
    rule: BehaviourAdjustmentRule
    days_late_deduction: Decimal
    collection_rate_deduction: Decimal
    applied_deduction: Decimal
    capped: bool


@dataclass(frozen=True)
class FactorContribution:
    """A factor's score, its weight and the points it adds to the score (score × weight / 100)."""

    factor: Factor
    score: Decimal
    weight: Decimal
    contribution: Decimal


@dataclass(frozen=True)
class ScoreResult:
    """Score 0–100 (2 dp) and grade, with the factor contributions and any behaviour deduction."""

    contributions: tuple[FactorContribution, ...]
    base_score: Decimal
    adjustment: BehaviourAdjustment | None
    score: Decimal
    grade: Grade
    weights: FactorWeights
    thresholds: GradeThresholds


def behaviour_adjustment(
    behaviour: PaymentBehaviour, rule: BehaviourAdjustmentRule | None = None
) -> BehaviourAdjustment:
    """Points to deduct from the 6C score for late payment and a low collection rate, capped."""
    rule = rule or BehaviourAdjustmentRule()
    days_beyond_grace = max(Decimal(0), behaviour.average_days_late - rule.grace_days_late)
    days_late_deduction = round_places(days_beyond_grace * rule.points_per_day_late, 2)
    rate_points_short = max(Decimal(0), rule.target_collection_rate - behaviour.collection_rate) * HUNDRED
    collection_rate_deduction = round_places(rate_points_short * rule.points_per_rate_point, 2)
    uncapped = days_late_deduction + collection_rate_deduction
    return BehaviourAdjustment(
        behaviour=behaviour,
        rule=rule,
        days_late_deduction=days_late_deduction,
        collection_rate_deduction=collection_rate_deduction,
        applied_deduction=min(uncapped, rule.max_deduction),
        capped=uncapped > rule.max_deduction,
    )


def score_assessment(
    factors: FactorScores,
    weights: FactorWeights | None = None,
    thresholds: GradeThresholds | None = None,
    behaviour: PaymentBehaviour | None = None,
    adjustment_rule: BehaviourAdjustmentRule | None = None,
) -> ScoreResult:
    """Weighted 6C score, less the payment-behaviour deduction (never below 0), and its grade."""
    weights = weights or FactorWeights()
    thresholds = thresholds or GradeThresholds()
    factor_weights = weights.by_factor()
    exact = {factor: score * factor_weights[factor] / HUNDRED for factor, score in factors.by_factor().items()}
    contributions = tuple(
        FactorContribution(
            factor=factor,
            score=score,
            weight=factor_weights[factor],
            contribution=round_places(exact[factor], 4),
        )
        for factor, score in factors.by_factor().items()
    )
    base_score = round_places(sum(exact.values(), Decimal(0)), 2)
    adjustment = behaviour_adjustment(behaviour, adjustment_rule) if behaviour is not None else None
    deduction = adjustment.applied_deduction if adjustment else Decimal(0)
    score = max(Decimal("0.00"), base_score - deduction)
    return ScoreResult(
        contributions=contributions,
        base_score=base_score,
        adjustment=adjustment,
        score=score,
        grade=grade_for(score, thresholds),
        weights=weights,
        thresholds=thresholds,
    )
