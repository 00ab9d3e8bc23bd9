"""Collection agencies and their reports on placed cases."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from shared.inputs import BusinessDate, VisibleText
from shared.money import Money

Rate = Annotated[Decimal, Field(ge=0, le=1, max_digits=9, decimal_places=6, examples=["0.45"])]


class AgencyCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "name": "Eastern Recovery Ltd",
                    "recovery_rate": "0.6",
                    "commission_rate": "0.2",
                    "min_debt": "10000.00",
                }
            ]
        },
    )

    name: VisibleText = Field(min_length=1, max_length=200)
    recovery_rate: Rate
    commission_rate: Rate
    min_debt: Money = Decimal("0")
    max_debt: Money | None = None
    max_open_cases: int | None = Field(None, ge=0)
    report_deadline_days: int = Field(30, ge=1)
    active: bool = True


class AgencyRead(AgencyCreate):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    created_at: datetime


class AgencyReportCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"reported_on": "2026-05-01", "recovered": "5000.00", "note": "instalment plan agreed"}]
        },
    )

    reported_on: BusinessDate | None = None
    recovered: Money = Field(Decimal("0"), ge=0)
    note: str = Field("", max_length=1000)
