"""Request and response models of the collections API."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator

from services.collections.domain.cases import VisitOutcome
from services.collections.domain.contact import Channel
from services.collections.domain.escalation import Waiting
from services.collections.domain.interest import PenaltyRateBasis
from services.collections.domain.limitation import LimitationBasis
from services.collections.domain.metrics import CostChannel
from services.collections.domain.periods import Interval
from services.collections.domain.stages import CaseStatus, Segment
from shared.currency import Currency
from shared.inputs import EARLIEST_BUSINESS_DATE, LATEST_BUSINESS_DATE, BusinessDate, VisibleText
from shared.money import Money, PositiveMoney
from shared.stage import Stage

Rate = Annotated[Decimal, Field(ge=0, le=1, max_digits=9, decimal_places=6, examples=["0.45"])]

PaymentMethod = Literal["cash", "cheque", "bank_transfer", "other"]


class InvoiceCreate(BaseModel):
    """An invoice sent by a billing system; terms default to the customer's contract, due date to the terms."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "customer_id": "7b0c2a4e-3f51-4c1e-9d3b-0d6a3c1f2e10",
                    "number": "INV-2026-0001",
                    "issue_date": "2026-01-01",
                    "due_date": "2026-01-31",
                    "currency": "CNY",
                    "amount": "60000.00",
                    "credit_terms": "2/10, n/30",
                }
            ]
        },
    )

    customer_id: uuid.UUID
    number: VisibleText = Field(
        min_length=1,
        max_length=100,
        description="shown as given; unique per customer ignoring case, spacing and look-alike dashes",
    )
    issue_date: BusinessDate
    due_date: BusinessDate | None = Field(None, description="defaults to issue date + net days of the terms")
    currency: Currency
    amount: PositiveMoney
    credit_terms: str | None = Field(None, max_length=100, examples=["2/10, n/30"])


class InvoiceBulkCreate(BaseModel):
    """Invoices of one billing run: all are recorded, or none (per-item errors)."""

    model_config = ConfigDict(extra="forbid")

    invoices: list[InvoiceCreate] = Field(min_length=1)


class InvoiceRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    customer_id: uuid.UUID
    number: str
    issue_date: date
    due_date: date
    currency: str
    amount: Money
    credit_terms: str
    status: Literal["open", "paid", "written_off"]
    principal_outstanding: Money
    interest_outstanding: Money = Field(
        description="penalty interest billed and unpaid (accrued to today when the service charges penalty interest)"
    )
    penalty_interest_rate: Decimal = Field(description="penalty interest a year, a fraction (0.1825 = 18.25 %)")
    penalty_interest_basis: PenaltyRateBasis = Field(
        description="contract: agreed in the customer's contract; policy_default: the escalation policy's rate"
    )
    penalty_interest_accrued: Money = Field(
        description="penalty interest at the policy's rate on the overdue "
        "principal to today, whether charged or only claimable"
    )
    costs_outstanding: Money
    amount_due: Money = Field(description="principal + penalty interest + costs outstanding")
    discount_granted: Money
    paid_on: date | None = None
    version: int
    created_at: datetime


class InvoiceBulkRead(BaseModel):
    items: list[InvoiceRead]


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


class SweepRequest(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"as_of": "2026-03-01"}, {"as_of": "2026-03-15T09:30:00+08:00"}]},
    )

    as_of: AwareDatetime | date | None = Field(
        None,
        description="the day, or an RFC 3339 instant with its offset, to sweep as of; defaults to now. Contact "
        "rules (quiet hours, weekly caps) are judged at the instant; the day is the instant's own calendar day",
    )

    @field_validator("as_of")
    @classmethod
    def _as_of_in_business_range(cls, value: datetime | date | None) -> datetime | date | None:
        day = value.date() if isinstance(value, datetime) else value
        if day is not None and not EARLIEST_BUSINESS_DATE <= day <= LATEST_BUSINESS_DATE:
            raise ValueError(f"must be a day from {EARLIEST_BUSINESS_DATE} to {LATEST_BUSINESS_DATE}")
        return value

    def as_of_day(self, now: datetime) -> date:
        """The calendar day the sweep runs as of."""
        if isinstance(self.as_of, datetime):
            return self.as_of.date()
        return self.as_of or now.date()

    def as_of_instant(self) -> datetime | None:
        """The instant asked for, if one was (a bare day has none)."""
        return self.as_of if isinstance(self.as_of, datetime) else None


class SweepResult(BaseModel):
    as_of: date
    policy_version: int
    cases_opened: int
    cases_moved: int
    stages_entered: dict[str, int] = Field(description="stage → number of cases entering it")
    write_off_review: int


class HistoryRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    event: str
    from_stage: Stage | None = Field(serialization_alias="from")
    to_stage: Stage | None = Field(serialization_alias="to")
    at: datetime
    as_of: date | None
    rule: str | None
    reason: str
    policy_version: int | None
    actor: str | None


class ActionRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    stage: str
    kind: str
    status: str
    cost: Money
    details: dict[str, Any]
    created_at: datetime


class NextActionRead(BaseModel):
    """What the escalation policy does next with the case, and from which day."""

    model_config = ConfigDict(from_attributes=True)

    stage: Stage = Field(description="the next stage of the case's route")
    due_on: date = Field(description="the day it becomes due under the current policy")
    min_amount: Money = Field(description="the undisputed amount it requires")
    rule: str = Field(description="the rule in words")
    waiting_for: Waiting | None = Field(
        None,
        description="why it will not fire on that day alone: promise_to_pay, manual_hold, dispute, "
        "amount_below_threshold",
    )


class CaseRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    invoice_id: uuid.UUID
    customer_id: uuid.UUID
    customer_name: str | None = Field(None, description="from the customer directory; null until it is known")
    days_overdue: int = Field(0, description="days past the due date as of the service's clock (negative: not due)")
    next_action: NextActionRead | None = Field(
        None, description="the next stage and when it is due; null when closed or at the final stage"
    )
    stage: Stage | None
    status: CaseStatus
    segment: Segment
    route: str
    clause_kind: str = Field("unknown", description="the contract's dispute clause: arbitration, court or unknown")
    commission: str | None
    due_date: date
    currency: str
    outstanding: Money
    disputed_amount: Money
    promise_to_pay: date | None
    write_off_review: bool
    malicious: bool = Field(False, description="arrears marked malicious (恶性拖欠)")
    limitation_running_from: date | None = Field(
        None, description="the limitation period runs from this day: the due date or the last interruption"
    )
    limitation_basis: LimitationBasis = Field(
        LimitationBasis.DUE_DATE,
        description="due_date, dunning_letter, visit_demand, acknowledgement, promise_to_pay, partial_payment or "
        "filing (PRC Civil Code art. 195)",
    )
    limitation_expires_on: date | None = Field(None, description="last day the claim may still be filed in court")
    resolution: str | None
    opened_at: datetime
    closed_at: datetime | None
    version: int


class CaseDetail(CaseRead):
    history: list[HistoryRead]
    actions: list[ActionRead]


class PromiseCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"promised_on": "2026-04-15"}]})

    promised_on: BusinessDate
    amount: PositiveMoney | None = Field(None, description="defaults to the outstanding amount")


class AcknowledgementCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"acknowledged_on": "2026-04-20", "note": "balance confirmation signed"}]},
    )

    acknowledged_on: date | None = Field(
        None, description="the day the debtor acknowledged the debt; defaults to today"
    )
    note: str = Field(min_length=1, max_length=500, description="how: a signed balance confirmation, a letter ...")


class DisputeCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"disputed_amount": "1000.00", "reason": "damaged goods"}]}
    )

    disputed_amount: PositiveMoney
    reason: str = Field(min_length=1, max_length=500)


class CaseActionCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"action": "hold", "reason": "negotiating"}]}
    )

    action: Literal["escalate", "hold", "release", "write_off", "mark_malicious"] = Field(
        description="mark_malicious: the arrears are malicious (恶性拖欠); a key account's supply then stops"
    )
    reason: str = Field(min_length=1, max_length=500)
    override_amount: bool = Field(False, description="escalate even below the next stage's amount threshold")


class VisitOutcomeCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"outcome": "promise", "promised_on": "2026-04-30"}]}
    )

    outcome: VisitOutcome
    visited_on: BusinessDate | None = None
    promised_on: BusinessDate | None = None
    disputed_amount: PositiveMoney | None = None
    amount_paid: PositiveMoney | None = Field(None, description="paid: defaults to everything due")


class LetterRead(BaseModel):
    id: uuid.UUID
    case_id: uuid.UUID
    tone: str
    subject: str
    html: str
    letter_date: date
    reply_by: date


class AgencyCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "name": "Eastern Recovery Ltd",
                    "recovery_rate": "0.6",
                    "commission_rate": "0.2",
                    "min_debt": "10000.00",
                }
            ]
        },
    )

    name: VisibleText = Field(min_length=1, max_length=200)
    recovery_rate: Rate
    commission_rate: Rate
    min_debt: Money = Decimal("0")
    max_debt: Money | None = None
    max_open_cases: int | None = Field(None, ge=0)
    report_deadline_days: int = Field(30, ge=1)
    active: bool = True


