"""Customers of the registry: create, update, read."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from services.customers.domain.customer import (
    ChannelRole,
    CustomerKind,
    Lifecycle,
    Origin,
    PurchaseType,
    Temperature,
    prospect_temperature,
)
from shared.inputs import BusinessDate, VisibleText

STRICT = ConfigDict(extra="forbid", str_strip_whitespace=True)


class Segment(StrEnum):
    key_account = "key_account"
    general = "general"
    high_risk = "high_risk"


class Contact(BaseModel):
    model_config = STRICT
    name: VisibleText = Field(min_length=1, max_length=200)
    role: str | None = Field(None, max_length=100)
    email: str | None = Field(None, max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
    phone: str | None = Field(None, max_length=50)


class CustomerBase(BaseModel):
    model_config = STRICT
    name: VisibleText = Field(min_length=1, max_length=200, examples=["Acme Trading Co."])
    kind: CustomerKind = Field(examples=["commercial"])
    channel_role: ChannelRole | None = Field(None, examples=["intermediary"])
    origin: Origin = Origin.EXTERNAL
    lifecycle: Lifecycle = Field(Lifecycle.ACTIVE, examples=["active"])
    tax_id: str | None = Field(None, min_length=1, max_length=64, examples=["91310000MA1K000001"])
    legal_representative: str | None = Field(None, max_length=200)
    bank_account: str | None = Field(None, max_length=100)
    region: str | None = Field(None, max_length=100, examples=["East China"])
    industry: str | None = Field(None, max_length=100)
    segment: Segment = Field(Segment.general, description="collections strategy segment")
    expected_first_order_on: BusinessDate | None = Field(
        None, description="prospects: when the first order is expected"
    )
    purchase_type: PurchaseType | None = None
    contacts: list[Contact] = Field(default_factory=list, max_length=50)


class CustomerCreate(CustomerBase):
    """A customer or prospect to register."""

    model_config = ConfigDict(
        extra="forbid",
        str_strip_whitespace=True,
        json_schema_extra={
            "examples": [
                {
                    "name": "Acme Trading Co.",
                    "kind": "commercial",
                    "channel_role": "intermediary",
                    "lifecycle": "active",
                    "tax_id": "91310000MA1K000001",
                    "region": "East China",
                }
            ]
        },
    )


class CustomerUpdate(BaseModel):
    """Fields to change; absent fields stay as they are."""

    model_config = STRICT
    name: VisibleText | None = Field(None, min_length=1, max_length=200)
    kind: CustomerKind | None = None
    channel_role: ChannelRole | None = None
    origin: Origin | None = None
    lifecycle: Lifecycle | None = None
    tax_id: str | None = Field(None, min_length=1, max_length=64)
    legal_representative: str | None = Field(None, max_length=200)
    bank_account: str | None = Field(None, max_length=100)
    region: str | None = Field(None, max_length=100)
    industry: str | None = Field(None, max_length=100)
    segment: Segment | None = None
    expected_first_order_on: BusinessDate | None = None
    purchase_type: PurchaseType | None = None
    contacts: list[Contact] | None = Field(None, max_length=50)


class CustomerRead(CustomerBase):
    """A customer as the registry holds it; prospects also carry their temperature as of today."""

    model_config = ConfigDict(from_attributes=True)
    id: uuid.UUID
    temperature: Temperature | None = Field(
        None,
        description="prospects with an expected first-order date: hot (within a month), warm "
        "(within three), cold (later); computed from today's date",
    )
    version: int
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, customer: object, today: date) -> CustomerRead:
        """The read model of a row, with the prospect temperature as of ``today``."""
        read = cls.model_validate(customer)
        read.temperature = prospect_temperature(read.lifecycle, read.expected_first_order_on, today)
        return read


Fraction = Annotated[Decimal, Field(ge=0, le=1, max_digits=9, decimal_places=6)]
