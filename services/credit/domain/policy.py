"""Credit standards and policy per grade (信用标准与信用政策) and the collection stages holds react to.

Rates are fractions (0.02 = 2 %); days are whole days.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from types import MappingProxyType

from services.credit.domain.grades import Grade
from shared.errors import field_error, raise_if_any
from shared.stage import Stage


class SalesPolicy(StrEnum):
    """How we sell to a grade: A full terms, B normal terms, C reduced limit, D cash or prepayment only."""

    FULL_TERMS = "full_terms"
    NORMAL_TERMS = "normal_terms"
    REDUCED_LIMIT = "reduced_limit"
    CASH_OR_PREPAYMENT = "cash_or_prepayment"


@dataclass(frozen=True)
class GradePolicy:
    """Credit standard and sales policy of one grade.

    ``max_overdue_days``: the oldest overdue invoice a credit check tolerates (more days → block).
    ``stop_supply_stage``: collection stage at or past which supply stops (credit hold).
    """

    max_expected_dso_days: int
    max_bad_debt_rate: Decimal
    sales_policy: SalesPolicy
    max_overdue_days: int
    stop_supply_stage: Stage = Stage.AGENCY

    def __post_init__(self) -> None:
        errors = []
        if self.max_expected_dso_days <= 0:
            errors.append(field_error("max_expected_dso_days", "must be greater than 0"))
        if not 0 <= self.max_bad_debt_rate <= 1:
            errors.append(field_error("max_bad_debt_rate", "must be a fraction between 0 and 1"))
        if self.max_overdue_days < 0:
            errors.append(field_error("max_overdue_days", "must not be negative"))
        raise_if_any(errors)


DEFAULT_GRADE_POLICIES: Mapping[Grade, GradePolicy] = MappingProxyType(
    {
        Grade.A: GradePolicy(45, Decimal("0.01"), SalesPolicy.FULL_TERMS, max_overdue_days=30),
        Grade.B: GradePolicy(60, Decimal("0.02"), SalesPolicy.NORMAL_TERMS, max_overdue_days=15),
        Grade.C: GradePolicy(75, Decimal("0.05"), SalesPolicy.REDUCED_LIMIT, max_overdue_days=7),
        Grade.D: GradePolicy(90, Decimal("0.10"), SalesPolicy.CASH_OR_PREPAYMENT, max_overdue_days=0),
    }
)


@dataclass(frozen=True)
class CreditPolicy:
    """The policy of every grade, plus the stop-supply stage for customers not yet graded."""

    grades: Mapping[Grade, GradePolicy] = field(default_factory=lambda: DEFAULT_GRADE_POLICIES)
    ungraded_stop_supply_stage: Stage = Stage.AGENCY
    # 取消信用额度: a case reaching this stage (or one of its rank) cancels the limit; None: never automatically.
    cancel_limit_stage: Stage | None = Stage.ARBITRATION

    def __post_init__(self) -> None:
        raise_if_any(
            [field_error(f"grades.{grade}", "policy is missing") for grade in Grade if grade not in self.grades]
        )

    def for_grade(self, grade: Grade) -> GradePolicy:
        """The policy of ``grade``."""
        return self.grades[grade]

    def stop_supply_stage(self, grade: Grade | None) -> Stage:
        """Stage at or past which supply stops for a customer of ``grade`` (None: not yet graded)."""
        return self.ungraded_stop_supply_stage if grade is None else self.grades[grade].stop_supply_stage


def cancels_limit(stage: Stage | None, policy: CreditPolicy | None = None) -> bool:
    """True when ``stage`` is at or past the policy's cancel-limit stage (arbitration = litigation by default)."""
    cancel_at = (policy or CreditPolicy()).cancel_limit_stage
    return stage is not None and cancel_at is not None and stage.rank >= cancel_at.rank


class StandardBreach(StrEnum):
    """Why a customer's expected figures fall short of its grade's credit standard."""

    DSO_ABOVE_STANDARD = "dso_above_standard"
    BAD_DEBT_RATE_ABOVE_STANDARD = "bad_debt_rate_above_standard"


def credit_standard_breaches(
    grade: Grade,
    expected_dso_days: Decimal | None,
    expected_bad_debt_rate: Decimal | None,
    policy: CreditPolicy | None = None,
) -> tuple[StandardBreach, ...]:
    """Which of the grade's maximums (DSO, bad-debt rate) the figures exceed; () if none. None = not known yet."""
    grade_policy = (policy or CreditPolicy()).for_grade(grade)
    breaches = []
    if expected_dso_days is not None and expected_dso_days > grade_policy.max_expected_dso_days:
        breaches.append(StandardBreach.DSO_ABOVE_STANDARD)
    if expected_bad_debt_rate is not None and expected_bad_debt_rate > grade_policy.max_bad_debt_rate:
        breaches.append(StandardBreach.BAD_DEBT_RATE_ABOVE_STANDARD)
    return tuple(breaches)


def bad_debt_rate(written_off: Decimal, billed: Decimal) -> Decimal | None:
    """Share of what was billed that was written off (6 places); None before anything was billed."""
    if billed <= 0:
        return None
    return (written_off / billed).quantize(Decimal("0.000001"))
