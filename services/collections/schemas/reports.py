"""Reports: the escalation funnel, receivables aging, costs and collection performance."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from services.collections.domain.metrics import CostChannel
from services.collections.domain.periods import Interval
from services.collections.domain.stages import CaseStatus
from shared.stage import Stage


class FunnelPeriodRead(BaseModel):
    """Open cases per stage at the end of one period."""

    start: date
    end: date
    open_cases: dict[Stage, int] = Field(description="every stage, 0 when none; as of the end of the period")
    total: int


class StageFunnelRead(BaseModel):
    """The escalation funnel over time, from case history: open cases per stage at each period's end."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "start": "2026-01-01",
                    "end": "2026-02-28",
                    "interval": "month",
                    "periods": [
                        {
                            "start": "2026-01-01",
                            "end": "2026-01-31",
                            "open_cases": {"letter": 3, "visit": 0, "agency": 1, "arbitration": 0, "litigation": 0},
                            "total": 4,
                        }
                    ],
                }
            ]
        }
    )

    start: date
    end: date
    interval: Interval
    periods: list[FunnelPeriodRead]


DecimalText = Annotated[str, Field(pattern=r"^-?\d+(\.\d+)?$", examples=["1200.00"])]


class AgingBucketsRead(BaseModel):
    """Outstanding amounts by days past due (``current``: not yet due) and their total, as decimal strings."""

    model_config = ConfigDict(populate_by_name=True)
    current: DecimalText
    days_1_30: DecimalText = Field(alias="1-30")
    days_31_60: DecimalText = Field(alias="31-60")
    days_61_90: DecimalText = Field(alias="61-90")
    days_91_180: DecimalText = Field(alias="91-180")
    over_180: DecimalText
    total: DecimalText


class AgingReportRead(BaseModel):
    """Receivables aging as of a date: per customer (keyed by customer id) and overall."""

    as_of: date
    customers: dict[str, AgingBucketsRead]
    overall: AgingBucketsRead


class CostLineRead(BaseModel):
    """Collection actions, distinct cases and their cost in one stage or channel."""

    actions: int
    cases: int
    total: DecimalText
    average_per_case: DecimalText


class CostReportRead(BaseModel):
    """Cost per escalation stage and per channel (in-house, agency, legal); every one listed, zero when unused."""

    per_stage: dict[Stage, CostLineRead]
    per_channel: dict[CostChannel, CostLineRead]


class PerformanceReportRead(BaseModel):
    """Collection performance over a period; ratios and days are decimal strings, null when undefined."""

    model_config = ConfigDict(populate_by_name=True)
    date_from: date = Field(alias="from")
    date_to: date = Field(alias="to")
    dso_days: DecimalText | None = Field(description="days sales outstanding over the period")
    collection_effectiveness_index: DecimalText | None = Field(description="CEI, 0–100")
    recovery_rate: DecimalText | None = Field(description="recovered / placed in collection, a fraction")
    placed_in_collection: DecimalText
    recovered: DecimalText
    cost_per_stage: CostReportRead
    cases: dict[CaseStatus, int] = Field(description="cases by status")
