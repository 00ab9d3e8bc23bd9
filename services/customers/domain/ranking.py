"""Revenue per customer and the deterministic ranking shared by the pyramid and the ABC analysis."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from shared.errors import FieldErrors


@dataclass(frozen=True)
class CustomerRevenue:
    """One customer's revenue over the analysed period (pass UUIDs as ``str(uuid)``)."""

    customer_id: str
    revenue: Decimal


def rank_by_revenue(revenues: Iterable[CustomerRevenue]) -> list[CustomerRevenue]:
    """Sort by revenue descending, ties by customer id ascending; reject negative revenue and duplicate ids."""
    rows = list(revenues)
    errors = FieldErrors()
    seen: set[str] = set()
    for index, row in enumerate(rows):
        field = f"customers[{index}]"
        if errors.require_finite(row.revenue, f"{field}.revenue"):
            errors.check(row.revenue >= 0, f"{field}.revenue", "revenue must not be negative")
        errors.check(
            row.customer_id not in seen, f"{field}.customer_id", f"customer {row.customer_id} appears more than once"
        )
        seen.add(row.customer_id)
    errors.raise_if_any("Invalid revenue figures")
    # The id tie-break makes the ranking, and so every cut, the same on every run and every database.
    return sorted(rows, key=lambda row: (-row.revenue, row.customer_id))
