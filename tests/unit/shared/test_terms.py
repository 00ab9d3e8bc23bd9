"""Credit terms: parsing, canonical printing, discount windows and the cost of forgoing a discount."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from shared.errors import DomainRuleViolation
from shared.terms import (
    CreditTerms,
    DiscountTier,
    InvalidCreditTerms,
    cost_of_forgoing,
    parse_terms,
    quote,
)

D = Decimal


@pytest.mark.parametrize(
    ("text", "discounts", "net_days", "canonical"),
    [
        ("n/30", (), 30, "n/30"),
        ("net 30", (), 30, "n/30"),
        ("NET30", (), 30, "n/30"),
        ("Net/45", (), 45, "n/45"),
        ("2/10, n/30", ((D(2), 10),), 30, "2/10, n/30"),
        ("2/10 n/30", ((D(2), 10),), 30, "2/10, n/30"),
        ("2/10,n/30", ((D(2), 10),), 30, "2/10, n/30"),
        ("  2 / 10 ,  N / 30  ", ((D(2), 10),), 30, "2/10, n/30"),
        ("2/10 net 30", ((D(2), 10),), 30, "2/10, n/30"),
        ("3/10, 2/20, n/30", ((D(3), 10), (D(2), 20)), 30, "3/10, 2/20, n/30"),
        ("1.5/10, n/30", ((D("1.5"), 10),), 30, "1.5/10, n/30"),
        ("2.50/15; n/60", ((D("2.5"), 15),), 60, "2.5/15, n/60"),
        ("10/1, n/365", ((D(10), 1),), 365, "10/1, n/365"),
        ("n/1", (), 1, "n/1"),
        ("2/10，n/30", ((D(2), 10),), 30, "2/10, n/30"),
        ("3/10， 2/20； n／30", ((D(3), 10), (D(2), 20)), 30, "3/10, 2/20, n/30"),
        ("２/１０、n/３０", ((D(2), 10),), 30, "2/10, n/30"),
    ],
    ids=[
        "net-only",
        "net-word",
        "net-no-space-upper",
        "net-slash",
        "one-tier",
        "no-comma",
        "no-space",
        "spaces-and-case",
        "tier-then-net-word",
        "two-tiers",
        "decimal-percent",
        "trailing-zero-semicolon",
        "max-net",
        "min-net",
        "full-width-comma",
        "full-width-punctuation",
        "full-width-digits-enumeration-comma",
    ],
)
def test_parse_valid_terms(
    text: str, discounts: tuple[tuple[Decimal, int], ...], net_days: int, canonical: str
) -> None:
    terms = parse_terms(text)
    assert terms.discounts == tuple(DiscountTier(percent=p, days=d) for p, d in discounts)
    assert terms.net_days == net_days
    assert str(terms) == canonical
    # The canonical print parses back to the same terms.
    assert parse_terms(str(terms)) == terms


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "empty"),
        ("   ", "empty"),
        ("garbage", "'garbage' is not a discount tier"),
        ("2/10, n/thirty", "'n/thirty' is not a discount tier"),
        ("2/10", "net period is missing"),
        ("3/10, 2/20", "net period is missing"),
        ("5/40, n/30", "'5/40' must be shorter than the net period of 30 days"),
        ("2/30, n/30", "'2/30' must be shorter than the net period of 30 days"),
        ("2/10, 3/20, n/30", "later discount tier must give a smaller percent: '2/10' then '3/20'"),
        ("3/20, 2/10, n/30", "strictly increasing days: '3/20' then '2/10'"),
        ("3/10, 2/10, n/30", "strictly increasing days: '3/10' then '2/10'"),
        ("2/10, 2/20, n/30", "smaller percent: '2/10' then '2/20'"),
        ("0/10, n/30", "percent in '0/10' must be greater than 0 and less than 100"),
        ("-2/10, n/30", "percent in '-2/10' must be greater than 0"),
        ("100/10, n/30", "percent in '100/10' must be greater than 0 and less than 100"),
        ("2/0, n/30", "days in '2/0' must be at least 1"),
        ("n/0", "net days must be between 1 and 365, got 0"),
        ("n/-5", "net days must be between 1 and 365, got -5"),
        ("n/366", "net days must be between 1 and 365, got 366"),
        ("2/10, n/30, n/60", "net period is given more than once"),
        ("n/30, 2/10", "the net part 'n/30' must come last"),
        ("2/10, n/30" + " " * 200, "longer than 200 characters"),
    ],
    ids=[
        "empty",
        "blank",
        "garbage",
        "net-not-a-number",
        "missing-net",
        "missing-net-two-tiers",
        "window-longer-than-net",
        "window-equal-to-net",
        "percent-increasing",
        "days-decreasing",
        "days-equal",
        "percent-equal",
        "percent-zero",
        "percent-negative",
        "percent-hundred",
        "discount-days-zero",
        "net-zero",
        "net-negative",
        "net-over-365",
        "duplicate-net",
        "net-not-last",
        "too-long",
    ],
)
def test_parse_rejects_malformed_terms(text: str, message: str) -> None:
    with pytest.raises(InvalidCreditTerms) as raised:
        parse_terms(text)
    error = raised.value
    assert isinstance(error, DomainRuleViolation)
    assert error.status == 422
    assert message in error.detail
    assert error.errors and all(item["field"] == "terms" for item in error.errors)


def test_parse_reports_every_problem_at_once() -> None:
    # '5/40' after '3/10' breaks two rules: 5 % > 3 % (percent must fall) and 40 >= 30 (window longer
    # than the net period) — both are reported in one error.
    with pytest.raises(InvalidCreditTerms) as raised:
        parse_terms("3/10, 5/40, n/30")
    messages = [item["message"] for item in raised.value.errors]
    assert len(messages) == 2
    assert any("shorter than the net period" in m for m in messages)
    assert any("smaller percent" in m for m in messages)


def test_constructing_contradictory_terms_directly_is_rejected() -> None:
    with pytest.raises(InvalidCreditTerms, match="shorter than the net period"):
        CreditTerms(discounts=(DiscountTier(percent=D(5), days=40),), net_days=30)


ISSUE = date(2026, 1, 1)


@pytest.mark.parametrize(
    ("text", "payment_date", "percent"),
    [
        ("2/10, n/30", date(2026, 1, 1), D(2)),  # paid on the issue date
        ("2/10, n/30", date(2026, 1, 11), D(2)),  # day 10: last day of the window, inclusive
        ("2/10, n/30", date(2026, 1, 12), D(0)),  # day 11: window closed
        ("3/10, 2/20, n/30", date(2026, 1, 11), D(3)),  # day 10 earns the best tier
        ("3/10, 2/20, n/30", date(2026, 1, 12), D(2)),  # day 11 falls to the second tier
        ("3/10, 2/20, n/30", date(2026, 1, 21), D(2)),  # day 20: last day of the second tier
        ("3/10, 2/20, n/30", date(2026, 1, 22), D(0)),  # day 21: no discount
        ("n/30", date(2026, 1, 2), D(0)),  # no tiers, no discount
        ("2/10, n/30", date(2025, 12, 20), D(2)),  # paid before issue: still inside the window
    ],
    ids=[
        "issue-day",
        "day-10",
        "day-11",
        "two-tier-day-10",
        "two-tier-day-11",
        "two-tier-day-20",
        "two-tier-day-21",
        "net-only",
        "prepaid",
    ],
)
def test_discount_percent_for_boundary_days(text: str, payment_date: date, percent: Decimal) -> None:
    assert parse_terms(text).discount_percent_for(ISSUE, payment_date) == percent


def test_due_date_and_deadlines() -> None:
    terms = parse_terms("3/10, 2/20, n/30")
    assert terms.due_date(date(2026, 1, 31)) == date(2026, 3, 2)  # 31 Jan + 30 days crosses February
    assert [terms.discount_deadline(tier, ISSUE) for tier in terms.discounts] == [
        date(2026, 1, 11),
        date(2026, 1, 21),
    ]


@pytest.mark.parametrize(
    ("tier", "net_days", "simple_360", "simple_365", "compounded"),
    [
        # d/(1−d) = 0.02/0.98 = 0.0204081633; × 360/20 = 0.367347 → 36.7347 %; × 365/20 = 0.372449;
        # compounded: 1.0204081633^(365/20) − 1 = e^(18.25 × 0.0202027073) − 1 = 0.445853.
        (DiscountTier(D(2), 10), 30, D("36.7347"), D("37.2449"), D("44.5853")),
        # 0.03/0.97 = 0.0309278351; × 18 = 0.556701; × 18.25 = 0.564433;
        # compounded: e^(18.25 × ln 1.0309278351 = 18.25 × 0.0304592075 = 0.5558806) − 1 = 0.743476.
        (DiscountTier(D(3), 10), 30, D("55.6701"), D("56.4433"), D("74.3476")),
        # 0.02/0.98 over 10 extra days: × 36 = 0.734694; × 36.5 = 0.744898;
        # compounded: e^(36.5 × 0.0202027073 = 0.7373988) − 1 = 1.090491 (more than 100 % a year).
        (DiscountTier(D(2), 20), 30, D("73.4694"), D("74.4898"), D("109.0491")),
        # 1/99 = 0.0101010101; × 360/50 = 0.072727; × 365/50 = 0.073737;
        # compounded: e^(7.3 × ln 1.0101010101 = 7.3 × 0.0100503359 = 0.0733675) − 1 = 0.076126.
        (DiscountTier(D(1), 10), 60, D("7.2727"), D("7.3737"), D("7.6126")),
    ],
    ids=["2-10-n30", "3-10-n30", "2-20-n30", "1-10-n60"],
)
def test_cost_of_forgoing_discount(
    tier: DiscountTier, net_days: int, simple_360: Decimal, simple_365: Decimal, compounded: Decimal
) -> None:
    cost = cost_of_forgoing(tier, net_days)
    assert (cost.simple_360_percent, cost.simple_365_percent, cost.compounded_percent) == (
        simple_360,
        simple_365,
        compounded,
    )


@pytest.mark.parametrize(
    ("text", "amount", "payment_date", "percent", "discount", "due", "late", "days_late", "earned"),
    [
        # 10,000.00 × 2 % = 200.00 off on day 7 (product.md example) → 9,800.00.
        ("2/10, n/30", D("10000.00"), date(2026, 1, 8), D(2), D("200.00"), D("9800.00"), False, 0, [True]),
        ("2/10, n/30", D("10000.00"), date(2026, 1, 11), D(2), D("200.00"), D("9800.00"), False, 0, [True]),
        ("2/10, n/30", D("10000.00"), date(2026, 1, 12), D(0), D("0.00"), D("10000.00"), False, 0, [False]),
        # Day 30 is the net due date itself: not late. Day 31: one day late.
        ("2/10, n/30", D("10000.00"), date(2026, 1, 31), D(0), D("0.00"), D("10000.00"), False, 0, [False]),
        ("2/10, n/30", D("10000.00"), date(2026, 2, 1), D(0), D("0.00"), D("10000.00"), True, 1, [False]),
        # 1,234.55 × 1.5 % = 18.51825 → 18.52 (half up); 1,234.55 − 18.52 = 1,216.03.
        (
            "1.5/10, n/30",
            D("1234.55"),
            date(2026, 1, 5),
            D("1.5"),
            D("18.52"),
            D("1216.03"),
            False,
            0,
            [True],
        ),
        # 0.30 × 2.5 % = 0.0075 → 0.01 (half up, not banker's 0.00).
        ("2.5/10, n/30", D("0.30"), date(2026, 1, 5), D("2.5"), D("0.01"), D("0.29"), False, 0, [True]),
        # Day 15 of 3/10, 2/20: second tier, 5,000 × 2 % = 100.
        (
            "3/10, 2/20, n/30",
            D("5000"),
            date(2026, 1, 16),
            D(2),
            D("100.00"),
            D("4900.00"),
            False,
            0,
            [False, True],
        ),
    ],
    ids=[
        "day-7",
        "day-10-boundary",
        "day-11-boundary",
        "net-day",
        "one-day-late",
        "decimal-percent-rounding",
        "half-up-cent",
        "second-tier",
    ],
)
def test_quote(
    text: str,
    amount: Decimal,
    payment_date: date,
    percent: Decimal,
    discount: Decimal,
    due: Decimal,
    late: bool,
    days_late: int,
    earned: list[bool],
) -> None:
    terms = parse_terms(text)
    result = quote(terms, amount, ISSUE, payment_date)
    assert result.discount_percent == percent
    assert result.discount_amount == discount
    assert result.amount_due == due
    assert result.net_due_date == date(2026, 1, 31)
    assert (result.is_late, result.days_late) == (late, days_late)
    assert [tier.earned for tier in result.tiers] == earned
    assert [tier.deadline for tier in result.tiers] == [
        terms.discount_deadline(tier.tier, ISSUE) for tier in result.tiers
    ]


def test_quote_carries_cost_of_forgoing_each_tier() -> None:
    result = quote(parse_terms("2/10, n/30"), D("10000"), ISSUE, date(2026, 1, 20))
    cost = result.tiers[0].cost_of_forgoing
    # The issue's check: 36.73 %, 37.24 %, 44.59 % when rounded to 2 dp.
    assert cost.simple_360_percent.quantize(D("0.01")) == D("36.73")
    assert cost.simple_365_percent.quantize(D("0.01")) == D("37.24")
    assert cost.compounded_percent.quantize(D("0.01")) == D("44.59")
    assert result.amount == D("10000.00")


@pytest.mark.parametrize(
    ("amount", "payment_date", "field"),
    [
        (D(0), date(2026, 1, 5), "amount"),
        (D("-1.00"), date(2026, 1, 5), "amount"),
        (D(100), date(2025, 12, 31), "payment_date"),
    ],
    ids=["zero-amount", "negative-amount", "paid-before-issue"],
)
def test_quote_rejects_bad_input(amount: Decimal, payment_date: date, field: str) -> None:
    with pytest.raises(DomainRuleViolation) as raised:
        quote(parse_terms("2/10, n/30"), amount, ISSUE, payment_date)
    assert [item["field"] for item in raised.value.errors] == [field]
