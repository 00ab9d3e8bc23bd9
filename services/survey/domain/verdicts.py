"""What a gap means: quality surprise, satisfactory or unacceptable; and when to raise a quality alert."""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum

from shared.errors import DomainRuleViolation

# A quarter of a scale point either side of zero still reads as "P ≈ E" by default.
DEFAULT_TOLERANCE = Decimal("0.25")


class Verdict(StrEnum):
    """Reading of a gap P − E against the tolerance."""

    QUALITY_SURPRISE = "quality_surprise"
    SATISFACTORY = "satisfactory"
    UNACCEPTABLE = "unacceptable"


def validate_tolerance(tolerance: Decimal | int, field: str = "tolerance") -> Decimal:
    """Check the tolerance is a finite Decimal ≥ 0; otherwise a DomainRuleViolation (422)."""
    if (
        isinstance(tolerance, bool)
        or not isinstance(tolerance, Decimal | int)
        or not Decimal(tolerance).is_finite()
        or tolerance < 0
    ):
        raise DomainRuleViolation(
            "invalid verdict tolerance",
            errors=[{"field": field, "message": f"tolerance must be a number ≥ 0, got {tolerance!r}"}],
        )
    return Decimal(tolerance)


def verdict_for(gap: Decimal, tolerance: Decimal | int = DEFAULT_TOLERANCE) -> Verdict:
    """gap > +tolerance → quality_surprise; |gap| ≤ tolerance → satisfactory; gap < −tolerance → unacceptable.

    Both boundaries belong to ``satisfactory``. Callers pass the presented (4 dp) gap so the
    verdict always agrees with the number shown next to it.
    """
    limit = validate_tolerance(tolerance)
    if gap > limit:
        return Verdict.QUALITY_SURPRISE
    if gap < -limit:
        return Verdict.UNACCEPTABLE
    return Verdict.SATISFACTORY


def quality_alert_due(weighted_gap: Decimal, threshold: Decimal) -> bool:
    """True when a customer's weighted gap is strictly below the campaign's alert threshold.

    Pass the presented (4 dp) weighted gap, the one published in ``response_submitted``, so an
    alert is never raised for a score that reads as equal to the threshold.
    """
    return weighted_gap < threshold
