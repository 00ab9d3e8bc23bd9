"""Credit policy per grade: defaults, validation, stop-supply stage and the credit standard."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

import pytest

from services.credit.domain.grades import Grade
from services.credit.domain.policy import (
    CreditPolicy,
    GradePolicy,
    SalesPolicy,
    StandardBreach,
    bad_debt_rate,
    cancels_limit,
    credit_standard_breaches,
)
from shared.errors import DomainRuleViolation
from shared.stage import Stage

D = Decimal


@pytest.mark.parametrize(
    ("grade", "dso", "bad_debt", "sales_policy", "overdue"),
    [
        (Grade.A, 45, D("0.01"), SalesPolicy.FULL_TERMS, 30),
        (Grade.B, 60, D("0.02"), SalesPolicy.NORMAL_TERMS, 15),
        (Grade.C, 75, D("0.05"), SalesPolicy.REDUCED_LIMIT, 7),
        (Grade.D, 90, D("0.10"), SalesPolicy.CASH_OR_PREPAYMENT, 0),
    ],
    ids=["A", "B", "C", "D"],
)
def test_default_policy(grade: Grade, dso: int, bad_debt: Decimal, sales_policy: SalesPolicy, overdue: int) -> None:
    policy = CreditPolicy().for_grade(grade)
    assert (policy.max_expected_dso_days, policy.max_bad_debt_rate, policy.sales_policy, policy.max_overdue_days) == (
        dso,
        bad_debt,
        sales_policy,
        overdue,
    )
    assert CreditPolicy().stop_supply_stage(grade) is Stage.AGENCY


@pytest.mark.parametrize(
    ("stage", "rank"),
    [
        (Stage.LETTER, 0),
        (Stage.VISIT, 1),
        (Stage.AGENCY, 2),
        (Stage.ARBITRATION, 3),
        (Stage.LITIGATION, 3),
    ],
    ids=["letter", "visit", "agency", "arbitration", "litigation"],
)
def test_stage_order(stage: Stage, rank: int) -> None:
    assert stage.rank == rank


@pytest.mark.parametrize(
    ("grade", "dso", "bad_debt", "breaches"),
    [
        (Grade.B, D(60), D("0.02"), []),  # exactly at both maximums
        (Grade.B, D("60.01"), D("0.02"), [StandardBreach.DSO_ABOVE_STANDARD]),
        (Grade.B, D(60), D("0.0201"), [StandardBreach.BAD_DEBT_RATE_ABOVE_STANDARD]),
        (
            Grade.A,
            D(46),
            D("0.011"),
            [StandardBreach.DSO_ABOVE_STANDARD, StandardBreach.BAD_DEBT_RATE_ABOVE_STANDARD],
        ),
        (Grade.A, D(105), None, [StandardBreach.DSO_ABOVE_STANDARD]),  # the reported case: A expects ≤ 45 days
        (Grade.D, None, None, []),  # nothing known yet: nothing to breach
    ],
    ids=["at-standard", "dso-above", "bad-debt-above", "both-above", "A-at-105-days", "unknown"],
)
def test_credit_standard(
    grade: Grade, dso: Decimal | None, bad_debt: Decimal | None, breaches: list[StandardBreach]
) -> None:
    assert list(credit_standard_breaches(grade, dso, bad_debt)) == breaches


@pytest.mark.parametrize(
    ("written_off", "billed", "rate"),
    [(D(0), D(0), None), (D(0), D(1000), D(0)), (D(25), D(1000), D("0.025")), (D(1), D(3), D("0.333333"))],
)
def test_bad_debt_rate(written_off: Decimal, billed: Decimal, rate: Decimal | None) -> None:
    assert bad_debt_rate(written_off, billed) == rate


@pytest.mark.parametrize(
    ("build", "fields"),
    [
        (lambda: GradePolicy(0, D("0.01"), SalesPolicy.FULL_TERMS, 30), ["max_expected_dso_days"]),
        (lambda: GradePolicy(45, D("1.5"), SalesPolicy.FULL_TERMS, 30), ["max_bad_debt_rate"]),
        (lambda: GradePolicy(45, D("-0.01"), SalesPolicy.FULL_TERMS, 30), ["max_bad_debt_rate"]),
        (lambda: GradePolicy(45, D("0.01"), SalesPolicy.FULL_TERMS, -1), ["max_overdue_days"]),
        (
            lambda: CreditPolicy(grades={Grade.A: GradePolicy(45, D("0.01"), SalesPolicy.FULL_TERMS, 30)}),
            ["grades.B", "grades.C", "grades.D"],
        ),
    ],
    ids=["dso-zero", "bad-debt-above-1", "bad-debt-negative", "overdue-negative", "grades-missing"],
)
def test_invalid_policy(build: Callable[[], object], fields: list[str]) -> None:
    with pytest.raises(DomainRuleViolation) as raised:
        build()
    assert [e["field"] for e in raised.value.errors] == fields


@pytest.mark.parametrize(
    ("stage", "cancel_at", "cancels"),
    [
        (None, Stage.ARBITRATION, False),
        (Stage.AGENCY, Stage.ARBITRATION, False),
        (Stage.ARBITRATION, Stage.ARBITRATION, True),
        (Stage.LITIGATION, Stage.ARBITRATION, True),  # the same rank: the other legal route
        (Stage.AGENCY, Stage.AGENCY, True),
        (Stage.LITIGATION, None, False),  # the policy cancels only by hand
    ],
)
def test_cancel_limit_stage(stage: Stage | None, cancel_at: Stage | None, cancels: bool) -> None:
    assert cancels_limit(stage, CreditPolicy(cancel_limit_stage=cancel_at)) is cancels


def test_default_policy_cancels_the_limit_at_the_legal_stages() -> None:
    assert CreditPolicy().cancel_limit_stage is Stage.ARBITRATION
    assert [stage for stage in Stage if cancels_limit(stage)] == [
        Stage.ARBITRATION,
        Stage.LITIGATION,
    ]
