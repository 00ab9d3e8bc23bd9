"""The customer pyramid: top 1 %, major 4 %, ordinary 15 %, small the rest, by revenue rank."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_CEILING, Decimal
from enum import StrEnum

from services.customers.domain.ranking import CustomerRevenue, rank_by_revenue
from services.customers.domain.ratios import to_ratio
from shared.errors import FieldErrors


class PyramidTier(StrEnum):
    TOP = "top"
    MAJOR = "major"
    ORDINARY = "ordinary"
    SMALL = "small"


@dataclass(frozen=True)
class PyramidCuts:
    """Share of the customer count in each upper tier, as fractions (0.01 = 1 %); small takes the rest."""

    top: Decimal = Decimal("0.01")
    major: Decimal = Decimal("0.04")
    ordinary: Decimal = Decimal("0.15")

    def __post_init__(self) -> None:
        errors = FieldErrors()
        for name in ("top", "major", "ordinary"):
            value: Decimal = getattr(self, name)
            if errors.require_finite(value, name):
                errors.check(value > 0, name, "must be a positive fraction of the customers")
        if not errors.errors:
            errors.check(
                self.top + self.major + self.ordinary <= 1,
                "ordinary",
                "top + major + ordinary must not exceed 1 (100 %)",
            )
        errors.raise_if_any("Invalid pyramid cut points")


@dataclass(frozen=True)
class PyramidEntry:
    rank: int
    customer_id: str
    revenue: Decimal
    share: Decimal  # of total revenue, fraction to 4 places
    tier: PyramidTier


@dataclass(frozen=True)
class PyramidTierSummary:
    tier: PyramidTier
    customers: int
    revenue: Decimal
    share: Decimal  # of total revenue, fraction to 4 places


@dataclass(frozen=True)
class PyramidResult:
    total_revenue: Decimal
    entries: tuple[PyramidEntry, ...]
    tiers: tuple[PyramidTierSummary, ...]  # always all four, top first


def _ceil(value: Decimal) -> int:
    return int(value.to_integral_value(rounding=ROUND_CEILING))


def tier_boundaries(customer_count: int, cuts: PyramidCuts) -> tuple[int, int, int]:
    """Last rank (1-based) of top, major and ordinary: ceil(n × cumulative cut).

    The ceiling is taken on the *cumulative* cut, not on each tier's own size, so a customer is in
    the top tier when its rank lies within the first 1 % rounded up: with 10 customers the top tier
    holds rank 1 (ceil 0.1), major is empty (ceil 0.5 = 1), ordinary holds rank 2 (ceil 2.0) and
    small the other 8. Ceiling each tier separately would put 4 of 10 customers above "small".
    """
    count = Decimal(customer_count)
    top_end = _ceil(count * cuts.top)
    major_end = _ceil(count * (cuts.top + cuts.major))
    ordinary_end = _ceil(count * (cuts.top + cuts.major + cuts.ordinary))
    return top_end, major_end, ordinary_end


def customer_pyramid(revenues: Iterable[CustomerRevenue], cuts: PyramidCuts | None = None) -> PyramidResult:
    """Rank customers by revenue and assign pyramid tiers by rank position.

    Ties are split by customer id, so tier sizes stay exactly as the cut points say. A customer
    with zero revenue is always ``small`` whatever its rank: it brings nothing to a top tier.
    """
    cuts = cuts or PyramidCuts()
    ranked = rank_by_revenue(revenues)
    total = sum((row.revenue for row in ranked), Decimal(0))
    top_end, major_end, ordinary_end = tier_boundaries(len(ranked), cuts)

    entries: list[PyramidEntry] = []
    for rank, row in enumerate(ranked, start=1):
        if row.revenue == 0:
            tier = PyramidTier.SMALL
        elif rank <= top_end:
            tier = PyramidTier.TOP
        elif rank <= major_end:
            tier = PyramidTier.MAJOR
        elif rank <= ordinary_end:
            tier = PyramidTier.ORDINARY
        else:
            tier = PyramidTier.SMALL
        share = to_ratio(row.revenue / total) if total else Decimal("0.0000")
        entries.append(PyramidEntry(rank, row.customer_id, row.revenue, share, tier))

    summaries = []
    for tier in PyramidTier:
        members = [entry for entry in entries if entry.tier is tier]
        revenue = sum((entry.revenue for entry in members), Decimal(0))
        share = to_ratio(revenue / total) if total else Decimal("0.0000")
        summaries.append(PyramidTierSummary(tier, len(members), revenue, share))
    return PyramidResult(total, tuple(entries), tuple(summaries))
