"""DSO by the simple ratio and by the countback method; customer and portfolio use the same functions."""

from __future__ import annotations

from decimal import Decimal

import pytest

from services.credit.domain.dso import DsoMethod, SalesPeriod, countback_dso, simple_dso
from shared.errors import DomainRuleViolation

D = Decimal


@pytest.mark.parametrize(
    ("receivables", "credit_sales", "days", "expected"),
    [
        (D(100_000), D(150_000), 90, D("60.00")),  # 100,000 / 150,000 × 90
        (D(30_000), D(90_000), 90, D("30.00")),  # customer A
        (D(70_000), D(60_000), 90, D("105.00")),  # customer B: owes more than a quarter's sales
        # Portfolio = A + B: (30,000 + 70,000) / (90,000 + 60,000) × 90 = 60.00 — the same function.
        (D(30_000) + D(70_000), D(90_000) + D(60_000), 90, D("60.00")),
        (D(50_000), D(180_000), 365, D("101.39")),  # 101.3888… → half up
        (D(0), D(0), 30, D("0.00")),  # nothing sold, nothing owed
        (D(0), D(10_000), 30, D("0.00")),
    ],
    ids=["quarter", "customer-A", "customer-B", "portfolio", "rounding", "no-sales-no-debt", "no-debt"],
)
def test_simple_dso(receivables: Decimal, credit_sales: Decimal, days: int, expected: Decimal) -> None:
    result = simple_dso(receivables, credit_sales, days)
    assert (result.method, result.days, result.complete) == (DsoMethod.SIMPLE, expected, True)


@pytest.mark.parametrize(
    ("receivables", "credit_sales", "days", "fields"),
    [
        (D(1), D(0), 30, ["credit_sales"]),
        (D(-1), D(100), 30, ["receivables"]),
        (D(1), D(-100), 30, ["credit_sales"]),
        (D(1), D(100), 0, ["days_in_period"]),
    ],
    ids=["debt-without-sales", "negative-receivables", "negative-sales", "zero-days"],
)
def test_simple_dso_rejects(receivables: Decimal, credit_sales: Decimal, days: int, fields: list[str]) -> None:
    with pytest.raises(DomainRuleViolation) as raised:
        simple_dso(receivables, credit_sales, days)
    assert [e["field"] for e in raised.value.errors] == fields


MAR_FEB_JAN_2026 = [
    SalesPeriod.calendar_month(2026, 3, D(60_000)),  # 31 days
    SalesPeriod.calendar_month(2026, 2, D(50_000)),  # 28 days
    SalesPeriod.calendar_month(2026, 1, D(40_000)),  # 31 days
]


@pytest.mark.parametrize(
    ("receivables", "periods", "days", "complete"),
    [
        # 100,000: March absorbs 60,000 (31 days), 40,000 left is 40,000/50,000 of February's 28 days = 22.4
        # → 31 + 22.4 = 53.40.
        (D(100_000), MAR_FEB_JAN_2026, D("53.40"), True),
        (D(60_000), MAR_FEB_JAN_2026, D("31.00"), True),  # exactly March
        (D(30_000), MAR_FEB_JAN_2026, D("15.50"), True),  # half of March
        (D(20_000), MAR_FEB_JAN_2026, D("10.33"), True),  # a third of 31 = 10.333…
        (D(150_000), MAR_FEB_JAN_2026, D("90.00"), True),  # the whole history, exactly
        (D(200_000), MAR_FEB_JAN_2026, D("90.00"), False),  # more than the history: lower bound
        (D(0), MAR_FEB_JAN_2026, D("0.00"), True),
        (D(1), [], D("0.00"), False),
        # A month without sales adds its days and the walk goes on: 31 + 25,000/50,000 × 28 = 45.00.
        (
            D(25_000),
            [SalesPeriod.calendar_month(2026, 3, D(0)), SalesPeriod.calendar_month(2026, 2, D(50_000))],
            D("45.00"),
            True,
        ),
        # Leap February has 29 days: 31 + 20,000/50,000 × 29 = 31 + 11.6 = 42.60.
        (
            D(80_000),
            [SalesPeriod.calendar_month(2024, 3, D(60_000)), SalesPeriod.calendar_month(2024, 2, D(50_000))],
            D("42.60"),
            True,
        ),
    ],
    ids=[
        "worked-example",
        "exactly-one-month",
        "half-month",
        "third-month",
        "whole-history",
        "history-too-short",
        "no-debt",
        "no-history",
        "month-without-sales",
        "leap-february",
    ],
)
def test_countback_dso(receivables: Decimal, periods: list[SalesPeriod], days: Decimal, complete: bool) -> None:
    result = countback_dso(receivables, periods)
    assert (result.method, result.days, result.complete) == (DsoMethod.COUNTBACK, days, complete)


@pytest.mark.parametrize(
    ("year", "month", "days"),
    [(2026, 1, 31), (2026, 2, 28), (2024, 2, 29), (2026, 4, 30)],
    ids=["jan", "feb", "leap-feb", "apr"],
)
def test_calendar_month_length(year: int, month: int, days: int) -> None:
    assert SalesPeriod.calendar_month(year, month, D(1)).days == days


@pytest.mark.parametrize(
    ("days", "sales", "fields"),
    [(0, D(1), ["days"]), (30, D(-1), ["credit_sales"])],
    ids=["zero-days", "negative-sales"],
)
def test_invalid_sales_period(days: int, sales: Decimal, fields: list[str]) -> None:
    with pytest.raises(DomainRuleViolation) as raised:
        SalesPeriod(days, sales)
    assert [e["field"] for e in raised.value.errors] == fields


def test_countback_rejects_negative_receivables() -> None:
    with pytest.raises(DomainRuleViolation):
        countback_dso(D(-1), MAR_FEB_JAN_2026)
