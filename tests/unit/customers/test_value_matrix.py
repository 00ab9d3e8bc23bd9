"""Value matrix: every cell of the 2 × 3 grid, threshold boundaries, cut validation, future value."""

from __future__ import annotations

from decimal import Decimal

import pytest

from services.customers.domain.value_matrix import (
    STRATEGIES,
    VALUE_MATRIX,
    CustomerValue,
    ValueClass,
    ValueLevel,
    ValueMatrixCuts,
    classify_value,
    future_value,
    value_matrix,
)
from shared.errors import DomainRuleViolation

HIGH, MEDIUM, LOW = ValueLevel.HIGH, ValueLevel.MEDIUM, ValueLevel.LOW
CUTS = ValueMatrixCuts(current_high_from=Decimal(1000), future_high_from=Decimal(2000), future_medium_from=Decimal(500))


@pytest.mark.parametrize(
    ("current", "future", "levels", "value_class", "strategy_word"),
    [
        ("1000", "2000", (HIGH, HIGH), ValueClass.A, "Retain at all cost"),  # both exactly at the cut
        ("999.99", "2000", (LOW, HIGH), ValueClass.B, "Invest"),
        ("1000", "1999.99", (HIGH, MEDIUM), ValueClass.C, "Core"),
        ("5000", "500", (HIGH, MEDIUM), ValueClass.C, "Core"),  # medium starts at its cut
        ("1000", "499.99", (HIGH, LOW), ValueClass.D, "Life cycle ending"),
        ("999.99", "500", (LOW, MEDIUM), ValueClass.E, "Low grade"),
        ("999.99", "499.99", (LOW, LOW), ValueClass.F, "Unattractive"),
        ("-250", "-10", (LOW, LOW), ValueClass.F, "Unattractive"),  # loss-making customer
    ],
    ids=[
        "A-high-high",
        "B-low-high",
        "C-high-medium",
        "C-medium-at-cut",
        "D-high-low",
        "E-low-medium",
        "F-low-low",
        "F-negative",
    ],
)
def test_every_cell(
    current: str, future: str, levels: tuple[ValueLevel, ValueLevel], value_class: ValueClass, strategy_word: str
) -> None:
    placement = classify_value(Decimal(current), Decimal(future), CUTS)
    assert (placement.current_level, placement.future_level) == levels
    assert placement.value_class is value_class
    assert strategy_word in placement.strategy


def test_grid_covers_every_combination_once() -> None:
    assert set(VALUE_MATRIX) == {(c, f) for c in (HIGH, LOW) for f in (HIGH, MEDIUM, LOW)}
    assert sorted(VALUE_MATRIX.values()) == sorted(ValueClass)
    assert set(STRATEGIES) == set(ValueClass)


def test_value_matrix_sorts_and_counts() -> None:
    result = value_matrix(
        [
            CustomerValue("c2", Decimal(100), Decimal(100)),
            CustomerValue("c1", Decimal(3000), Decimal(9000)),
            CustomerValue("c3", Decimal(50), Decimal(60)),
        ],
        CUTS,
    )
    assert [(e.customer_id, e.placement.value_class) for e in result.entries] == [
        ("c1", ValueClass.A),
        ("c2", ValueClass.F),
        ("c3", ValueClass.F),
    ]
    assert result.counts == {
        ValueClass.A: 1,
        ValueClass.B: 0,
        ValueClass.C: 0,
        ValueClass.D: 0,
        ValueClass.E: 0,
        ValueClass.F: 2,
    }


