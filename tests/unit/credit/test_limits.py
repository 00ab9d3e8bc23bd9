"""Credit limit methods, caps, recommendation and the four-eyes manual override."""

from __future__ import annotations

from collections.abc import Callable
from decimal import ROUND_HALF_UP, Decimal

import pytest

from services.credit.domain.altman import FinancialStatement
from services.credit.domain.grades import Grade
from services.credit.domain.limits import (
    GradeLimitRule,
    LimitMethod,
    LimitPolicy,
    OverrideAboveCap,
    SelfApprovedOverride,
    cancel_limit,
    limit_by_grade,
    limit_by_liquidation_value,
    limit_by_working_capital,
    limit_cap,
    override_limit,
    recommend_limit,
)
from shared.errors import DomainRuleViolation

D = Decimal


def financials(
    total_assets: int, current_assets: int, current_liabilities: int, total_liabilities: int
) -> FinancialStatement:
    return FinancialStatement(
        total_assets=D(total_assets),
        current_assets=D(current_assets),
        current_liabilities=D(current_liabilities),
        total_liabilities=D(total_liabilities),
        retained_earnings=D(0),
        ebit=D(0),
        sales=D(0),
    )


# Working capital 900,000 − 400,000 = 500,000; net assets 2,000,000 − 1,200,000 = 800,000 → cap 500,000.
WC_BINDS = financials(2_000_000, 900_000, 400_000, 1_200_000)
# Working capital 800,000 − 100,000 = 700,000; net assets 1,000,000 − 700,000 = 300,000 → cap 300,000.
NET_ASSETS_BIND = financials(1_000_000, 800_000, 100_000, 700_000)
# Working capital 100,000 − 300,000 = −200,000 → cap 0 whatever the net assets (1,000,000 − 500,000).
NEGATIVE_WC = financials(1_000_000, 100_000, 300_000, 500_000)
# Working capital exactly 0 → cap 0.
ZERO_WC = financials(1_000_000, 300_000, 300_000, 500_000)
# Net assets 1,000,000 − 1,100,000 = −100,000 → cap 0 although working capital is 300,000.
NEGATIVE_NET_ASSETS = financials(1_000_000, 500_000, 200_000, 1_100_000)


@pytest.mark.parametrize(
    ("grade", "policy", "monthly_sales", "expected"),
    [
        (Grade.A, LimitPolicy(), None, D("1000000.00")),
        (Grade.B, LimitPolicy(), None, D("500000.00")),
        (Grade.C, LimitPolicy(), None, D("200000.00")),
        (Grade.D, LimitPolicy(), None, D("0.00")),
        # A multiple of monthly sales: 2 × 123,456.785 = 246,913.57 (half up).
        (
            Grade.B,
            LimitPolicy(
                grade_rules={**LimitPolicy().grade_rules, Grade.B: GradeLimitRule(monthly_sales_multiple=D(2))}
            ),
            D("123456.785"),
            D("246913.57"),
        ),
    ],
    ids=["A", "B", "C", "D", "sales-multiple"],
)
def test_limit_by_grade(grade: Grade, policy: LimitPolicy, monthly_sales: Decimal | None, expected: Decimal) -> None:
    assert limit_by_grade(grade, policy, monthly_sales) == expected


def test_limit_by_grade_multiple_needs_monthly_sales() -> None:
    policy = LimitPolicy(
        grade_rules={**LimitPolicy().grade_rules, Grade.A: GradeLimitRule(monthly_sales_multiple=D(3))}
    )
    with pytest.raises(DomainRuleViolation, match="average_monthly_sales"):
        limit_by_grade(Grade.A, policy)


@pytest.mark.parametrize(
    ("statement", "percent", "expected"),
    [
        (WC_BINDS, D(20), D("100000.00")),  # 20 % × 500,000
        (WC_BINDS, D("12.5"), D("62500.00")),  # 12.5 % × 500,000
        (NET_ASSETS_BIND, D(100), D("700000.00")),  # 100 % × 700,000
        (NEGATIVE_WC, D(20), D("0.00")),  # negative working capital gives nothing
        (ZERO_WC, D(20), D("0.00")),
    ],
    ids=["20-percent", "12.5-percent", "100-percent", "negative-wc", "zero-wc"],
)
def test_limit_by_working_capital(statement: FinancialStatement, percent: Decimal, expected: Decimal) -> None:
    assert limit_by_working_capital(statement, LimitPolicy(working_capital_percent=percent)) == expected


@pytest.mark.parametrize(
    ("liquidation_value", "percent", "expected"),
    [
        (D(600_000), D(50), D("300000.00")),
        (D("333333.33"), D(30), D("100000.00")),  # 99,999.999 → 100,000.00
        (D(0), D(50), D("0.00")),
    ],
    ids=["50-percent", "rounding", "zero"],
)
def test_limit_by_liquidation_value(liquidation_value: Decimal, percent: Decimal, expected: Decimal) -> None:
    assert limit_by_liquidation_value(liquidation_value, LimitPolicy(liquidation_value_percent=percent)) == expected


