"""Exact arithmetic inside, four decimal places outside.

Scores are computed with ``fractions.Fraction`` so that means over any number of respondents stay
exact (no decimal context, no intermediate rounding). Only the values handed out are rounded:
to 4 decimal places, ROUND_HALF_UP (halves away from zero: 0.00005 → 0.0001, −0.00005 → −0.0001).
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from fractions import Fraction

PRESENTATION_PLACES = 4

Exact = Fraction | Decimal | int


def exact(value: Exact) -> Fraction:
    """``value`` as an exact fraction (a Decimal converts without loss)."""
    return Fraction(value)


def mean(values: Iterable[Exact]) -> Fraction:
    """Exact arithmetic mean of a non-empty collection."""
    fractions = [exact(value) for value in values]
    if not fractions:
        raise ValueError("mean of no values")
    return sum(fractions, Fraction(0)) / len(fractions)


def present(value: Exact) -> Decimal:
    """``value`` rounded to 4 decimal places, ROUND_HALF_UP, as a Decimal with exponent −4."""
    fraction = exact(value)
    scale = 10**PRESENTATION_PLACES
    quotient, remainder = divmod(abs(fraction.numerator) * scale, fraction.denominator)
    if 2 * remainder >= fraction.denominator:
        quotient += 1
    signed = -quotient if fraction < 0 else quotient
    return Decimal(signed).scaleb(-PRESENTATION_PLACES)
