"""Tables of the customers service."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, Boolean, Date, ForeignKey, Integer, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from shared.db import GUID, UTCDateTime, new_metadata


class Base(DeclarativeBase):
    metadata = new_metadata()


class Customer(Base):
    __tablename__ = "customers"

    id: Mapped[uuid.UUID] = mapped_column(GUID(), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(40), index=True)
    channel_role: Mapped[str | None] = mapped_column(String(40))
    origin: Mapped[str] = mapped_column(String(20), default="external")
    lifecycle: Mapped[str] = mapped_column(String(20), index=True)
    tax_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    legal_representative: Mapped[str | None] = mapped_column(String(200))
    bank_account: Mapped[str | None] = mapped_column(String(100))
    region: Mapped[str | None] = mapped_column(String(100), index=True)
    industry: Mapped[str | None] = mapped_column(String(100))
    segment: Mapped[str] = mapped_column(String(20), default="general")
    expected_first_order_on: Mapped[date | None] = mapped_column(Date)
    purchase_type: Mapped[str | None] = mapped_column(String(20))
    contacts: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    version: Mapped[int] = mapped_column(Integer, default=1)
    # Optimistic locking: UPDATE ... WHERE version = <read version>; the service bumps it.
    __mapper_args__ = {"version_id_col": version, "version_id_generator": False}
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Contract(Base):
    """A signed contract (标准合同); its dispute clause decides the legal stage in collections."""

    __tablename__ = "contracts"

    id: Mapped[uuid.UUID] = mapped_column(GUID(), primary_key=True)
    customer_id: Mapped[uuid.UUID] = mapped_column(GUID(), ForeignKey("customers.id"), index=True)
    number: Mapped[str] = mapped_column(String(100), unique=True)
    signed_on: Mapped[date] = mapped_column(Date)
    valid_from: Mapped[date] = mapped_column(Date)
    valid_to: Mapped[date | None] = mapped_column(Date)
    subject: Mapped[str | None] = mapped_column(Text)
    quality_terms: Mapped[str | None] = mapped_column(Text)
    delivery_terms: Mapped[str | None] = mapped_column(Text)
    dealer_rights: Mapped[str | None] = mapped_column(Text)
    settlement_method: Mapped[str] = mapped_column(String(20))
    rebate_policy: Mapped[str | None] = mapped_column(Text)
    ordering_and_returns: Mapped[str | None] = mapped_column(Text)
    breach_liability: Mapped[str | None] = mapped_column(Text)
    credit_terms: Mapped[str] = mapped_column(String(200), comment="canonical text, e.g. '2/10, n/30'")
    dispute_kind: Mapped[str] = mapped_column(String(20))
    arbitration_commission: Mapped[str | None] = mapped_column(String(300))
    penalty_interest_annual_rate: Mapped[Decimal | None] = mapped_column(
        Numeric(7, 6), comment="agreed late-payment rate a year, a fraction; null: the collections policy's default"
    )
    version: Mapped[int] = mapped_column(Integer, default=1)
    # Optimistic locking: UPDATE ... WHERE version = <read version>; the service bumps it.
    __mapper_args__ = {"version_id_col": version, "version_id_generator": False}
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Sale(Base):
    """One sale of the history the analyses read: an invoice from collections or an imported row."""

    __tablename__ = "sales"

    id: Mapped[uuid.UUID] = mapped_column(GUID(), primary_key=True)
    customer_id: Mapped[uuid.UUID] = mapped_column(GUID(), index=True)
    source: Mapped[str] = mapped_column(String(20), comment="invoice or import")
    invoice_id: Mapped[uuid.UUID | None] = mapped_column(GUID(), unique=True)
    reference: Mapped[str | None] = mapped_column(String(100), unique=True, comment="invoice or import reference")
    sold_on: Mapped[date] = mapped_column(Date, index=True)
    currency: Mapped[str] = mapped_column(String(3))
    amount: Mapped[Decimal] = mapped_column(Numeric(18, 2))
    margin: Mapped[Decimal | None] = mapped_column(Numeric(18, 2))
    paid_amount: Mapped[Decimal] = mapped_column(Numeric(18, 2), default=Decimal("0"))
    last_paid_on: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Complaint(Base):
    """A customer complaint moving through the eight-step workflow."""

    __tablename__ = "complaints"

    id: Mapped[uuid.UUID] = mapped_column(GUID(), primary_key=True)
    customer_id: Mapped[uuid.UUID] = mapped_column(GUID(), ForeignKey("customers.id"), index=True)
    category: Mapped[str] = mapped_column(String(30))
    description: Mapped[str] = mapped_column(Text)
    invoice_id: Mapped[uuid.UUID | None] = mapped_column(GUID())
    disputed_amount: Mapped[Decimal | None] = mapped_column(Numeric(18, 2))
    currency: Mapped[str | None] = mapped_column(String(3))
    state: Mapped[str] = mapped_column(String(30), index=True)
    state_entered_at: Mapped[datetime] = mapped_column(UTCDateTime())
    version: Mapped[int] = mapped_column(Integer, default=1)
    # Optimistic locking: UPDATE ... WHERE version = <read version>; the service bumps it.
    __mapper_args__ = {"version_id_col": version, "version_id_generator": False}
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ComplaintStep(Base):
    """One entry of a complaint's history: who moved it from which state to which, when, with what."""

    __tablename__ = "complaint_steps"

    id: Mapped[uuid.UUID] = mapped_column(GUID(), primary_key=True)
    complaint_id: Mapped[uuid.UUID] = mapped_column(GUID(), ForeignKey("complaints.id"), index=True)
    sequence: Mapped[int] = mapped_column(Integer)
    from_state: Mapped[str | None] = mapped_column(String(30))
    to_state: Mapped[str] = mapped_column(String(30))
    actor: Mapped[str] = mapped_column(String(200))
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    __table_args__ = (UniqueConstraint("complaint_id", "sequence"),)


