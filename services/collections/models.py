"""Tables of the collections service."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from shared.db import GUID, UTCDateTime, new_metadata
from shared.readmodels import KnownCustomerColumns


class Base(DeclarativeBase):
    metadata = new_metadata()


class KnownCustomer(KnownCustomerColumns, Base):
    """Read model of the registry's customers, kept from customers events."""


class CustomerProfile(Base):
    """What collections learns about a customer beyond the directory: contract, credit grade and hold."""

    __tablename__ = "customer_profiles"

    customer_id: Mapped[uuid.UUID] = mapped_column(GUID(), primary_key=True)
    contract_id: Mapped[uuid.UUID | None] = mapped_column(GUID())
    credit_terms: Mapped[str | None] = mapped_column(String(100))
    clause_kind: Mapped[str] = mapped_column(String(20), default="unknown")
    commission: Mapped[str | None] = mapped_column(String(200))
    credit_grade: Mapped[str | None] = mapped_column(String(10))
    on_credit_hold: Mapped[bool] = mapped_column(Boolean, default=False)
    credit_hold_independent: Mapped[bool] = mapped_column(
        Boolean,
        default=False,
        server_default=false(),
        comment="on credit hold for a reason other than collections (re-classifies as high risk)",
    )
    penalty_interest_annual_rate: Mapped[Decimal | None] = mapped_column(
        Numeric(7, 6), comment="the contract's agreed penalty rate a year; null: the policy's default"
    )
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Invoice(Base):
    """A receivable from a billing system; outstanding amounts split into principal, interest and costs."""

    __tablename__ = "invoices"
    __table_args__ = (
        UniqueConstraint("customer_id", "number_key", name="uq_invoices_customer_number_key"),
        Index("ix_invoices_status_due", "status", "due_date"),
        Index("ix_invoices_customer", "customer_id", "status"),
    )

    id: Mapped[uuid.UUID] = mapped_column(GUID(), primary_key=True)
    customer_id: Mapped[uuid.UUID] = mapped_column(GUID())
    number: Mapped[str] = mapped_column(String(100))
    number_key: Mapped[str] = mapped_column(
        String(100), comment="the number's identity: NFKC, dashes unified, spaces collapsed, case-folded"
    )
    issue_date: Mapped[date] = mapped_column(Date)
    due_date: Mapped[date] = mapped_column(Date)
    currency: Mapped[str] = mapped_column(String(3))
    amount: Mapped[Decimal] = mapped_column(Numeric(18, 2))
    credit_terms: Mapped[str] = mapped_column(String(100))
    principal_outstanding: Mapped[Decimal] = mapped_column(Numeric(18, 2))
    interest_outstanding: Mapped[Decimal] = mapped_column(Numeric(18, 2), default=Decimal("0"))
    interest_accrued_to: Mapped[date | None] = mapped_column(Date)
    costs_outstanding: Mapped[Decimal] = mapped_column(Numeric(18, 2), default=Decimal("0"))
    penalty_interest_rate: Mapped[Decimal | None] = mapped_column(
        Numeric(7, 6),
        comment="penalty rate a year agreed in the contract when the invoice arrived; null: the policy's",
    )
    discount_granted: Mapped[Decimal] = mapped_column(Numeric(18, 2), default=Decimal("0"))
    status: Mapped[str] = mapped_column(String(20), default="open")
    paid_on: Mapped[date | None] = mapped_column(Date)
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ReceivablesByDue(Base):
    """Open receivables per customer, currency and due date, kept by database triggers on ``invoices``.

    Every write that changes an invoice's open amount (recording, payments, write-offs, costs, interest,
    whatever the path) moves its bucket in the same statement, so a customer's receivables, overdue
    amount and oldest overdue due date read from a few buckets, never from all of its invoices. Triggers:
    migration ``b7c1d2e3f4a5`` (statement-level with transition tables on PostgreSQL, row-level on SQLite).
    """

    __tablename__ = "receivables_by_due"

    customer_id: Mapped[uuid.UUID] = mapped_column(GUID(), primary_key=True)
    currency: Mapped[str] = mapped_column(String(3), primary_key=True)
    due_date: Mapped[date] = mapped_column(Date, primary_key=True)
    open_amount: Mapped[Decimal] = mapped_column(
        Numeric(30, 2), comment="principal + interest + costs outstanding of the open invoices"
    )  # wider than an invoice's (18, 2): a sum of them
    open_count: Mapped[int] = mapped_column(Integer, comment="open invoices in the bucket (0: none left)")


