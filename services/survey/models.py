"""Tables of the survey service."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, Numeric, String, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from shared.db import GUID, UTCDateTime, new_metadata
from shared.readmodels import KnownCustomerColumns


class Base(DeclarativeBase):
    metadata = new_metadata()


class KnownCustomer(KnownCustomerColumns, Base):
    """Read model of the registry's customers, kept from customers events."""


class Campaign(Base):
    """A SERVQUAL survey sent to a set of known customers."""

    __tablename__ = "campaigns"

    id: Mapped[uuid.UUID] = mapped_column(GUID(), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    instrument_version: Mapped[str] = mapped_column(String(40))
    weights: Mapped[dict[str, str]] = mapped_column(JSON, comment="dimension -> points (decimal strings)")
    tolerance: Mapped[Decimal] = mapped_column(Numeric(9, 4))
    alert_threshold: Mapped[Decimal] = mapped_column(Numeric(9, 4))
    segment_filter: Mapped[str | None] = mapped_column(String(20))
    region_filter: Mapped[str | None] = mapped_column(String(100))
    closes_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_by: Mapped[str] = mapped_column(String(200))
    version: Mapped[int] = mapped_column(Integer, default=1)
    # Optimistic locking: UPDATE ... WHERE version = <read version>; the service bumps it.
    __mapper_args__ = {"version_id_col": version, "version_id_generator": False}
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class CampaignCustomer(Base):
    """A customer a campaign is addressed to."""

    __tablename__ = "campaign_customers"

    campaign_id: Mapped[uuid.UUID] = mapped_column(GUID(), ForeignKey("campaigns.id"), primary_key=True)
    customer_id: Mapped[uuid.UUID] = mapped_column(GUID(), primary_key=True)


class Invitation(Base):
    """A single-use invitation; the signed token is derived from it and never stored."""

    __tablename__ = "invitations"

    id: Mapped[uuid.UUID] = mapped_column(GUID(), primary_key=True)
    campaign_id: Mapped[uuid.UUID] = mapped_column(GUID(), ForeignKey("campaigns.id"), index=True)
    customer_id: Mapped[uuid.UUID] = mapped_column(GUID())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    response_id: Mapped[uuid.UUID | None] = mapped_column(GUID())
    reminder_count: Mapped[int] = mapped_column(
        Integer, default=0, server_default="0", comment="reminders sent for this invitation"
    )
    last_reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class SurveyResponse(Base):
    """One respondent's answers as given (instrument orientation) and the scores computed at submission."""

    __tablename__ = "responses"
    __table_args__ = (
        UniqueConstraint("invitation_id", name="uq_responses_invitation_id"),
        UniqueConstraint("campaign_id", "customer_id", name="uq_responses_campaign_id_customer_id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(GUID(), primary_key=True)
    campaign_id: Mapped[uuid.UUID] = mapped_column(GUID(), ForeignKey("campaigns.id"), index=True)
    customer_id: Mapped[uuid.UUID] = mapped_column(GUID(), index=True)
    invitation_id: Mapped[uuid.UUID | None] = mapped_column(GUID())
    instrument_version: Mapped[str] = mapped_column(String(40))
    expectations: Mapped[list[int]] = mapped_column(JSON)
    perceptions: Mapped[list[int]] = mapped_column(JSON)
    importance_points: Mapped[dict[str, str] | None] = mapped_column(JSON)
    dimension_gaps: Mapped[dict[str, Any]] = mapped_column(JSON, comment="dimension -> gap (4 dp strings)")
    unweighted_gap: Mapped[Decimal] = mapped_column(Numeric(9, 4))
    weighted_gap: Mapped[Decimal] = mapped_column(Numeric(9, 4))
    submitted_by: Mapped[str] = mapped_column(String(200), comment="'invitation' or the staff subject")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
