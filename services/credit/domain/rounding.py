"""Rounding and validation helpers shared by the credit rules; every rounding is ROUND_HALF_UP."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from shared.errors import DomainRuleViolation

CENT = Decimal("0.01")
HUNDRED = Decimal(100)


def money(amount: Decimal) -> Decimal:
    """Round an amount to 2 dp, ROUND_HALF_UP."""
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


def round_places(value: Decimal, places: int) -> Decimal:
    """Round ``value`` to ``places`` decimal places, ROUND_HALF_UP."""
    return value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def field_error(field: str, message: str) -> dict[str, Any]:
    """One entry of DomainRuleViolation.errors."""
    return {"field": field, "message": message}


def rule_violation(errors: list[dict[str, Any]]) -> DomainRuleViolation:
    """One DomainRuleViolation whose detail joins every field error."""
    return DomainRuleViolation("; ".join(f"{e['field']}: {e['message']}" for e in errors), errors=errors)


def raise_if_any(errors: list[dict[str, Any]]) -> None:
    """Raise one DomainRuleViolation listing every collected field error, if there is any."""
    if errors:
        raise rule_violation(errors)