class AgencyRead(AgencyCreate):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    created_at: datetime


class AgencyReportCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"reported_on": "2026-05-01", "recovered": "5000.00", "note": "instalment plan agreed"}]
        },
    )

    reported_on: BusinessDate | None = None
    recovered: Money = Field(Decimal("0"), ge=0)
    note: str = Field("", max_length=1000)


class PolicyDocument(BaseModel):
    """The escalation policy (product.md section 5) as stored; `version` is read-only."""

    model_config = ConfigDict(
        extra="allow",
        json_schema_extra={
            "examples": [
                {
                    "stages": [
                        {"stage": "letter", "min_days_overdue": 1, "min_amount": "0"},
                        {"stage": "visit", "min_days_overdue": 30, "min_amount": "0"},
                        {"stage": "agency", "min_days_overdue": 60, "min_amount": "10000"},
                        {"stage": "arbitration", "min_days_overdue": 90, "min_amount": "0"},
                        {"stage": "litigation", "min_days_overdue": 90, "min_amount": "50000"},
                    ]
                }
            ]
        },
    )


class SimulateRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    policy: dict[str, Any] = Field(description="a draft policy document")
    as_of: BusinessDate


class SimulatedMoveRead(BaseModel):
    case_id: uuid.UUID | None
    invoice_id: uuid.UUID | None = None
    from_stage: Stage | None
    to_stage: Stage | None
    stages_passed: list[Stage]
    write_off_review: bool
    reason: str


class SimulateResult(BaseModel):
    as_of: date
    moves: list[SimulatedMoveRead]


class FunnelPeriodRead(BaseModel):
    """Open cases per stage at the end of one period."""

    start: date
    end: date
    open_cases: dict[Stage, int] = Field(description="every stage, 0 when none; as of the end of the period")
    total: int


class StageFunnelRead(BaseModel):
    """The escalation funnel over time, from case history: open cases per stage at each period's end."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "start": "2026-01-01",
                    "end": "2026-02-28",
                    "interval": "month",
                    "periods": [
                        {
                            "start": "2026-01-01",
                            "end": "2026-01-31",
                            "open_cases": {"letter": 3, "visit": 0, "agency": 1, "arbitration": 0, "litigation": 0},
                            "total": 4,
                        }
                    ],
                }
            ]
        }
    )

    start: date
    end: date
    interval: Interval
    periods: list[FunnelPeriodRead]


# --- reports -------------------------------------------------------------------------------------

DecimalText = Annotated[str, Field(pattern=r"^-?\d+(\.\d+)?$", examples=["1200.00"])]


class AgingBucketsRead(BaseModel):
    """Outstanding amounts by days past due (``current``: not yet due) and their total, as decimal strings."""

    model_config = ConfigDict(populate_by_name=True)
    current: DecimalText
    days_1_30: DecimalText = Field(alias="1-30")
    days_31_60: DecimalText = Field(alias="31-60")
    days_61_90: DecimalText = Field(alias="61-90")
    days_91_180: DecimalText = Field(alias="91-180")
    over_180: DecimalText
    total: DecimalText


class AgingReportRead(BaseModel):
    """Receivables aging as of a date: per customer (keyed by customer id) and overall."""

    as_of: date
    customers: dict[str, AgingBucketsRead]
    overall: AgingBucketsRead


class CostLineRead(BaseModel):
    """Collection actions, distinct cases and their cost in one stage or channel."""

    actions: int
    cases: int
    total: DecimalText
    average_per_case: DecimalText


class CostReportRead(BaseModel):
    """Cost per escalation stage and per channel (in-house, agency, legal); every one listed, zero when unused."""

    per_stage: dict[Stage, CostLineRead]
    per_channel: dict[CostChannel, CostLineRead]


class PerformanceReportRead(BaseModel):
    """Collection performance over a period; ratios and days are decimal strings, null when undefined."""

    model_config = ConfigDict(populate_by_name=True)
    date_from: date = Field(alias="from")
    date_to: date = Field(alias="to")
    dso_days: DecimalText | None = Field(description="days sales outstanding over the period")
    collection_effectiveness_index: DecimalText | None = Field(description="CEI, 0–100")
    recovery_rate: DecimalText | None = Field(description="recovered / placed in collection, a fraction")
    placed_in_collection: DecimalText
    recovered: DecimalText
    cost_per_stage: CostReportRead
    cases: dict[CaseStatus, int] = Field(description="cases by status")
