"""Credit check: approve, or block with every reason that applies."""

from __future__ import annotations

from decimal import Decimal

import pytest

from services.credit.domain.checks import (
    BlockReason,
    CheckDecision,
    CheckReason,
    CreditFacts,
    Decision,
    NoteReason,
    check_credit,
    exposure,
)
from services.credit.domain.grades import Grade
from services.credit.domain.policy import CreditPolicy, GradePolicy, SalesPolicy, StandardBreach
from shared.errors import DomainRuleViolation

D = Decimal
R = BlockReason
N = NoteReason


def facts(
    grade: Grade | None = Grade.B,
    limit: int = 100_000,
    exposure: int = 60_000,
    on_hold: bool = False,
    oldest_overdue_days: int = 0,
    prepaid: bool = False,
    cash: bool = False,
    breaches: tuple[StandardBreach, ...] = (),
) -> CreditFacts:
    return CreditFacts(
        grade, D(limit), D(exposure), on_hold, oldest_overdue_days, prepaid, cash=cash, standard_breaches=breaches
    )


# Default policy tolerates the oldest overdue invoice up to: A 30, B 15, C 7, D 0 days.
@pytest.mark.parametrize(
    ("customer", "amount", "reasons"),
    [
        (facts(), D("15000.00"), []),  # 60,000 + 15,000 = 75,000 ≤ 100,000
        (facts(), D("40000.00"), []),  # 60,000 + 40,000 = 100,000: exactly at the limit is fine
        (facts(), D("40000.01"), [R.OVER_LIMIT]),  # one cent over
        (facts(on_hold=True), D("1.00"), [R.ON_HOLD]),
        (facts(grade=Grade.D, limit=0, exposure=0), D("100"), [R.OVER_LIMIT, R.GRADE_D_REQUIRES_PREPAYMENT]),
        (facts(grade=Grade.D, exposure=0, prepaid=True), D("100"), [N.PREPAID_NO_CREDIT_EXTENDED]),
        (facts(oldest_overdue_days=15), D("100"), []),  # B tolerates 15 days
        (facts(oldest_overdue_days=16), D("100"), [R.OVERDUE_BEYOND_POLICY]),
        (facts(grade=Grade.A, oldest_overdue_days=30), D("100"), []),
        (facts(grade=Grade.A, oldest_overdue_days=31), D("100"), [R.OVERDUE_BEYOND_POLICY]),
        # Grade D sells for cash or prepayment only: such an order extends no credit, so nothing blocks it.
        (
            facts(grade=Grade.D, exposure=0, prepaid=True, oldest_overdue_days=1),
            D("100"),
            [N.PREPAID_NO_CREDIT_EXTENDED],
        ),
        (
            facts(grade=Grade.D, limit=0, exposure=99_000, on_hold=True, prepaid=True),
            D("1000000"),
            [N.PREPAID_NO_CREDIT_EXTENDED],
        ),
        (facts(grade=None, limit=0, on_hold=True, cash=True), D("5000"), [N.CASH_NO_CREDIT_EXTENDED]),
        # Breaches of the grade's credit standard are notes: they never block, and follow any block reason.
        (facts(grade=Grade.A, breaches=(StandardBreach.DSO_ABOVE_STANDARD,)), D("100"), [N.DSO_ABOVE_STANDARD]),
        (
            facts(on_hold=True, breaches=tuple(StandardBreach)),
            D("100"),
            [R.ON_HOLD, N.DSO_ABOVE_STANDARD, N.BAD_DEBT_RATE_ABOVE_STANDARD],
        ),
        (facts(grade=None, limit=0, exposure=0), D("100"), [R.NO_ASSESSMENT, R.OVER_LIMIT]),
        # An ungraded customer has no overdue tolerance to compare with: only no_assessment/over_limit apply.
        (facts(grade=None, oldest_overdue_days=90), D("100"), [R.NO_ASSESSMENT]),
        (
            facts(grade=Grade.D, exposure=99_000, on_hold=True, oldest_overdue_days=45),
            D("5000"),
            [R.ON_HOLD, R.OVER_LIMIT, R.GRADE_D_REQUIRES_PREPAYMENT, R.OVERDUE_BEYOND_POLICY],
        ),
    ],
    ids=[
        "approve",
        "exactly-at-limit",
        "cent-over-limit",
        "on-hold",
        "grade-D",
        "grade-D-prepaid",
        "overdue-at-tolerance",
        "overdue-past-tolerance",
        "A-overdue-30",
        "A-overdue-31",
        "D-prepaid-but-overdue",
        "D-prepaid-on-hold-over-limit",
        "cash-on-hold-ungraded",
        "dso-breach-approves",
        "breaches-after-block",
        "no-assessment",
        "no-assessment-overdue",
        "every-reason",
    ],
)
def test_check_credit_reasons(customer: CreditFacts, amount: Decimal, reasons: list[CheckReason]) -> None:
    result = check_credit(customer, amount)
    assert list(result.reasons) == reasons
    blocked = any(isinstance(reason, BlockReason) for reason in reasons)
    assert result.decision is (Decision.BLOCK if blocked else Decision.APPROVE)


def test_a_prepaid_order_adds_no_exposure() -> None:
    result = check_credit(facts(grade=Grade.D, limit=0, exposure=500, prepaid=True), D("1000"))
    assert (result.decision, result.exposure_after) == (Decision.APPROVE, D("500.00"))


def test_check_shows_the_arithmetic() -> None:
    assert check_credit(facts(), D("15000")) == CheckDecision(
        decision=Decision.APPROVE,
        reasons=(),
        amount=D("15000.00"),
        exposure_after=D("75000.00"),
        credit_limit=D("100000.00"),
        available_before=D("40000.00"),
    )


def test_policy_decides_the_overdue_tolerance() -> None:
    strict = CreditPolicy(
        grades={
            **CreditPolicy().grades,
            Grade.B: GradePolicy(60, D("0.02"), SalesPolicy.NORMAL_TERMS, max_overdue_days=0),
        }
    )
    assert check_credit(facts(oldest_overdue_days=1), D(100), strict).reasons == (R.OVERDUE_BEYOND_POLICY,)


@pytest.mark.parametrize("amount", [D(0), D("-0.01")], ids=["zero", "negative"])
def test_amount_must_be_positive(amount: Decimal) -> None:
    with pytest.raises(DomainRuleViolation) as raised:
        check_credit(facts(), amount)
    assert [e["field"] for e in raised.value.errors] == ["amount"]


@pytest.mark.parametrize(
    ("customer_args", "field"),
    [
        ({"limit": -1}, "credit_limit"),
        ({"exposure": -1}, "exposure"),
        ({"oldest_overdue_days": -1}, "oldest_overdue_days"),
    ],
    ids=["negative-limit", "negative-exposure", "negative-overdue-days"],
)
def test_invalid_facts(customer_args: dict[str, int], field: str) -> None:
    with pytest.raises(DomainRuleViolation) as raised:
        facts(**customer_args)  # type: ignore[arg-type]
    assert [e["field"] for e in raised.value.errors] == [field]


def test_exposure_is_open_receivables_plus_open_orders() -> None:
    assert exposure(D("45000.50"), D("14999.505")) == D("60000.01")  # 60,000.005 → half up