def test_negative_liquidation_value_is_rejected() -> None:
    with pytest.raises(DomainRuleViolation, match="liquidation_value"):
        limit_by_liquidation_value(D(-1))


@pytest.mark.parametrize(
    ("statement", "cap"),
    [
        (WC_BINDS, D("500000.00")),
        (NET_ASSETS_BIND, D("300000.00")),
        (NEGATIVE_WC, D("0.00")),
        (ZERO_WC, D("0.00")),
        (NEGATIVE_NET_ASSETS, D("0.00")),
    ],
    ids=["working-capital-binds", "net-assets-bind", "negative-wc", "zero-wc", "negative-net-assets"],
)
def test_limit_cap(statement: FinancialStatement, cap: Decimal) -> None:
    assert limit_cap(statement) == cap


@pytest.mark.parametrize(
    ("grade", "statement", "policy", "liquidation_value", "figures", "recommended", "method"),
    [
        # A: 1,000,000 → capped 500,000; 20 % × 500,000 = 100,000; 50 % × 600,000 = 300,000 → 100,000 (WC).
        (
            Grade.A,
            WC_BINDS,
            LimitPolicy(),
            D(600_000),
            [
                ("by_grade", "1000000.00", "500000.00"),
                ("working_capital", "100000.00", "100000.00"),
                ("liquidation_value", "300000.00", "300000.00"),
            ],
            D("100000.00"),
            LimitMethod.WORKING_CAPITAL,
        ),
        # C: 200,000; WC 100 % × 500,000 = 500,000; liquidation 50 % × 1,000,000 = 500,000 → 200,000 by grade.
        (
            Grade.C,
            WC_BINDS,
            LimitPolicy(working_capital_percent=D(100)),
            D(1_000_000),
            [
                ("by_grade", "200000.00", "200000.00"),
                ("working_capital", "500000.00", "500000.00"),
                ("liquidation_value", "500000.00", "500000.00"),
            ],
            D("200000.00"),
            LimitMethod.BY_GRADE,
        ),
        # Net assets bind at 300,000: every figure above it is cut to 300,000; ties go to the first (by grade).
        (
            Grade.B,
            NET_ASSETS_BIND,
            LimitPolicy(working_capital_percent=D(100)),
            D(1_000_000),
            [
                ("by_grade", "500000.00", "300000.00"),
                ("working_capital", "700000.00", "300000.00"),
                ("liquidation_value", "500000.00", "300000.00"),
            ],
            D("300000.00"),
            LimitMethod.BY_GRADE,
        ),
        # No liquidation value given: that method is left out. 20 % × 700,000 = 140,000 under the 300,000 cap.
        (
            Grade.A,
            NET_ASSETS_BIND,
            LimitPolicy(),
            None,
            [("by_grade", "1000000.00", "300000.00"), ("working_capital", "140000.00", "140000.00")],
            D("140000.00"),
            LimitMethod.WORKING_CAPITAL,
        ),
        # Negative working capital: the cap is 0, so everything is 0.
        (
            Grade.A,
            NEGATIVE_WC,
            LimitPolicy(),
            D(600_000),
            [
                ("by_grade", "1000000.00", "0.00"),
                ("working_capital", "0.00", "0.00"),
                ("liquidation_value", "300000.00", "0.00"),
            ],
            D("0.00"),
            LimitMethod.BY_GRADE,
        ),
        # Grade D: 0 by grade.
        (
            Grade.D,
            WC_BINDS,
            LimitPolicy(),
            None,
            [("by_grade", "0.00", "0.00"), ("working_capital", "100000.00", "100000.00")],
            D("0.00"),
            LimitMethod.BY_GRADE,
        ),
    ],
    ids=["wc-method-lowest", "grade-lowest", "net-assets-cap-tie", "no-liquidation-value", "negative-wc", "grade-D"],
)
def test_recommend_limit(
    grade: Grade,
    statement: FinancialStatement,
    policy: LimitPolicy,
    liquidation_value: Decimal | None,
    figures: list[tuple[str, str, str]],
    recommended: Decimal,
    method: LimitMethod,
) -> None:
    result = recommend_limit(grade, statement, policy, liquidation_value)
    assert [(f.method.value, str(f.computed), str(f.capped)) for f in result.figures] == figures
    assert (result.recommended, result.recommended_method) == (recommended, method)
    assert result.cap == limit_cap(statement)


def test_recommendation_shows_caps() -> None:
    result = recommend_limit(Grade.A, NET_ASSETS_BIND)
    assert (result.working_capital, result.net_assets, result.cap) == (
        D("700000.00"),
        D("300000.00"),
        D("300000.00"),
    )


