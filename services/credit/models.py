"""Tables of the credit service."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, Date, Index, Integer, Numeric, String, Text, false
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from shared.db import GUID, UTCDateTime, new_metadata
from shared.readmodels import KnownCustomerColumns


class Base(DeclarativeBase):
    metadata = new_metadata()


class KnownCustomer(KnownCustomerColumns, Base):
    """Read model of the registry's customers, kept from customers events."""


class CreditProfile(Base):
    """The credit state of one customer: grade, limit, exposure and hold, kept current by use cases and events."""

    __tablename__ = "credit_profiles"

    customer_id: Mapped[uuid.UUID] = mapped_column(GUID(), primary_key=True)
    grade: Mapped[str | None] = mapped_column(String(1))
    score: Mapped[Decimal | None] = mapped_column(Numeric(5, 2))
    credit_limit: Mapped[Decimal | None] = mapped_column(Numeric(18, 2))
    limit_method: Mapped[str | None] = mapped_column(String(40))
    recommended_limit: Mapped[Decimal | None] = mapped_column(Numeric(18, 2))
    currency: Mapped[str] = mapped_column(String(3))
    open_receivables: Mapped[Decimal] = mapped_column(Numeric(18, 2), default=Decimal("0"))
    receivables_by_currency: Mapped[dict[str, str] | None] = mapped_column(
        JSON(none_as_null=True),
        comment="collections' last open receivables per currency (decimal strings); only the profile"
        " currency's figure is in open_receivables",
    )
    overdue_amount: Mapped[Decimal | None] = mapped_column(
        Numeric(18, 2), comment="null until collections reported the customer's receivables"
    )
    applied_sequences: Mapped[dict[str, int] | None] = mapped_column(
        JSON(none_as_null=True),
        comment="producer sequence of the last snapshot applied per stream (receivables:<currency>)",
    )
    oldest_overdue_days: Mapped[int] = mapped_column(Integer, default=0)
    collection_stage: Mapped[str | None] = mapped_column(String(20), comment="furthest open collection stage")
    open_orders: Mapped[Decimal] = mapped_column(Numeric(18, 2), default=Decimal("0"))
    on_hold: Mapped[bool] = mapped_column(Boolean, default=False)
    hold_reasons: Mapped[list[str]] = mapped_column(JSON, default=list)
    keep_supplying: Mapped[bool] = mapped_column(
        Boolean,
        default=False,
        server_default=false(),
        comment="collections keeps supplying (a key account whose arrears are not malicious): no stage hold",
    )
    hold_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    latest_assessment_id: Mapped[uuid.UUID | None] = mapped_column(GUID())
    version: Mapped[int] = mapped_column(Integer, default=1)
    # Optimistic locking: UPDATE ... WHERE version = <read version>; the service bumps it.
    __mapper_args__ = {"version_id_col": version, "version_id_generator": False}
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ProfileRow:
    """A credit profile's columns as plain attributes: a row read in bulk to apply a run of events to.

    The same in-memory rules apply to it as to a ``CreditProfile`` (``ProfileState`` is either): a sweep's run
    touches thousands of profiles, and instrumented ORM attributes (loading, expunging, reading each column
    back to compare) cost several times the rules themselves.
    """

    customer_id: uuid.UUID
    grade: str | None
    score: Decimal | None
    credit_limit: Decimal | None
    limit_method: str | None
    recommended_limit: Decimal | None
    currency: str
    open_receivables: Decimal
    receivables_by_currency: dict[str, str] | None
    overdue_amount: Decimal | None
    applied_sequences: dict[str, int] | None
    oldest_overdue_days: int
    collection_stage: str | None
    open_orders: Decimal
    on_hold: bool
    hold_reasons: list[str]
    keep_supplying: bool
    hold_changed_at: datetime | None
    latest_assessment_id: uuid.UUID | None
    version: int
    created_at: datetime
    updated_at: datetime

    def __init__(self, values: dict[str, Any]) -> None:
        self.__dict__.update(values)

    def values(self) -> dict[str, Any]:
        """Its column values (a copy)."""
        return dict(self.__dict__)


ProfileState = CreditProfile | ProfileRow
"""A profile the in-memory rules apply to: an ORM instance (one event at a time) or a plain row (a run)."""


