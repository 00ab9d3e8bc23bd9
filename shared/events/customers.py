"""Events produced by the customers service (topic ``creditflow.customers``)."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import ClassVar

from pydantic import Field

from shared.events.base import Event


class CustomerRegistered(Event):
    """A customer (or prospect) was added to the registry."""

    event_type: ClassVar[str] = "creditflow.customers.customer_registered.v1"
    name: str
    kind: str
    channel_role: str | None = None
    lifecycle: str
    region: str | None = None
    industry: str | None = None
    tax_id: str | None = None
    segment: str = Field("general", description="collections strategy segment: key_account, general, high_risk")


class CustomerUpdated(Event):
    """Registry data of a customer changed; ``changes`` holds the new values of the changed fields."""

    event_type: ClassVar[str] = "creditflow.customers.customer_updated.v1"
    version: int
    changes: dict[str, object]


class ContractSigned(Event):
    """A contract was recorded; collections uses its dispute clause, credit its terms."""

    event_type: ClassVar[str] = "creditflow.customers.contract_signed.v1"
    contract_id: uuid.UUID
    number: str
    credit_terms: str | None = None
    dispute_resolution: dict[str, str]
    valid_from: str
    valid_to: str | None = None
    penalty_interest_annual_rate: Decimal | None = Field(
        None, description="agreed late-payment rate a year, a fraction; null (or absent): the policy's default"
    )


class ComplaintOpened(Event):
    """A complaint was recorded; one about an invoice makes collections treat the invoice as disputed."""

    event_type: ClassVar[str] = "creditflow.customers.complaint_opened.v1"
    complaint_id: uuid.UUID
    category: str
    invoice_id: uuid.UUID | None = None
    disputed_amount: Decimal | None = Field(None, description="null: the whole invoice is disputed")


class ComplaintClosed(Event):
    """A complaint reached a terminal state (closed or rejected)."""

    event_type: ClassVar[str] = "creditflow.customers.complaint_closed.v1"
    complaint_id: uuid.UUID
    invoice_id: uuid.UUID | None = None
    outcome: str = Field(description="closed or rejected")
