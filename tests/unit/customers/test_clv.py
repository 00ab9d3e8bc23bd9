"""Dwyer retention model CLV tables, the retention multiple and the infinite-horizon CLV."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

import pytest

from services.customers.domain.clv import (
    ClvGroupInput,
    dwyer_clv,
    infinite_horizon_clv,
    retention_multiple,
)
from shared.errors import DomainRuleViolation


def d(value: str | int) -> Decimal:
    return Decimal(value)


def group(**overrides: object) -> ClvGroupInput:
    values: dict[str, object] = {
        "group": "east",
        "initial_customers": 1000,
        "revenue_per_customer": d(100),
        "cost_per_customer": d(60),
        "retention_rate": d("0.5"),
        "discount_rate": d("0.1"),
        "horizon_years": 3,
    }
    values.update(overrides)
    return ClvGroupInput(**values)  # type: ignore[arg-type]


def test_constant_rates_worked_example() -> None:
    # By hand (year 1 undiscounted, year t divided by 1.1^(t−1)):
    # year  customers  revenue   cost      profit    factor  NPV        cumulative  per customer
    # 1     1000       100000    60000     40000     1       40000.00   40000.00    40.00
    # 2      500        50000    30000     20000     1.1     18181.82   58181.82    58.18
    # 3      250        25000    15000     10000     1.21     8264.46   66446.28    66.45
    table = dwyer_clv(group())
    rows = [
        (
            y.year,
            y.customers,
            y.revenue,
            y.cost,
            y.profit,
            y.discount_factor,
            y.npv,
            y.cumulative_npv,
            y.cumulative_clv_per_customer,
        )
        for y in table.years
    ]
    assert rows == [
        (1, d("1000.00"), d("100000.00"), d("60000.00"), d("40000.00"), d(1), d("40000.00"), d("40000.00"), d("40.00")),
        (
            2,
            d("500.00"),
            d("50000.00"),
            d("30000.00"),
            d("20000.00"),
            d("1.1"),
            d("18181.82"),
            d("58181.82"),
            d("58.18"),
        ),
        (
            3,
            d("250.00"),
            d("25000.00"),
            d("15000.00"),
            d("10000.00"),
            d("1.21"),
            d("8264.46"),
            d("66446.28"),
            d("66.45"),
        ),
    ]
    assert table.clv_per_customer == d("66.45")
    assert [y.retention_rate for y in table.years] == [d("0.5")] * 3


def test_yearly_rates_worked_example() -> None:
    # 100 customers, i = 20 %, retention 60 % then 50 %:
    # year  customers  revenue/cust  cost/cust  revenue  cost  profit  factor  NPV   cumulative  per customer
    # 1     100        100           80         10000    8000  2000    1       2000  2000        20.00
    # 2      60        120           70          7200    4200  3000    1.2     2500  4500        45.00
    # 3      30        150           60          4500    1800  2700    1.44    1875  6375        63.75
    table = dwyer_clv(
        group(
            initial_customers=100,
            revenue_per_customer=[d(100), d(120), d(150)],
            cost_per_customer=[d(80), d(70), d(60)],
            retention_rate=[d("0.6"), d("0.5")],
            discount_rate=d("0.2"),
        )
    )
    assert [y.customers for y in table.years] == [d("100.00"), d("60.00"), d("30.00")]
    assert [y.npv for y in table.years] == [d("2000.00"), d("2500.00"), d("1875.00")]
    assert [y.cumulative_clv_per_customer for y in table.years] == [d("20.00"), d("45.00"), d("63.75")]
    assert [y.retention_rate for y in table.years] == [d("0.6"), d("0.5"), None]  # last year's not given


def test_npv_rounding_and_cumulative_adds_up() -> None:
    # 1 customer, revenue 100, no cost, r = 0.9, i = 7 %:
    # year 2: 0.9 × 100 = 90 / 1.07 = 84.1121… → 84.11; year 3: 0.81 × 100 = 81 / 1.1449 = 70.7485… → 70.75
    # cumulative 100 + 84.11 + 70.75 = 254.86.
    table = dwyer_clv(
        group(initial_customers=1, cost_per_customer=d(0), retention_rate=d("0.9"), discount_rate=d("0.07"))
    )
    assert [y.npv for y in table.years] == [d("100.00"), d("84.11"), d("70.75")]
    assert table.years[-1].cumulative_npv == sum(y.npv for y in table.years) == d("254.86")
    assert table.clv_per_customer == d("254.86")


def test_single_year_needs_no_retention() -> None:
    table = dwyer_clv(group(horizon_years=1, retention_rate=[]))
    assert [y.npv for y in table.years] == [d("40000.00")]
    assert table.clv_per_customer == d("40.00")


def test_long_horizon_approaches_first_year_plus_infinite_clv() -> None:
    # Table limit per customer = m × (1 + i) / (1 + i − r) = 100 × 1.1 / 0.3 = 366.67 = 100 + 266.67.
    table = dwyer_clv(group(initial_customers=1, cost_per_customer=d(0), retention_rate=d("0.8"), horizon_years=100))
    limit = d(100) + infinite_horizon_clv(d(100), d("0.8"), d("0.1"))
    assert limit == d("366.67")
    assert abs(table.clv_per_customer - limit) <= d("0.05")


@pytest.mark.parametrize(
    ("retention", "discount", "expected"),
    [
        ("0.8", "0.1", "2.667"),  # 0.8 / 0.3
        ("0.5", "0.1", "0.833"),  # 0.5 / 0.6
        ("0", "0.1", "0.000"),
        ("1", "0.1", "10.000"),  # 1 / 0.1
        ("0.9", "0", "9.000"),  # 0.9 / 0.1
    ],
    ids=["textbook", "half", "no-retention", "full-retention", "no-discount"],
)
def test_retention_multiple(retention: str, discount: str, expected: str) -> None:
    assert retention_multiple(d(retention), d(discount)).quantize(d("0.001")) == d(expected)


def test_infinite_horizon_clv() -> None:
    assert infinite_horizon_clv(d(100), d("0.8"), d("0.1")) == d("266.67")  # 100 × 2.6666…


@pytest.mark.parametrize(
    ("retention", "discount", "field"),
    [
        ("1", "0", "retention_rate"),  # 1 + i − r = 0: infinite value
        ("1.2", "0.1", "retention_rate"),
        ("-0.1", "0.1", "retention_rate"),
        ("0.8", "-0.05", "discount_rate"),
        ("NaN", "0.1", "retention_rate"),
    ],
    ids=["infinite", "over-1", "negative", "negative-discount", "nan"],
)
def test_retention_multiple_rejects_bad_rates(retention: str, discount: str, field: str) -> None:
    with pytest.raises(DomainRuleViolation) as raised:
        retention_multiple(d(retention), d(discount))
    assert field in [error["field"] for error in raised.value.errors]


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"horizon_years": 0}, "horizon_years"),
        ({"horizon_years": 101}, "horizon_years"),
        ({"initial_customers": 0}, "initial_customers"),
        ({"discount_rate": d("-0.01")}, "discount_rate"),
        ({"revenue_per_customer": d(-1)}, "revenue_per_customer[0]"),
        ({"cost_per_customer": [d(1), d(2)]}, "cost_per_customer"),
        ({"retention_rate": [d("0.5")]}, "retention_rate"),
        ({"retention_rate": [d("0.5"), d("1.5")]}, "retention_rate[1]"),
        ({"retention_rate": d("NaN")}, "retention_rate[0]"),
    ],
    ids=[
        "zero-horizon",
        "long-horizon",
        "no-customers",
        "negative-discount",
        "negative-revenue",
        "short-cost-list",
        "short-retention-list",
        "retention-over-1",
        "nan-retention",
    ],
)
def test_dwyer_rejects_bad_inputs(overrides: dict[str, object], field: str) -> None:
    with pytest.raises(DomainRuleViolation) as raised:
        dwyer_clv(group(**overrides))
    assert field in [error["field"] for error in raised.value.errors]


def test_retention_list_may_include_the_last_year() -> None:
    rates: Sequence[Decimal] = [d("0.5"), d("0.5"), d("0.4")]
    table = dwyer_clv(group(retention_rate=rates))
    assert table.clv_per_customer == d("66.45")
    assert table.years[-1].retention_rate == d("0.4")
