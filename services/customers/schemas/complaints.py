"""Complaints: open, move through their states, read with overdue information."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from services.customers.domain.complaints import ComplaintCategory, ComplaintState
from shared.currency import Currency
from shared.money import PositiveMoney


class ComplaintCreate(BaseModel):
    """A complaint to record; one naming an invoice makes collections treat the invoice as disputed."""

    model_config = ConfigDict(
        extra="forbid",
        str_strip_whitespace=True,
        json_schema_extra={
            "examples": [
                {
                    "customer_id": "3f2b8c1e-4d5a-4b6c-8d7e-9f0a1b2c3d4e",
                    "category": "product_quality",
                    "description": "Batch 2026-02 arrived with cracked casings",
                    "invoice_id": "8a1c2d3e-4f50-4a6b-9c7d-8e9f0a1b2c3d",
                    "disputed_amount": "4800.00",
                    "currency": "CNY",
                }
            ]
        },
    )
    customer_id: uuid.UUID
    category: ComplaintCategory
    description: str = Field(min_length=1, max_length=4000)
    invoice_id: uuid.UUID | None = None
    disputed_amount: PositiveMoney | None = Field(None, description="null with an invoice: all of it is disputed")
    currency: Currency | None = Field(None, description="required with disputed_amount")
    note: str | None = Field(None, max_length=2000)


class ComplaintTransitionCreate(BaseModel):
    """The next step: the target state and what that step records (actor = the caller)."""

    model_config = ConfigDict(
        extra="forbid",
        str_strip_whitespace=True,
        json_schema_extra={
            "examples": [{"to": "assigned", "department": "Quality assurance"}, {"to": "closed", "rating": 4}]
        },
    )
    to: ComplaintState
    department: str | None = Field(None, max_length=200)
    cause: str | None = Field(None, max_length=4000)
    solution: str | None = Field(None, max_length=4000)
    reason: str | None = Field(None, max_length=4000)
    rating: int | None = Field(None, description="1-5, when closing")
    note: str | None = Field(None, max_length=2000)


class ComplaintStepRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    sequence: int
    from_state: ComplaintState | None
    to_state: ComplaintState
    actor: str
    at: datetime
    payload: dict[str, Any]


class OverdueInfo(BaseModel):
    due_at: datetime
    overdue_by_seconds: int
    waiting_for: list[ComplaintState]


class ComplaintRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: uuid.UUID
    customer_id: uuid.UUID
    category: ComplaintCategory
    description: str
    invoice_id: uuid.UUID | None
    disputed_amount: Decimal | None
    currency: str | None
    state: ComplaintState
    state_entered_at: datetime
    allowed_next_states: list[ComplaintState]
    due_at: datetime | None = Field(None, description="when the next step is due (null in a final state)")
    overdue: OverdueInfo | None = None
    history: list[ComplaintStepRead] = Field(
        default_factory=list, description="every step so far (on single-complaint responses; empty in lists)"
    )
    version: int
    created_at: datetime
    updated_at: datetime