@pytest.mark.parametrize(
    ("rows", "field"),
    [
        ([CustomerValue("c1", Decimal("NaN"), Decimal(1))], "customers[0].current_value"),
        ([CustomerValue("c1", Decimal(1), Decimal("Infinity"))], "customers[0].future_value"),
        (
            [CustomerValue("c1", Decimal(1), Decimal(1)), CustomerValue("c1", Decimal(2), Decimal(2))],
            "customers[1].customer_id",
        ),
    ],
    ids=["nan-current", "infinite-future", "duplicate"],
)
def test_invalid_customer_values(rows: list[CustomerValue], field: str) -> None:
    with pytest.raises(DomainRuleViolation) as raised:
        value_matrix(rows, CUTS)
    assert [error["field"] for error in raised.value.errors] == [field]


@pytest.mark.parametrize(
    ("current_high", "future_high", "future_medium", "field"),
    [
        ("0", "2000", "500", "current_high_from"),
        ("1000", "2000", "0", "future_medium_from"),
        ("1000", "500", "500", "future_high_from"),
        ("1000", "400", "500", "future_high_from"),
        ("NaN", "2000", "500", "current_high_from"),
    ],
    ids=["zero-current", "zero-medium", "high-equals-medium", "high-below-medium", "nan"],
)
def test_invalid_cuts(current_high: str, future_high: str, future_medium: str, field: str) -> None:
    with pytest.raises(DomainRuleViolation) as raised:
        ValueMatrixCuts(Decimal(current_high), Decimal(future_high), Decimal(future_medium))
    assert field in [error["field"] for error in raised.value.errors]


@pytest.mark.parametrize(
    ("margin", "growth", "retention", "years", "discount", "expected"),
    [
        # 1000 × 1.1 × 0.8 = 880; 880 × 0.88 = 774.40; total 1654.40.
        ("1000", "0.10", "0.80", 2, "0", "1654.40"),
        ("1000", "0.10", "0.80", 1, "0", "880.00"),
        # Discounted at 10 %: yearly factor 0.88 / 1.1 = 0.8 → 800 + 640 = 1440.00.
        ("1000", "0.10", "0.80", 2, "0.10", "1440.00"),
        ("1000", "0", "1", 3, "0", "3000.00"),  # no growth, everyone stays: 3 × 1000
        ("1000", "0.5", "0", 5, "0", "0.00"),  # nobody stays
        # Shrinking margin: 1000 × 0.9 × 0.5 = 450; 450 × 0.45 = 202.50 → 652.50.
        ("1000", "-0.10", "0.50", 2, "0", "652.50"),
        # Rounded once at the end: 100 × (1/3)... 100 × 0.3333 = 33.33, 100 × 0.3333² = 11.108889 → 44.44.
        ("100", "0", "0.3333", 2, "0", "44.44"),
    ],
    ids=["two-years", "one-year", "discounted", "steady", "no-retention", "shrinking", "rounding"],
)
def test_future_value(margin: str, growth: str, retention: str, years: int, discount: str, expected: str) -> None:
    assert future_value(Decimal(margin), Decimal(growth), Decimal(retention), years, Decimal(discount)) == Decimal(
        expected
    )


@pytest.mark.parametrize(
    ("growth", "retention", "years", "discount", "field"),
    [
        ("-1", "0.8", 2, "0", "growth_rate"),
        ("0.1", "1.01", 2, "0", "retention_rate"),
        ("0.1", "-0.01", 2, "0", "retention_rate"),
        ("0.1", "0.8", 0, "0", "years"),
        ("0.1", "0.8", 101, "0", "years"),
        ("0.1", "0.8", 2, "-0.01", "discount_rate"),
        ("NaN", "0.8", 2, "0", "growth_rate"),
    ],
    ids=[
        "growth-minus-100",
        "retention-over-1",
        "negative-retention",
        "zero-years",
        "too-many-years",
        "negative-discount",
        "nan",
    ],
)
def test_future_value_rejects_bad_inputs(growth: str, retention: str, years: int, discount: str, field: str) -> None:
    with pytest.raises(DomainRuleViolation) as raised:
        future_value(Decimal(1000), Decimal(growth), Decimal(retention), years, Decimal(discount))
    assert field in [error["field"] for error in raised.value.errors]
