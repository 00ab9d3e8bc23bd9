"""Money helpers shared by the collections rules: explicit cent rounding and input checks."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from shared.errors import DomainRuleViolation

CENT = Decimal("0.01")
ZERO = Decimal("0")


def to_cents(value: Decimal) -> Decimal:
    """Round a money value to 2 places, half up (the suite's rounding rule for money)."""
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def require_non_negative(value: Decimal, field: str) -> None:
    """Raise DomainRuleViolation when ``value`` is negative."""
    if value < 0:
        raise DomainRuleViolation(
            f"{field} must not be negative", errors=[{"field": field, "message": f"{value} is negative"}]
        )


def require_positive(value: Decimal, field: str) -> None:
    """Raise DomainRuleViolation when ``value`` is zero or negative."""
    if value <= 0:
        raise DomainRuleViolation(
            f"{field} must be greater than zero",
            errors=[{"field": field, "message": f"{value} is not greater than zero"}],
        )