class CustomerOverview(Base):
    """Read model of what credit, collections and survey report about a customer, kept by the handlers."""

    __tablename__ = "customer_overview"

    customer_id: Mapped[uuid.UUID] = mapped_column(GUID(), primary_key=True)
    credit_grade: Mapped[str | None] = mapped_column(String(10))
    credit_score: Mapped[Decimal | None] = mapped_column(Numeric(9, 4))
    credit_assessed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    credit_limit: Mapped[Decimal | None] = mapped_column(Numeric(18, 2))
    credit_limit_currency: Mapped[str | None] = mapped_column(String(3))
    credit_hold: Mapped[bool] = mapped_column(Boolean, default=False)
    credit_hold_reasons: Mapped[list[str]] = mapped_column(JSON, default=list)
    receivables_currency: Mapped[str | None] = mapped_column(String(3))
    open_receivables: Mapped[Decimal | None] = mapped_column(Numeric(18, 2))
    overdue_amount: Mapped[Decimal | None] = mapped_column(Numeric(18, 2))
    oldest_overdue_days: Mapped[int | None] = mapped_column(Integer)
    receivables_as_of: Mapped[datetime | None] = mapped_column(UTCDateTime())
    open_case_stages: Mapped[dict[str, str]] = mapped_column(JSON, default=dict, comment="case id -> stage")
    servqual_weighted_gap: Mapped[Decimal | None] = mapped_column(Numeric(9, 4))
    servqual_unweighted_gap: Mapped[Decimal | None] = mapped_column(Numeric(9, 4))
    servqual_measured_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    alerts: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    applied_sequences: Mapped[dict[str, int] | None] = mapped_column(
        JSON, comment="producer sequence of the last snapshot applied per stream (receivables:<cur>, hold, case:<id>)"
    )
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
