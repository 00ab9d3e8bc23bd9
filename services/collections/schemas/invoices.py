"""Invoices: one or a billing run recorded, and how they read."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterable, Mapping
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from services.collections.domain.interest import PenaltyRateBasis
from shared.currency import Currency
from shared.inputs import BusinessDate, VisibleText
from shared.money import Money, PositiveMoney, money_string


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


def _json_datetime(value: datetime) -> str:
    text = value.isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def _same(value: Any) -> Any:
    return value


def _optional_date(value: date | None) -> str | None:
    return None if value is None else value.isoformat()


def _enum_value(value: Enum) -> Any:
    return value.value


# How each field of InvoiceRead is written in JSON (money: two decimals, half-up); a field added to the
# model without an entry here fails at import.
_JSON_FIELDS: dict[str, Callable[[Any], Any]] = {
    "id": str,
    "customer_id": str,
    "number": _same,
    "issue_date": date.isoformat,
    "due_date": date.isoformat,
    "currency": _same,
    "amount": money_string,
    "credit_terms": _same,
    "status": _same,
    "principal_outstanding": money_string,
    "interest_outstanding": money_string,
    "penalty_interest_rate": str,
    "penalty_interest_basis": _enum_value,
    "penalty_interest_accrued": money_string,
    "costs_outstanding": money_string,
    "amount_due": money_string,
    "discount_granted": money_string,
    "paid_on": _optional_date,
    "version": _same,
    "created_at": _json_datetime,
}
if list(_JSON_FIELDS) != list(InvoiceRead.model_fields):
    raise RuntimeError("invoice_items_json does not write InvoiceRead's fields in order")
_CONVERTERS = tuple(_JSON_FIELDS.items())


def invoice_items_json(views: Iterable[Mapping[str, Any]]) -> str:
    """``InvoiceBulkRead(items=[InvoiceRead(**view), ...]).model_dump_json()`` without a model per item.

    A billing run answers with 10,000 invoices; a model built and serialised per item was a third of the
    request. The views come from ``invoice_view`` (values of the fields' types); a unit test holds this to
    the models' own JSON.
    """
    # Amounts repeat across a run (zero interest, costs and discount; common amounts): each is formatted
    # once. Only money: its text depends on the value alone (1250.0 and 1250.00 alike), a datetime's does not.
    money: dict[Decimal, str] = {}
    items = []
    for view in views:
        item = {}
        for name, convert in _CONVERTERS:
            value = view[name]
            if convert is money_string:
                text = money.get(value)
                if text is None:
                    text = money[value] = money_string(value)
                item[name] = text
            else:
                item[name] = convert(value)
        items.append(item)
    return json.dumps({"items": items}, separators=(",", ":"), ensure_ascii=False)
