"""Collection performance: DSO, collection effectiveness index, recovery rate and cost per stage."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum
from typing import Any
from uuid import UUID

from services.collections.domain.money import require_non_negative
from shared.errors import DomainRuleViolation
from shared.money import ZERO, to_cents
from shared.stage import Stage

HUNDRED = Decimal(100)
RATIO_PLACES = Decimal("0.0001")


def days_sales_outstanding(receivables: Decimal, credit_sales: Decimal, period_days: int) -> Decimal:
    """DSO = receivables / credit sales × days of the period, 2 dp HALF_UP."""
    require_non_negative(receivables, "receivables")
    _require_positive_denominator(credit_sales, "credit_sales")
    if period_days < 1:
        raise DomainRuleViolation(
            "the period needs at least one day", errors=[{"field": "period_days", "message": f"{period_days} < 1"}]
        )
    return to_cents(receivables / credit_sales * period_days)


def collection_effectiveness_index(
    begin_receivables: Decimal,
    credit_sales: Decimal,
    end_total_receivables: Decimal,
    end_current_receivables: Decimal,
) -> Decimal:
    """CEI = (begin + sales − end total) / (begin + sales − end current) × 100, a percentage at 2 dp HALF_UP."""
    for name, value in (
        ("begin_receivables", begin_receivables),
        ("credit_sales", credit_sales),
        ("end_total_receivables", end_total_receivables),
        ("end_current_receivables", end_current_receivables),
    ):
        require_non_negative(value, name)
    if end_current_receivables > end_total_receivables:
        raise DomainRuleViolation(
            "current receivables cannot exceed total receivables",
            errors=[{"field": "end_current_receivables", "message": "exceeds end_total_receivables"}],
        )
    collectible = begin_receivables + credit_sales - end_current_receivables
    _require_positive_denominator(collectible, "begin_receivables + credit_sales - end_current_receivables")
    collected = begin_receivables + credit_sales - end_total_receivables
    return to_cents(collected / collectible * HUNDRED)


def recovery_rate(recovered: Decimal, placed: Decimal) -> Decimal:
    """Share of the amount placed in collection that was recovered, a fraction at 4 dp HALF_UP."""
    require_non_negative(recovered, "recovered")
    _require_positive_denominator(placed, "placed")
    return (recovered / placed).quantize(RATIO_PLACES, rounding=ROUND_HALF_UP)


class CostChannel(StrEnum):
    """Who carries out a stage: our own staff, an agency, or the legal system."""

    IN_HOUSE = "in_house"
    AGENCY = "agency"
    LEGAL = "legal"


STAGE_CHANNEL: dict[Stage, CostChannel] = {
    Stage.LETTER: CostChannel.IN_HOUSE,
    Stage.VISIT: CostChannel.IN_HOUSE,
    Stage.AGENCY: CostChannel.AGENCY,
    Stage.ARBITRATION: CostChannel.LEGAL,
    Stage.LITIGATION: CostChannel.LEGAL,
}


@dataclass(frozen=True)
class ActionCost:
    """The cost recorded for one action (agency: the commission paid)."""

    case_id: UUID | str
    stage: Stage
    cost: Decimal


@dataclass(frozen=True)
class CostLine:
    """Cost of a stage or channel: number of actions and cases, total, and average per case (2 dp HALF_UP)."""

    actions: int
    cases: int
    total: Decimal

    @property
    def average_per_case(self) -> Decimal:
        """Total over distinct cases; zero when there were none."""
        return to_cents(self.total / self.cases) if self.cases else ZERO

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form, amounts as strings."""
        return {
            "actions": self.actions,
            "cases": self.cases,
            "total": str(self.total),
            "average_per_case": str(self.average_per_case),
        }


@dataclass(frozen=True)
class CostReport:
    """Cost per stage and per channel (in-house letter/visit, agency, legal)."""

    per_stage: dict[Stage, CostLine]
    per_channel: dict[CostChannel, CostLine]

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form, amounts as strings."""
        return {
            "per_stage": {str(stage): line.to_dict() for stage, line in self.per_stage.items()},
            "per_channel": {str(channel): line.to_dict() for channel, line in self.per_channel.items()},
        }


def cost_per_stage(actions: Iterable[ActionCost]) -> CostReport:
    """Sum action costs per stage and per channel; every stage and channel is listed, zero when unused."""
    stage_totals = dict.fromkeys(Stage, ZERO)
    stage_actions = dict.fromkeys(Stage, 0)
    stage_cases: dict[Stage, set[UUID | str]] = {stage: set() for stage in Stage}
    for action in actions:
        require_non_negative(action.cost, "cost")
        stage_totals[action.stage] += action.cost
        stage_actions[action.stage] += 1
        stage_cases[action.stage].add(action.case_id)
    per_stage = {stage: CostLine(stage_actions[stage], len(stage_cases[stage]), stage_totals[stage]) for stage in Stage}
    per_channel: dict[CostChannel, CostLine] = {}
    for channel in CostChannel:
        stages = [stage for stage in Stage if STAGE_CHANNEL[stage] is channel]
        cases = set().union(*(stage_cases[stage] for stage in stages))
        per_channel[channel] = CostLine(
            sum(stage_actions[stage] for stage in stages), len(cases), sum((stage_totals[s] for s in stages), ZERO)
        )
    return CostReport(per_stage, per_channel)


def _require_positive_denominator(value: Decimal, field: str) -> None:
    if value <= 0:
        raise DomainRuleViolation(
            f"{field} must be greater than zero to compute the ratio",
            errors=[{"field": field, "message": f"{value} is not greater than zero"}],
        )