class Payment(Base):
    """A payment applied to an invoice, with its allocation."""

    __tablename__ = "payments"

    id: Mapped[uuid.UUID] = mapped_column(GUID(), primary_key=True)
    invoice_id: Mapped[uuid.UUID] = mapped_column(GUID(), ForeignKey("invoices.id"), index=True)
    customer_id: Mapped[uuid.UUID] = mapped_column(GUID())
    paid_on: Mapped[date] = mapped_column(Date)
    amount: Mapped[Decimal] = mapped_column(Numeric(18, 2))
    costs_applied: Mapped[Decimal] = mapped_column(Numeric(18, 2))
    interest_applied: Mapped[Decimal] = mapped_column(Numeric(18, 2))
    principal_applied: Mapped[Decimal] = mapped_column(Numeric(18, 2))
    discount_granted: Mapped[Decimal] = mapped_column(Numeric(18, 2))
    reference: Mapped[str | None] = mapped_column(String(200))
    method: Mapped[str] = mapped_column(
        String(20),
        default="bank_transfer",
        server_default="bank_transfer",
        comment="cash, cheque, bank_transfer or other",
    )
    status: Mapped[str] = mapped_column(
        String(20),
        default="applied",
        server_default="applied",
        comment="applied, or bounced (a cheque returned unpaid)",
    )
    bounced_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    bounce_reason: Mapped[str | None] = mapped_column(Text)
    backdated_by: Mapped[str | None] = mapped_column(
        String(200), comment="subject that recorded it with paid_on beyond the backdating window"
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Case(Base):
    """One collection case per overdue invoice; the sweep's columns are denormalised for set-based SQL."""

    __tablename__ = "cases"
    __table_args__ = (Index("ix_cases_status_stage", "status", "stage"), Index("ix_cases_customer", "customer_id"))

    id: Mapped[uuid.UUID] = mapped_column(GUID(), primary_key=True)
    invoice_id: Mapped[uuid.UUID] = mapped_column(GUID(), ForeignKey("invoices.id"), unique=True)
    customer_id: Mapped[uuid.UUID] = mapped_column(GUID())
    stage: Mapped[str | None] = mapped_column(String(20))
    stage_rank: Mapped[int] = mapped_column(Integer, default=-1)
    previous_stage: Mapped[str | None] = mapped_column(String(20), comment="stage before the last move")
    last_broken_promise: Mapped[date | None] = mapped_column(Date, comment="promise broken by the last move")
    status: Mapped[str] = mapped_column(String(20), default="open")
    segment: Mapped[str] = mapped_column(String(20), default="general")
    route: Mapped[str] = mapped_column(String(20), default="court")
    clause_kind: Mapped[str] = mapped_column(String(20), default="unknown")
    commission: Mapped[str | None] = mapped_column(String(200))
    due_date: Mapped[date] = mapped_column(Date)
    currency: Mapped[str] = mapped_column(String(3))
    outstanding: Mapped[Decimal] = mapped_column(Numeric(18, 2))
    disputed_amount: Mapped[Decimal] = mapped_column(Numeric(18, 2), default=Decimal("0"))
    promise_to_pay: Mapped[date | None] = mapped_column(Date)
    limitation_from: Mapped[date | None] = mapped_column(
        Date, comment="the last interruption of the limitation period (PRC Civil Code art. 195); null: due date"
    )
    limitation_basis: Mapped[str] = mapped_column(
        String(30),
        default="due_date",
        server_default="due_date",
        comment="why the limitation period runs from limitation_from",
    )
    malicious: Mapped[bool] = mapped_column(Boolean, default=False)
    write_off_review: Mapped[bool] = mapped_column(Boolean, default=False)
    resolution: Mapped[str | None] = mapped_column(String(40))
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class CaseHistory(Base):
    """Every change of a case: stages passed (one row each) and manual operations."""

    __tablename__ = "case_history"

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer(), "sqlite"),
        primary_key=True,
        autoincrement=True,
        comment="order of the history",
    )
    # No foreign key: the sweep writes one row per stage passed in bulk, and cases are never deleted.
    case_id: Mapped[uuid.UUID] = mapped_column(GUID(), index=True)
    as_of: Mapped[date | None] = mapped_column(Date)
    event: Mapped[str] = mapped_column(String(40))
    from_stage: Mapped[str | None] = mapped_column(String(20))
    to_stage: Mapped[str | None] = mapped_column(String(20))
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    rule: Mapped[str | None] = mapped_column(Text)
    reason: Mapped[str] = mapped_column(Text)
    policy_version: Mapped[int | None] = mapped_column(Integer)
    actor: Mapped[str | None] = mapped_column(String(200))


