"""Shares and rates are reported as fractions (0.8 = 80 %) to four places, i.e. 0.01 %, half up."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

RATIO_PLACES = Decimal("0.0001")


def to_ratio(value: Decimal) -> Decimal:
    """Round a fraction to four places (0.01 %), half up."""
    return value.quantize(RATIO_PLACES, rounding=ROUND_HALF_UP)
