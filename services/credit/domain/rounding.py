"""Rounding of credit ratios and scores to a number of places; every rounding is ROUND_HALF_UP.

Money is rounded to cents by ``shared.money.to_cents``; field errors are collected with ``shared.errors``.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

HUNDRED = Decimal(100)


def round_places(value: Decimal, places: int) -> Decimal:
    """Round ``value`` to ``places`` decimal places, ROUND_HALF_UP."""
    return value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
