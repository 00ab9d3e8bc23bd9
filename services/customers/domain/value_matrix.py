"""The customer value matrix: current value (last 12 months' margin) × future value → classes A–F."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from shared.errors import FieldErrors
from shared.money import to_cents


class ValueLevel(StrEnum):
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"


class ValueClass(StrEnum):
    A = "A"
    B = "B"
    C = "C"
    D = "D"
    E = "E"
    F = "F"


# The full grid: current value has two levels, future value three; (current, future) → class.
VALUE_MATRIX: Mapping[tuple[ValueLevel, ValueLevel], ValueClass] = {
    (ValueLevel.HIGH, ValueLevel.HIGH): ValueClass.A,
    (ValueLevel.HIGH, ValueLevel.MEDIUM): ValueClass.C,
    (ValueLevel.HIGH, ValueLevel.LOW): ValueClass.D,
    (ValueLevel.LOW, ValueLevel.HIGH): ValueClass.B,
    (ValueLevel.LOW, ValueLevel.MEDIUM): ValueClass.E,
    (ValueLevel.LOW, ValueLevel.LOW): ValueClass.F,
}

STRATEGIES: Mapping[ValueClass, str] = {
    ValueClass.A: "Retain at all cost: first priority for service, resources and key-account care.",
    ValueClass.B: "Invest: develop the relationship so the expected future value is realised.",
    ValueClass.C: "Core customer: keep and grow the share of its business.",
    ValueClass.D: "Life cycle ending: reduce investment and harvest the current margin.",
    ValueClass.E: "Low grade: reduce service cost and investment.",
    ValueClass.F: "Unattractive: divest, or serve only at minimum cost.",
}


@dataclass(frozen=True)
class ValueMatrixCuts:
    """Money thresholds (same currency as the values): a value at or above a threshold reaches that level."""

    current_high_from: Decimal
    future_high_from: Decimal
    future_medium_from: Decimal

    def __post_init__(self) -> None:
        errors = FieldErrors()
        usable = [
            errors.require_finite(getattr(self, name), name)
            for name in ("current_high_from", "future_high_from", "future_medium_from")
        ]
        if all(usable):
            errors.check(self.current_high_from > 0, "current_high_from", "must be positive")
            errors.check(self.future_medium_from > 0, "future_medium_from", "must be positive")
            errors.check(
                self.future_high_from > self.future_medium_from,
                "future_high_from",
                "must be greater than future_medium_from",
            )
        errors.raise_if_any("Invalid value matrix cut points")


@dataclass(frozen=True)
class ValuePlacement:
    current_level: ValueLevel  # HIGH or LOW
    future_level: ValueLevel  # HIGH, MEDIUM or LOW
    value_class: ValueClass
    strategy: str


@dataclass(frozen=True)
class CustomerValue:
    customer_id: str
    current_value: Decimal  # margin of the last 12 months
    future_value: Decimal  # expected margin, e.g. from ``future_value``


@dataclass(frozen=True)
class ValueMatrixEntry:
    customer_id: str
    current_value: Decimal
    future_value: Decimal
    placement: ValuePlacement


@dataclass(frozen=True)
class ValueMatrixResult:
    entries: tuple[ValueMatrixEntry, ...]  # in customer id order
    counts: Mapping[ValueClass, int]  # every class present, zero included


def classify_value(current_value: Decimal, future_value: Decimal, cuts: ValueMatrixCuts) -> ValuePlacement:
    """Place one customer in the matrix (thresholds are inclusive: equal to the cut reaches the level)."""
    current_level = ValueLevel.HIGH if current_value >= cuts.current_high_from else ValueLevel.LOW
    if future_value >= cuts.future_high_from:
        future_level = ValueLevel.HIGH
    elif future_value >= cuts.future_medium_from:
        future_level = ValueLevel.MEDIUM
    else:
        future_level = ValueLevel.LOW
    value_class = VALUE_MATRIX[(current_level, future_level)]
    return ValuePlacement(current_level, future_level, value_class, STRATEGIES[value_class])


def value_matrix(customers: Iterable[CustomerValue], cuts: ValueMatrixCuts) -> ValueMatrixResult:
    """Classify every customer; rejects NaN/Infinity values and duplicate ids."""
    rows = sorted(customers, key=lambda row: row.customer_id)
    errors = FieldErrors()
    for index, row in enumerate(rows):
        errors.require_finite(row.current_value, f"customers[{index}].current_value")
        errors.require_finite(row.future_value, f"customers[{index}].future_value")
        if index and rows[index - 1].customer_id == row.customer_id:
            errors.add(f"customers[{index}].customer_id", f"customer {row.customer_id} appears more than once")
    errors.raise_if_any("Invalid customer values")
    entries = tuple(
        ValueMatrixEntry(
            row.customer_id,
            row.current_value,
            row.future_value,
            classify_value(row.current_value, row.future_value, cuts),
        )
        for row in rows
    )
    counts = {value_class: 0 for value_class in ValueClass}
    for entry in entries:
        counts[entry.placement.value_class] += 1
    return ValueMatrixResult(entries, counts)


def future_value(
    current_margin: Decimal,
    growth_rate: Decimal,
    retention_rate: Decimal,
    years: int,
    discount_rate: Decimal = Decimal(0),
) -> Decimal:
    """Expected margin over the next ``years``: Σ_{t=1..years} m·(1+g)^t·r^t / (1+d)^t, rounded to cents.

    m is this year's margin, g the yearly margin growth, r the probability a customer stays one
    more year, d an optional discount rate (0 = undiscounted, as the matrix usually compares
    nominal margins). Example: m = 1000, g = 0.10, r = 0.80, 2 years → 880 + 774.40 = 1654.40.
    """
    errors = FieldErrors()
    values = {
        "current_margin": current_margin,
        "growth_rate": growth_rate,
        "retention_rate": retention_rate,
        "discount_rate": discount_rate,
    }
    if all([errors.require_finite(value, name) for name, value in values.items()]):
        errors.check(growth_rate > -1, "growth_rate", "must be greater than -1 (-100 %)")
        errors.check(0 <= retention_rate <= 1, "retention_rate", "must be between 0 and 1")
        errors.check(discount_rate >= 0, "discount_rate", "must not be negative")
    errors.check(1 <= years <= 100, "years", "must be between 1 and 100")
    errors.raise_if_any("Invalid future value inputs")
    yearly_factor = (1 + growth_rate) * retention_rate / (1 + discount_rate)
    total = sum((current_margin * yearly_factor**year for year in range(1, years + 1)), Decimal(0))
    return to_cents(total)
