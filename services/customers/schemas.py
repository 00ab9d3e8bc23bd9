"""Request and response models of the customers API."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

STRICT = ConfigDict(extra="forbid", str_strip_whitespace=True)


class CustomerKind(StrEnum):
    retail_individual = "retail_individual"
    commercial = "commercial"
    organization = "organization"


class ChannelRole(StrEnum):
    intermediary = "intermediary"
    end_customer = "end_customer"


class Origin(StrEnum):
    internal = "internal"
    external = "external"


class Lifecycle(StrEnum):
    prospect = "prospect"
    active = "active"
    lapsed = "lapsed"
    lost = "lost"


class Segment(StrEnum):
    key_account = "key_account"
    general = "general"
    high_risk = "high_risk"


class PurchaseType(StrEnum):
    new_buy = "new_buy"
    rebuy = "rebuy"
    modified_rebuy = "modified_rebuy"


class Contact(BaseModel):
    model_config = STRICT
    name: str = Field(min_length=1, max_length=200)
    role: str | None = Field(None, max_length=100)
    email: str | None = Field(None, max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
    phone: str | None = Field(None, max_length=50)


class CustomerBase(BaseModel):
    model_config = STRICT
    name: str = Field(min_length=1, max_length=200, examples=["Acme Trading Co."])
    kind: CustomerKind = Field(examples=["commercial"])
    channel_role: ChannelRole | None = Field(None, examples=["intermediary"])
    origin: Origin = Origin.external
    lifecycle: Lifecycle = Field(Lifecycle.active, examples=["active"])
    tax_id: str | None = Field(None, min_length=1, max_length=64, examples=["91310000MA1K000001"])
    legal_representative: str | None = Field(None, max_length=200)
    bank_account: str | None = Field(None, max_length=100)
    region: str | None = Field(None, max_length=100, examples=["East China"])
    industry: str | None = Field(None, max_length=100)
    segment: Segment = Field(Segment.general, description="collections strategy segment")
    expected_first_order_on: date | None = Field(None, description="prospects: when the first order is expected")
    purchase_type: PurchaseType | None = None
    contacts: list[Contact] = Field(default_factory=list, max_length=50)


class CustomerCreate(CustomerBase):
    """A customer or prospect to register."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, json_schema_extra={"examples": [{
        "name": "Acme Trading Co.", "kind": "commercial", "channel_role": "intermediary",
        "lifecycle": "active", "tax_id": "91310000MA1K000001", "region": "East China"}]})


class CustomerUpdate(BaseModel):
    """Fields to change; absent fields stay as they are."""

    model_config = STRICT
    name: str | None = Field(None, min_length=1, max_length=200)
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
    expected_first_order_on: date | None = None
    purchase_type: PurchaseType | None = None
    contacts: list[Contact] | None = Field(None, max_length=50)


class CustomerRead(CustomerBase):
    model_config = ConfigDict(from_attributes=True)
    id: uuid.UUID
    version: int
    created_at: datetime
    updated_at: datetime
