"""Events produced by the collections service (topic ``creditflow.collections``).

Amounts are Decimal (JSON strings) in ``currency``; keyed by customer id, so one customer's events
arrive in order.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import ClassVar

from pydantic import Field

from shared.events.base import Event
from shared.stage import Stage


class InvoiceIssued(Event):
    """A receivable arrived from a billing system."""

    event_type: ClassVar[str] = "creditflow.collections.invoice_issued.v1"
    invoice_id: uuid.UUID
    number: str
    issue_date: date
    due_date: date
    currency: str
    amount: Decimal
    credit_terms: str


class PaymentReceived(Event):
    """A payment was applied to an invoice (costs, then penalty interest, then principal by default)."""

    event_type: ClassVar[str] = "creditflow.collections.payment_received.v1"
    invoice_id: uuid.UUID
    payment_id: uuid.UUID
    paid_on: date
    currency: str
    amount: Decimal
    discount_granted: Decimal = Decimal("0")
    invoice_outstanding: Decimal
    invoice_status: str = Field(description="open, paid or written_off")


class PaymentReversed(Event):
    """A payment was reversed (a cheque bounced): its allocation is undone and the invoice is open again.

    Optional for consumers; ``PaymentReceived`` of the same ``payment_id`` stays as published.
    """

    event_type: ClassVar[str] = "creditflow.collections.payment_reversed.v1"
    invoice_id: uuid.UUID
    payment_id: uuid.UUID
    method: str = Field("cheque", description="payment method: cash, cheque, bank_transfer or other")
    reason: str
    currency: str
    amount: Decimal = Field(description="the amount reversed")
    fee_charged: Decimal = Field(Decimal("0"), description="bounce fee added to the invoice's costs")
    discount_restored: Decimal = Field(
        Decimal("0"), description="early-payment discount the payment had earned, owed again"
    )
    invoice_outstanding: Decimal
    invoice_status: str = Field(description="open after the reversal")
    reversed_at: datetime


class InvoiceOverdue(Event):
    """An invoice was found past its due date by the sweep."""

    event_type: ClassVar[str] = "creditflow.collections.invoice_overdue.v1"
    invoice_id: uuid.UUID
    due_date: date
    days_overdue: int
    currency: str
    outstanding: Decimal


class CaseOpened(Event):
    """A collection case was opened for an overdue invoice."""

    event_type: ClassVar[str] = "creditflow.collections.case_opened.v1"
    case_id: uuid.UUID
    invoice_id: uuid.UUID
    opened_at: datetime
    currency: str
    outstanding: Decimal


class StageEntered(Event):
    """A case entered an escalation stage; stage handlers carry out its action."""

    event_type: ClassVar[str] = "creditflow.collections.stage_entered.v1"
    case_id: uuid.UUID
    invoice_id: uuid.UUID
    # A Stage; a stage a newer collections adds arrives as its plain string, so that older consumers
    # can log and skip it (credit keeps only the stop_supply flag) instead of failing the event.
    stage: Stage | str = Field(
        union_mode="left_to_right", description="letter, visit, agency, arbitration or litigation"
    )
    previous_stage: Stage | str | None = Field(None, union_mode="left_to_right")
    rule: str
    reason: str
    policy_version: int
    days_overdue: int
    currency: str
    amount: Decimal = Field(description="the amount escalating (undisputed outstanding)")
    stop_supply: bool = False
    entered_at: datetime
    as_of: date | None = Field(None, description="the day the sweep (or operation) ran as of")
    keep_supplying: bool = Field(
        False, description="the debtor's segment keeps supply going (a key account, arrears not malicious)"
    )
    as_of_at: datetime | None = Field(
        None, description="the sweep's instant (contact rules are judged at it); null: entered_at"
    )


class PromiseRecorded(Event):
    """The customer promised to pay by a date; escalation pauses until then."""

    event_type: ClassVar[str] = "creditflow.collections.promise_recorded.v1"
    case_id: uuid.UUID
    invoice_id: uuid.UUID
    promised_on: date
    currency: str
    amount: Decimal


class CaseResolved(Event):
    """A case closed because its invoice was settled."""

    event_type: ClassVar[str] = "creditflow.collections.case_resolved.v1"
    case_id: uuid.UUID
    invoice_id: uuid.UUID
    resolution: str = Field(description="paid, settled_by_agency, ...")
    final_stage: str | None = None


class CaseWrittenOff(Event):
    """A case was written off (manually, or after a write-off review)."""

    event_type: ClassVar[str] = "creditflow.collections.case_written_off.v1"
    case_id: uuid.UUID
    invoice_id: uuid.UUID
    currency: str
    amount: Decimal
    reason: str
    actor: str


class ReceivablesChanged(Event):
    """The customer's open and overdue receivables after a change (invoice, payment, sweep, write-off).

    Credit uses it for exposure and to release holds; the registry for its overview.
    """

    event_type: ClassVar[str] = "creditflow.collections.receivables_changed.v1"
    currency: str
    open_receivables: Decimal
    overdue_amount: Decimal
    oldest_overdue_days: int = 0
    highest_open_stage: str | None = None
    as_of: datetime


class ArrearsMarkedMalicious(Event):
    """A credit manager marked a case's arrears malicious (恶性拖欠); for a key account this ends supply."""

    event_type: ClassVar[str] = "creditflow.collections.arrears_marked_malicious.v1"
    case_id: uuid.UUID
    invoice_id: uuid.UUID
    reason: str
    actor: str
    stop_supply: bool = Field(description="supply must stop now (credit places a hold)")
    marked_at: datetime
