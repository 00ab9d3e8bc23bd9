"""Collection cases: their history, actions, next action, and what a collector records on them."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from services.collections.domain.cases import VisitOutcome
from services.collections.domain.escalation import Waiting
from services.collections.domain.limitation import LimitationBasis
from services.collections.domain.stages import CaseStatus, Segment
from shared.inputs import BusinessDate
from shared.money import Money, PositiveMoney
from shared.stage import Stage


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
