"""Small helpers shared by the customers domain: error collection and explicit rounding."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from shared.errors import DomainRuleViolation

CENT = Decimal("0.01")
# Shares and rates are reported as fractions (0.8 = 80 %) to four places, i.e. 0.01 %.
RATIO_PLACES = Decimal("0.0001")


def to_cents(amount: Decimal) -> Decimal:
    """Round money to cents, half up."""
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


def to_ratio(value: Decimal) -> Decimal:
    """Round a fraction to four places (0.01 %), half up."""
    return value.quantize(RATIO_PLACES, rounding=ROUND_HALF_UP)


class RuleErrors:
    """Collects every broken rule of one input so the caller gets them all in one 422."""

    def __init__(self) -> None:
        self.errors: list[dict[str, Any]] = []

    def add(self, field: str, message: str) -> None:
        """Record one broken rule on one field."""
        self.errors.append({"field": field, "message": message})

    def check(self, holds: bool, field: str, message: str) -> None:
        """Record a broken rule unless ``holds``."""
        if not holds:
            self.add(field, message)

    def require_finite(self, value: Decimal, field: str) -> bool:
        """Record NaN/Infinity as broken; return whether the value is usable."""
        if not value.is_finite():
            self.add(field, "must be a finite number")
            return False
        return True

    def raise_if_any(self, detail: str) -> None:
        """Raise one DomainRuleViolation listing every collected error."""
        if self.errors:
            raise DomainRuleViolation(detail, errors=list(self.errors))