@pytest.mark.parametrize(
    ("build", "fields"),
    [
        (lambda: GradeLimitRule(), ["grade_limit"]),
        (lambda: GradeLimitRule(amount=D(1), monthly_sales_multiple=D(1)), ["grade_limit"]),
        (lambda: GradeLimitRule(amount=D(-1)), ["grade_limit.amount"]),
        (lambda: LimitPolicy(working_capital_percent=D(0)), ["working_capital_percent"]),
        (lambda: LimitPolicy(liquidation_value_percent=D(101)), ["liquidation_value_percent"]),
        (
            lambda: LimitPolicy(grade_rules={Grade.A: GradeLimitRule(amount=D(1))}),
            ["grade_rules.B", "grade_rules.C", "grade_rules.D"],
        ),
    ],
    ids=[
        "rule-neither",
        "rule-both",
        "rule-negative",
        "wc-percent-zero",
        "liquidation-percent-above-100",
        "grades-missing",
    ],
)
def test_invalid_limit_policy(build: Callable[[], object], fields: list[str]) -> None:
    with pytest.raises(DomainRuleViolation) as raised:
        build()
    assert [e["field"] for e in raised.value.errors] == fields


@pytest.mark.parametrize(
    ("amount", "recommended", "above"),
    [
        (D("250000"), D("100000.00"), True),
        (D("50000.005"), D("100000.00"), False),  # rounds half up to 50,000.01
        (D(0), None, False),  # 0 is a legal limit (e.g. cash only)
    ],
    ids=["above-recommended", "below-recommended", "zero"],
)
def test_override_limit(amount: Decimal, recommended: Decimal | None, above: bool) -> None:
    override = override_limit(amount, " key account, parent guarantee ", "alice", "bob", D("100000.00"), recommended)
    assert override.amount == amount.quantize(D("0.01"), rounding=ROUND_HALF_UP)
    assert override.reason == "key account, parent guarantee"
    assert (override.requested_by, override.approved_by) == ("alice", "bob")
    assert override.above_recommended is above


@pytest.mark.parametrize(
    ("amount", "reason", "requested_by", "approved_by", "fields"),
    [
        (D(-1), "reason", "alice", "bob", ["amount"]),
        (D(1), "   ", "alice", "bob", ["reason"]),
        (D(1), "reason", "", "bob", ["requested_by"]),
        (D(1), "reason", "alice", " ", ["approved_by"]),
        (D(-1), "", "alice", "bob", ["amount", "reason"]),
    ],
    ids=["negative", "no-reason", "no-requester", "no-approver", "several"],
)
def test_override_rejects_bad_input(
    amount: Decimal, reason: str, requested_by: str, approved_by: str, fields: list[str]
) -> None:
    with pytest.raises(DomainRuleViolation) as raised:
        override_limit(amount, reason, requested_by, approved_by)
    assert [e["field"] for e in raised.value.errors] == fields


@pytest.mark.parametrize(
    ("amount", "net_assets", "working_capital", "cap", "basis"),
    [
        (D("5000000"), D("150000"), D("400000"), None, "net assets"),  # the reported case
        (D("150000.00"), D("150000"), D("400000"), D("150000.00"), None),  # exactly at the cap
        (D("150000.01"), D("150000"), D("400000"), None, "net assets"),
        (D("300000"), D("900000"), D("250000"), None, "working capital"),
        (D("1"), D("-5"), D("100"), None, "net assets"),  # negative net assets: no credit at all
        (D("5000000"), None, None, D("5000000.00"), None),  # never assessed: no statement to cap by
    ],
    ids=["net-assets", "at-cap", "cent-over", "working-capital", "negative-equity", "no-statement"],
)
def test_override_is_capped_by_net_assets_and_working_capital(
    amount: Decimal, net_assets: Decimal | None, working_capital: Decimal | None, cap: Decimal | None, basis: str | None
) -> None:
    def run() -> Decimal:
        override = override_limit(amount, "r", "alice", "bob", net_assets=net_assets, working_capital=working_capital)
        return override.amount

    if basis is None:
        assert run() == cap
    else:
        with pytest.raises(OverrideAboveCap) as raised:
            run()
        assert raised.value.status == 422 and raised.value.errors[0]["field"] == "amount"
        assert basis in raised.value.detail and raised.value.extensions["cap_basis"] == basis.replace(" ", "_")


@pytest.mark.parametrize(
    ("requested_by", "approved_by"),
    [("alice", "alice"), ("Alice", " alice "), ("BOB@example.com", "bob@example.com")],
    ids=["same", "case-and-space", "email-case"],
)
def test_override_approved_by_requester_is_refused(requested_by: str, approved_by: str) -> None:
    with pytest.raises(SelfApprovedOverride) as raised:
        override_limit(D(1000), "reason", requested_by, approved_by)
    assert raised.value.status == 422
    assert raised.value.errors == [{"field": "approved_by", "message": "must differ from requested_by"}]


def test_cancel_limit_sets_zero_with_a_reason() -> None:
    cancellation = cancel_limit("  arrears marked malicious ", D("300000.00"))
    assert (cancellation.credit_limit, cancellation.previous_limit) == (D("0.00"), D("300000.00"))
    assert cancellation.reason == "arrears marked malicious"
    with pytest.raises(DomainRuleViolation) as raised:
        cancel_limit("   ", D("1.00"))
    assert [e["field"] for e in raised.value.errors] == ["reason"]