class Assessment(Base):
    """A documented credit decision: its inputs, who made it, and everything computed from them."""

    __tablename__ = "assessments"
    __table_args__ = (Index("ix_assessments_customer_created", "customer_id", "created_at", "id"),)

    id: Mapped[uuid.UUID] = mapped_column(GUID(), primary_key=True)
    customer_id: Mapped[uuid.UUID] = mapped_column(GUID())
    assessed_by: Mapped[str] = mapped_column(String(200))
    currency: Mapped[str] = mapped_column(String(3))
    score: Mapped[Decimal] = mapped_column(Numeric(5, 2))
    grade: Mapped[str] = mapped_column(String(1))
    recommended_limit: Mapped[Decimal] = mapped_column(Numeric(18, 2))
    inputs: Mapped[dict[str, Any]] = mapped_column(JSON)
    result: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class LimitChange(Base):
    """Every change of a customer's credit limit: recommendation or manual override (four eyes)."""

    __tablename__ = "limit_changes"

    id: Mapped[uuid.UUID] = mapped_column(GUID(), primary_key=True)
    customer_id: Mapped[uuid.UUID] = mapped_column(GUID(), index=True)
    method: Mapped[str] = mapped_column(String(40))
    previous_limit: Mapped[Decimal | None] = mapped_column(Numeric(18, 2))
    credit_limit: Mapped[Decimal] = mapped_column(Numeric(18, 2))
    recommended_limit: Mapped[Decimal | None] = mapped_column(Numeric(18, 2))
    currency: Mapped[str] = mapped_column(String(3))
    reason: Mapped[str | None] = mapped_column(Text)
    requested_by: Mapped[str] = mapped_column(String(200))
    approved_by: Mapped[str | None] = mapped_column(String(200))
    assessment_id: Mapped[uuid.UUID | None] = mapped_column(GUID())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class CreditCheck(Base):
    """One answer given to an order system: the facts used, the decision and every reason."""

    __tablename__ = "credit_checks"

    id: Mapped[uuid.UUID] = mapped_column(GUID(), primary_key=True)
    customer_id: Mapped[uuid.UUID] = mapped_column(GUID(), index=True)
    amount: Mapped[Decimal] = mapped_column(Numeric(18, 2))
    currency: Mapped[str] = mapped_column(String(3))
    prepaid: Mapped[bool] = mapped_column(Boolean, default=False)
    cash: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default=false(), comment="paid in cash on delivery"
    )
    decision: Mapped[str] = mapped_column(String(10))
    reasons: Mapped[list[str]] = mapped_column(JSON, default=list)
    grade: Mapped[str | None] = mapped_column(String(1))
    on_hold: Mapped[bool] = mapped_column(Boolean, default=False)
    credit_limit: Mapped[Decimal] = mapped_column(Numeric(18, 2))
    exposure_before: Mapped[Decimal] = mapped_column(Numeric(18, 2))
    exposure_after: Mapped[Decimal] = mapped_column(Numeric(18, 2))
    available_before: Mapped[Decimal] = mapped_column(Numeric(18, 2))
    oldest_overdue_days: Mapped[int] = mapped_column(Integer, default=0)
    counted_as_order: Mapped[bool] = mapped_column(Boolean, default=False)
    checked_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class InvoiceRecord(Base):
    """Read model of collections' invoices (InvoiceIssued / PaymentReceived) for DSO and payment behaviour."""

    __tablename__ = "invoice_records"

    invoice_id: Mapped[uuid.UUID] = mapped_column(GUID(), primary_key=True)
    customer_id: Mapped[uuid.UUID] = mapped_column(GUID(), index=True)
    number: Mapped[str] = mapped_column(String(100))
    issue_date: Mapped[date] = mapped_column(Date, index=True)
    due_date: Mapped[date] = mapped_column(Date)
    currency: Mapped[str] = mapped_column(String(3))
    amount: Mapped[Decimal] = mapped_column(Numeric(18, 2))
    outstanding: Mapped[Decimal] = mapped_column(Numeric(18, 2))
    paid_amount: Mapped[Decimal] = mapped_column(Numeric(18, 2), default=Decimal("0"))
    status: Mapped[str] = mapped_column(String(20), default="open")
    last_paid_on: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class InvoiceStamp(Base):
    """Which write of a customer's invoice records was the last: two reads that see the same stamp (or both no
    row) see the same invoices. Set by the database itself (triggers of migration 5c3e8a1d7b20) on every
    insert, update and delete of ``invoice_records``, in the writing transaction."""

    __tablename__ = "invoice_stamps"

    customer_id: Mapped[uuid.UUID] = mapped_column(GUID(), primary_key=True)
    stamp: Mapped[int] = mapped_column(
        BigInteger,
        comment="changes with every transaction that writes the customer's invoice_records (triggers):"
        " PostgreSQL the id of the last such transaction, SQLite a count of the writes",
    )


class CreditPolicyDocument(Base):
    """The credit policy in force (one row): per-grade standards, stop-supply stages, weights, thresholds."""

    __tablename__ = "credit_policy"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    document: Mapped[dict[str, Any]] = mapped_column(JSON)
    version: Mapped[int] = mapped_column(Integer, default=1)
    # Optimistic locking: UPDATE ... WHERE version = <read version>; the service bumps it.
    __mapper_args__ = {"version_id_col": version, "version_id_generator": False}
    updated_by: Mapped[str] = mapped_column(String(200))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
