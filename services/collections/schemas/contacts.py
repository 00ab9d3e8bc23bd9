"""Contact preferences (consent, time zone) and contacts made by collectors."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from services.collections.domain.contact import Channel


class ChannelConsent(BaseModel):
    """Consent per channel a customer may refuse; letters by post, visits and legally required notices
    are not subject to consent."""

    model_config = ConfigDict(extra="forbid")

    email: bool = True
    sms: bool = True
    phone: bool = True


class ContactPreferencesUpdate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"consent": {"email": True, "sms": False, "phone": True}, "time_zone": "Asia/Shanghai"}]
        },
    )

    consent: ChannelConsent = Field(default_factory=ChannelConsent)
    time_zone: str = Field(
        "Asia/Shanghai",
        min_length=1,
        max_length=64,
        pattern=r"^[A-Za-z0-9_+\-]+(/[A-Za-z0-9_+\-]+)*$",
        description="IANA time zone of the customer (quiet hours are local)",
    )


class ContactPreferencesRead(BaseModel):
    customer_id: uuid.UUID
    consent: ChannelConsent
    time_zone: str
    version: int = Field(description="0 while the defaults apply (nothing stored yet)")
    updated_at: datetime | None = None


class ContactCreate(BaseModel):
    """A contact made now by a collector (a call, an email...), checked against the contact rules."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"channel": "phone", "case_id": "0b8f6a52-8a0e-4d7e-a2d4-2c2b7f0a9b11"}]},
    )

    channel: Channel
    case_id: uuid.UUID | None = Field(None, description="the case the contact is about (its history records it)")
    legally_required: bool = Field(
        False,
        description="a legally required notice: consent and the weekly cap "
        "do not stop it (quiet hours do); it counts as a contact",
    )


class ContactRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    customer_id: uuid.UUID
    case_id: uuid.UUID | None
    action_id: uuid.UUID | None = Field(description="the letter or visit action, for contacts the stages made")
    channel: Channel
    at: datetime
    created_at: datetime
