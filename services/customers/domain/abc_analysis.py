"""Classic ABC analysis of customers by cumulative revenue share (A ≤ 80 %, B ≤ 95 %, C the rest)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from services.customers.domain.ranking import CustomerRevenue, rank_by_revenue
from services.customers.domain.ratios import to_ratio
from shared.errors import FieldErrors


class AbcClass(StrEnum):
    A = "A"
    B = "B"
    C = "C"


@dataclass(frozen=True)
class AbcCuts:
    """Upper cumulative revenue shares of classes A and B, as fractions; C takes the rest."""

    a_up_to: Decimal = Decimal("0.80")
    b_up_to: Decimal = Decimal("0.95")

    def __post_init__(self) -> None:
        errors = FieldErrors()
        a_finite = errors.require_finite(self.a_up_to, "a_up_to")
        b_finite = errors.require_finite(self.b_up_to, "b_up_to")
        if a_finite and b_finite:
            errors.check(self.a_up_to > 0, "a_up_to", "must be greater than 0")
            errors.check(self.a_up_to < self.b_up_to, "b_up_to", "must be greater than a_up_to")
            errors.check(self.b_up_to <= 1, "b_up_to", "must not exceed 1 (100 %)")
        errors.raise_if_any("Invalid ABC cut points")


@dataclass(frozen=True)
class AbcEntry:
    rank: int
    customer_id: str
    revenue: Decimal
    share: Decimal  # fraction of total revenue, 4 places
    cumulative_share: Decimal  # including this customer, fraction, 4 places
    abc_class: AbcClass


@dataclass(frozen=True)
class AbcClassTotal:
    abc_class: AbcClass
    customers: int
    revenue: Decimal
    share: Decimal  # fraction of total revenue, 4 places


@dataclass(frozen=True)
class AbcResult:
    total_revenue: Decimal
    entries: tuple[AbcEntry, ...]
    totals: tuple[AbcClassTotal, ...]  # always A, B, C


def abc_analysis(revenues: Iterable[CustomerRevenue], cuts: AbcCuts | None = None) -> AbcResult:
    """Rank by revenue and classify by cumulative share, using the classic crossing rule.

    A customer's class is decided by the cumulative share *before* it: A while that is below
    ``a_up_to``, B while below ``b_up_to``, else C. So the customer whose revenue crosses 80 %
    is still A (and a single customer, at 100 %, is A), and every customer after it is B or C.
    The comparison uses exact sums; the reported shares are rounded to 4 places. Ties are split
    by customer id. With zero total revenue nobody contributes anything, so everyone is C.
    """
    cuts = cuts or AbcCuts()
    ranked = rank_by_revenue(revenues)
    total = sum((row.revenue for row in ranked), Decimal(0))

    entries: list[AbcEntry] = []
    cumulative_before = Decimal(0)
    for rank, row in enumerate(ranked, start=1):
        if total == 0:
            abc_class, share, cumulative_share = AbcClass.C, Decimal(0), Decimal(0)
        else:
            # Compare revenues, not rounded shares: cumulative_before / total < cut, without division.
            if cumulative_before < cuts.a_up_to * total:
                abc_class = AbcClass.A
            elif cumulative_before < cuts.b_up_to * total:
                abc_class = AbcClass.B
            else:
                abc_class = AbcClass.C
            share = row.revenue / total
            cumulative_share = (cumulative_before + row.revenue) / total
        cumulative_before += row.revenue
        entries.append(
            AbcEntry(rank, row.customer_id, row.revenue, to_ratio(share), to_ratio(cumulative_share), abc_class)
        )

    totals = []
    for abc_class in AbcClass:
        members = [entry for entry in entries if entry.abc_class is abc_class]
        revenue = sum((entry.revenue for entry in members), Decimal(0))
        share = to_ratio(revenue / total) if total else Decimal("0.0000")
        totals.append(AbcClassTotal(abc_class, len(members), revenue, share))
    return AbcResult(total, tuple(entries), tuple(totals))
