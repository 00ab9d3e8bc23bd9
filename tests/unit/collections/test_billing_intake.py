"""The billing intake without a broker: reading records, the redelivery rule, the bulk path's problems by record."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest
from aiokafka.structs import ConsumerRecord

from services.collections.domain.billing import BilledInvoice, same_invoice
from services.collections.intake import INVOICE_ISSUED, PLAIN_JSON_SOURCE, intakes, read_invoice_record
from services.collections.service.billing import refusals_by_record
from services.collections.settings import CollectionsSettings
from shared.clock import FixedClock
from shared.cloudevents import MalformedEvent
from shared.consumer import InboxConsumer
from shared.db import Database
from shared.errors import DomainRuleViolation, PermanentEventError

CUSTOMER = "7b0c2a4e-3f51-4c1e-9d3b-0d6a3c1f2e10"
INVOICE = {"customer_id": CUSTOMER, "number": "INV-1", "issue_date": "2026-01-01", "currency": "CNY", "amount": "10.00"}
TOPIC = "creditflow.billing.invoices"


def record(value: Any, headers: list[tuple[str, bytes]] | None = None, offset: int = 7) -> ConsumerRecord[Any, Any]:
    raw = value if isinstance(value, bytes) else json.dumps(value).encode()
    return ConsumerRecord(
        topic=TOPIC,
        partition=2,
        offset=offset,
        timestamp=0,
        timestamp_type=0,
        key=CUSTOMER.encode(),
        value=raw,
        checksum=None,
        serialized_key_size=0,
        serialized_value_size=len(raw),
        headers=headers or [],
    )


def ce(event_type: str = INVOICE_ISSUED, **overrides: bytes) -> list[tuple[str, bytes]]:
    headers = {"ce_id": b"e-1", "ce_source": b"/erp", "ce_type": event_type.encode(), "ce_specversion": b"1.0"}
    return list((headers | overrides).items())


def test_a_cloudevent_is_read_with_its_source_and_id_as_identity() -> None:
    envelope = read_invoice_record(record(INVOICE, ce(ce_traceparent=b"00-" + b"1" * 32 + b"-" + b"2" * 16 + b"-01")))
    assert envelope.id == "/erp e-1" and envelope.type == INVOICE_ISSUED and envelope.source == "/erp"
    assert (envelope.topic, envelope.partition, envelope.offset) == (TOPIC, 2, 7)
    assert envelope.data.invoice.amount == Decimal("10.00")  # type: ignore[attr-defined]
    assert envelope.headers["traceparent"].startswith("00-111")


def test_plain_json_identity_is_customer_number_and_content_not_the_offset() -> None:
    first = read_invoice_record(record(INVOICE, offset=1))
    again = read_invoice_record(record(INVOICE, offset=99))
    other = read_invoice_record(record(INVOICE | {"amount": "11.00"}, offset=100))
    assert first.id == again.id and first.id != other.id
    assert first.id.startswith(f"{PLAIN_JSON_SOURCE} {CUSTOMER} inv-1 ") and len(first.id) <= 200
    assert first.type == other.type == INVOICE_ISSUED


@pytest.mark.parametrize(
    ("value", "headers", "reason"),
    [
        pytest.param(b"{not json", [], "json", id="not-json"),
        pytest.param(INVOICE | {"amount": "-1"}, [], "amount", id="negative-amount"),
        pytest.param(INVOICE | {"colour": "red"}, [], "colour", id="unknown-field"),
        pytest.param(INVOICE, ce("creditflow.billing.invoice_voided.v1"), "unknown event type", id="other-type"),
        pytest.param(INVOICE, [(n, v) for n, v in ce() if n != "ce_id"], "missing ce_id", id="no-ce-id"),
        pytest.param(INVOICE, ce(ce_specversion=b"0.3"), "specversion", id="old-spec"),
    ],
)
def test_a_record_that_cannot_be_read_says_why(value: Any, headers: list[tuple[str, bytes]], reason: str) -> None:
    with pytest.raises(MalformedEvent) as refused:
        read_invoice_record(record(value, headers))
    assert reason in str(refused.value).lower()


RECORDED = BilledInvoice(date(2026, 1, 1), "CNY", Decimal("10.00"), date(2026, 1, 31), "N/30")


@pytest.mark.parametrize(
    ("published", "same"),
    [
        pytest.param(BilledInvoice(date(2026, 1, 1), "cny", Decimal("10")), True, id="defaults-filled-in"),
        pytest.param(
            BilledInvoice(date(2026, 1, 1), "CNY", Decimal("10.00"), date(2026, 1, 31), "n/30"), True, id="all"
        ),
        pytest.param(BilledInvoice(date(2026, 1, 1), "CNY", Decimal("10.01")), False, id="amount"),
        pytest.param(BilledInvoice(date(2026, 1, 2), "CNY", Decimal("10.00")), False, id="issue-date"),
        pytest.param(BilledInvoice(date(2026, 1, 1), "USD", Decimal("10.00")), False, id="currency"),
        pytest.param(BilledInvoice(date(2026, 1, 1), "CNY", Decimal("10"), date(2026, 2, 1)), False, id="due-date"),
        pytest.param(BilledInvoice(date(2026, 1, 1), "CNY", Decimal("10"), None, "n/45"), False, id="terms"),
    ],
)
def test_a_republished_invoice_is_the_recorded_one_when_what_it_states_agrees(
    published: BilledInvoice, same: bool
) -> None:
    assert same_invoice(published, RECORDED) is same


def test_the_bulk_paths_problems_are_told_to_their_records() -> None:
    problems = DomainRuleViolation(
        "2 problems",
        errors=[
            {"field": "body.invoices.2.customer_id", "message": "customer x is not known to the registry"},
            {"field": "body.invoices.0.due_date", "message": "due date before issue date"},
            {"field": "body.invoices.2.credit_terms", "message": "malformed"},
        ],
    )
    assert refusals_by_record(problems, ["a", "b", "c"]) == {
        "c": "invalid invoice: customer_id: customer x is not known to the registry; credit_terms: malformed",
        "a": "invalid invoice: due_date: due date before issue date",
    }
    # A problem tied to no record: the consumer falls back to one record a transaction, which finds it.
    with pytest.raises(PermanentEventError):
        refusals_by_record(DomainRuleViolation("too many", errors=[{"field": "body", "message": "?"}]), ["a", "b"])
    assert refusals_by_record(DomainRuleViolation("bad", errors=[{"field": "body", "message": "?"}]), ["a"]) == {
        "a": "invalid invoice: ?"
    }


def test_the_intake_can_be_switched_off_and_then_its_topic_is_not_read() -> None:
    db = Database("sqlite+aiosqlite:///:memory:")
    clock = FixedClock(datetime(2026, 3, 1, 9, 0, tzinfo=UTC))
    on = CollectionsSettings(kafka_bootstrap_servers="127.0.0.1:9")
    off = CollectionsSettings(kafka_bootstrap_servers="127.0.0.1:9", billing_intake_enabled=False)
    moved = CollectionsSettings(billing_invoices_topic="erp.invoices")
    assert [intake.topic for intake in intakes(on)] == [TOPIC]
    assert intakes(off) == [] and [intake.topic for intake in intakes(moved)] == ["erp.invoices"]
    assert InboxConsumer(db, on, clock, {}, intakes(on)).topics == [TOPIC]
    assert InboxConsumer(db, off, clock, {}, intakes(off)).topics == []
