"""The escalation policy, its simulation, and the sweep that applies it."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator

from shared.inputs import EARLIEST_BUSINESS_DATE, LATEST_BUSINESS_DATE, BusinessDate
from shared.stage import Stage


class SweepRequest(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"as_of": "2026-03-01"}, {"as_of": "2026-03-15T09:30:00+08:00"}]},
    )

    as_of: AwareDatetime | date | None = Field(
        None,
        description="the day, or an RFC 3339 instant with its offset, to sweep as of; defaults to now. Contact "
        "rules (quiet hours, weekly caps) are judged at the instant; the day is the instant's own calendar day",
    )

    @field_validator("as_of")
    @classmethod
    def _as_of_in_business_range(cls, value: datetime | date | None) -> datetime | date | None:
        day = value.date() if isinstance(value, datetime) else value
        if day is not None and not EARLIEST_BUSINESS_DATE <= day <= LATEST_BUSINESS_DATE:
            raise ValueError(f"must be a day from {EARLIEST_BUSINESS_DATE} to {LATEST_BUSINESS_DATE}")
        return value

    def as_of_day(self, now: datetime) -> date:
        """The calendar day the sweep runs as of."""
        if isinstance(self.as_of, datetime):
            return self.as_of.date()
        return self.as_of or now.date()

    def as_of_instant(self) -> datetime | None:
        """The instant asked for, if one was (a bare day has none)."""
        return self.as_of if isinstance(self.as_of, datetime) else None


class SweepResult(BaseModel):
    as_of: date
    policy_version: int
    cases_opened: int
    cases_moved: int
    stages_entered: dict[str, int] = Field(description="stage → number of cases entering it")
    write_off_review: int


class PolicyDocument(BaseModel):
    """The escalation policy (product.md section 5) as stored; `version` is read-only."""

    model_config = ConfigDict(
        extra="allow",
        json_schema_extra={
            "examples": [
                {
                    "stages": [
                        {"stage": "letter", "min_days_overdue": 1, "min_amount": "0"},
                        {"stage": "visit", "min_days_overdue": 30, "min_amount": "0"},
                        {"stage": "agency", "min_days_overdue": 60, "min_amount": "10000"},
                        {"stage": "arbitration", "min_days_overdue": 90, "min_amount": "0"},
                        {"stage": "litigation", "min_days_overdue": 90, "min_amount": "50000"},
                    ]
                }
            ]
        },
    )


class SimulateRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    policy: dict[str, Any] = Field(description="a draft policy document")
    as_of: BusinessDate


class SimulatedMoveRead(BaseModel):
    case_id: uuid.UUID | None
    invoice_id: uuid.UUID | None = None
    from_stage: Stage | None
    to_stage: Stage | None
    stages_passed: list[Stage]
    write_off_review: bool
    reason: str


class SimulateResult(BaseModel):
    as_of: date
    moves: list[SimulatedMoveRead]