class SweepAnnouncement(Base):
    """A customer a sweep moved whose ``receivables_changed`` is not written yet.

    Written in the transaction of the chunk that moved (or opened) the customer's case and emptied by the
    sweep's last transaction, which announces them: a sweep resumed after a crash announces every customer
    moved before the crash too, not only the ones it moved itself.
    """

    __tablename__ = "sweep_announcements"

    customer_id: Mapped[uuid.UUID] = mapped_column(GUID(), primary_key=True)


class CaseAction(Base):
    """An action carried out on a case (letter, visit, agency, filing), with its cost and details."""

    __tablename__ = "case_actions"

    id: Mapped[uuid.UUID] = mapped_column(GUID(), primary_key=True)
    case_id: Mapped[uuid.UUID] = mapped_column(GUID(), ForeignKey("cases.id"), index=True)
    customer_id: Mapped[uuid.UUID] = mapped_column(GUID())
    stage: Mapped[str] = mapped_column(String(20))
    kind: Mapped[str] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(20), default="done")
    cost: Mapped[Decimal] = mapped_column(Numeric(18, 2), default=Decimal("0"))
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Agency(Base):
    """A collection agency of the registry."""

    __tablename__ = "agencies"

    id: Mapped[uuid.UUID] = mapped_column(GUID(), primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    recovery_rate: Mapped[Decimal] = mapped_column(Numeric(9, 6))
    commission_rate: Mapped[Decimal] = mapped_column(Numeric(9, 6))
    min_debt: Mapped[Decimal] = mapped_column(Numeric(18, 2), default=Decimal("0"))
    max_debt: Mapped[Decimal | None] = mapped_column(Numeric(18, 2))
    max_open_cases: Mapped[int | None] = mapped_column(Integer)
    report_deadline_days: Mapped[int] = mapped_column(Integer, default=30)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class PolicyVersion(Base):
    """A stored version of the escalation policy; the highest version is current."""

    __tablename__ = "policies"

    version: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    document: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ContactPreference(Base):
    """A customer's consent per channel (email, sms, phone) and time zone, for contact discipline."""

    __tablename__ = "contact_preferences"

    customer_id: Mapped[uuid.UUID] = mapped_column(GUID(), primary_key=True)
    consent: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    time_zone: Mapped[str] = mapped_column(String(64))
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ContactLog(Base):
    """Every contact made with a customer (letter, visit, call...), counted against the weekly cap."""

    __tablename__ = "contact_log"
    __table_args__ = (Index("ix_contact_log_customer_at", "customer_id", "at"),)

    id: Mapped[uuid.UUID] = mapped_column(GUID(), primary_key=True)
    customer_id: Mapped[uuid.UUID] = mapped_column(GUID())
    case_id: Mapped[uuid.UUID | None] = mapped_column(GUID())
    action_id: Mapped[uuid.UUID | None] = mapped_column(GUID())
    channel: Mapped[str] = mapped_column(String(20))
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class InvoiceImport(Base):
    """A streamed billing run (NDJSON or CSV upload): staged lines, processed in chunks by a worker."""

    __tablename__ = "invoice_imports"
    __table_args__ = (Index("ix_invoice_imports_status_created", "status", "created_at"),)

    id: Mapped[uuid.UUID] = mapped_column(GUID(), primary_key=True)
    status: Mapped[str] = mapped_column(
        String(30), comment="queued, running, succeeded, partially_succeeded or failed (ImportStatus)"
    )
    format: Mapped[str] = mapped_column(String(10), comment="ndjson or csv")
    lines_read: Mapped[int] = mapped_column(Integer, comment="records staged from the upload (blank lines aside)")
    lines_processed: Mapped[int] = mapped_column(Integer, default=0)
    accepted: Mapped[int] = mapped_column(Integer, default=0)
    rejected: Mapped[int] = mapped_column(Integer, default=0)
    processed_through: Mapped[int] = mapped_column(
        Integer, default=0, comment="line number of the last line of the last chunk committed (the resume point)"
    )
    created_by: Mapped[str] = mapped_column(String(200))
    lease_owner: Mapped[str | None] = mapped_column(String(200))
    lease_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    attempts: Mapped[int] = mapped_column(
        Integer, default=0, server_default="0", comment="failed attempts at the current chunk (0 once it commits)"
    )
    last_error: Mapped[str | None] = mapped_column(Text, comment="why the most recent attempt at a chunk failed")
    last_error_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    next_attempt_at: Mapped[datetime | None] = mapped_column(
        UTCDateTime(), comment="a failed chunk is not tried again before this (exponential backoff)"
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class InvoiceImportLine(Base):
    """One record of an import: its content until processed, then its outcome (the invoice or the problems)."""

    __tablename__ = "invoice_import_lines"

    import_id: Mapped[uuid.UUID] = mapped_column(GUID(), ForeignKey("invoice_imports.id"), primary_key=True)
    line: Mapped[int] = mapped_column(Integer, primary_key=True, comment="1-based line number in the upload")
    content: Mapped[str | None] = mapped_column(
        Text, comment="the record as a JSON object (CSV: header -> cell); null once processed or when unreadable"
    )
    outcome: Mapped[str] = mapped_column(String(10), comment="pending, accepted or rejected")
    invoice_id: Mapped[uuid.UUID | None] = mapped_column(GUID())
    number: Mapped[str | None] = mapped_column(String(100))
    problems: Mapped[list[dict[str, str]] | None] = mapped_column(JSON)


class BillingRecordWaiting(Base):
    """An invoice a billing system published for a customer not yet registered: recorded when it registers."""

    __tablename__ = "billing_records_waiting"
    __table_args__ = (Index("ix_billing_records_waiting_customer", "customer_id", "seq"),)

    seq: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=True, comment="arrival order"
    )
    record_id: Mapped[str] = mapped_column(
        String(200), unique=True, comment="the record's inbox id (CloudEvent source + id, or its content key)"
    )
    customer_id: Mapped[uuid.UUID] = mapped_column(GUID())
    invoice: Mapped[str] = mapped_column(Text, comment="the published invoice, as JSON in the bulk item's schema")
    status: Mapped[str] = mapped_column(
        String(10), comment="waiting, or refused (the registration came but the invoice was refused: see reason)"
    )
    reason: Mapped[str | None] = mapped_column(Text)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
