"""Input checks on amounts shared by the collections rules (cent rounding is ``shared.money.to_cents``)."""

from __future__ import annotations

from decimal import Decimal

from shared.errors import DomainRuleViolation


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
