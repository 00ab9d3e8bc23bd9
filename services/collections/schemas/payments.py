"""Payments on an invoice and their bounces."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from services.collections.schemas.invoices import InvoiceRead
from shared.inputs import BusinessDate
from shared.money import Money, PositiveMoney

PaymentMethod = Literal["cash", "cheque", "bank_transfer", "other"]


class PaymentCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"amount": "10000.00", "paid_on": "2026-02-10", "reference": "BANK-123"}]},
    )

    amount: PositiveMoney
    paid_on: BusinessDate | None = Field(
        None,
        description="defaults to today; not in the future nor before the issue date; more than "
        "PAYMENT_BACKDATE_WINDOW_DAYS ago needs the scope collections:backdate",
    )
    reference: str | None = Field(None, max_length=200)
    method: PaymentMethod = Field("bank_transfer", description="a cheque payment can be reversed if it bounces")


class PaymentRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    invoice_id: uuid.UUID
    paid_on: date
    amount: Money
    costs_applied: Money
    interest_applied: Money
    principal_applied: Money
    discount_granted: Money
    reference: str | None
    method: PaymentMethod
    status: Literal["applied", "bounced"]
    bounced_at: datetime | None = None
    bounce_reason: str | None = None
    recorded_at: datetime | None = Field(None, description="when the payment was recorded")
    backdated_by: str | None = Field(
        None, description="who recorded it with a paid_on beyond the backdating window (collections:backdate)"
    )
    invoice: InvoiceRead


class BounceCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"reason": "insufficient funds"}]})

    reason: str = Field(min_length=1, max_length=500)
