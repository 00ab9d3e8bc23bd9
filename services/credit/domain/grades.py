"""Credit grades A–D and the score thresholds that separate them."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from shared.errors import field_error, raise_if_any


class Grade(StrEnum):
    """Credit grade, A best; D sells for cash or prepayment only."""

    A = "A"
    B = "B"
    C = "C"
    D = "D"


@dataclass(frozen=True)
class GradeThresholds:
    """Minimum score (inclusive) for A, B and C; anything lower is D. Strictly descending, within 0–100."""

    a: Decimal = Decimal(80)
    b: Decimal = Decimal(65)
    c: Decimal = Decimal(50)

    def __post_init__(self) -> None:
        errors = [
            field_error(f"thresholds.{name}", f"must be between 0 and 100, got {value}")
            for name, value in (("a", self.a), ("b", self.b), ("c", self.c))
            if not 0 <= value <= 100
        ]
        if not self.a > self.b > self.c:
            errors.append(
                field_error("thresholds", f"must be strictly descending A > B > C, got {self.a}, {self.b}, {self.c}")
            )
        raise_if_any(errors)


def grade_for(score: Decimal, thresholds: GradeThresholds | None = None) -> Grade:
    """Grade of a 0–100 score: A at or above ``thresholds.a``, then B, then C, else D."""
    limits = thresholds or GradeThresholds()
    if score >= limits.a:
        return Grade.A
    if score >= limits.b:
        return Grade.B
    if score >= limits.c:
        return Grade.C
    return Grade.D
