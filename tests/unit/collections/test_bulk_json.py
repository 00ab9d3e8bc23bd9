"""The bulk path writes two JSON texts without pydantic models (10,000 of each a billing run): they must be
byte for byte what the models give — the invoice view answered, and the InvoiceIssued event's data."""

from __future__ import annotations

import random
import uuid
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from services.collections.domain.policy import default_policy
from services.collections.schemas.invoices import InvoiceBulkRead, InvoiceRead, invoice_items_json
from services.collections.service.invoices import RecordedInvoice, invoice_issued_json, invoice_view
from services.collections.settings import CollectionsSettings
from shared.events.collections import InvoiceIssued

NUMBERS = ["INV-1", 'quote " and \\ backslash', "ＩＮＶ－１", "发票-2026/01", "emoji 🧾", "a\u00a0b"]


def _invoices(seed: int) -> list[RecordedInvoice]:
    rng = random.Random(seed)
    created = [
        datetime(2026, 3, 1, 9, 0, tzinfo=UTC),
        datetime(2026, 3, 1, 9, 0, 0, 123456, tzinfo=UTC),
        datetime(2026, 3, 1, 17, 0, tzinfo=timezone(timedelta(hours=8))),
    ]
    result = []
    for _ in range(60):
        amount = Decimal(rng.choice(["1250.00", "0.01", "999999999999.99", "1000", "12.5", "60000.00"]))
        issue = date(2026, 1, 1) + timedelta(days=rng.randint(0, 80))
        result.append(
            RecordedInvoice(
                id=uuid.uuid4(),
                customer_id=uuid.uuid4(),
                number=rng.choice(NUMBERS),
                number_key="k",
                issue_date=issue,
                due_date=issue + timedelta(days=rng.choice([0, 30, 45])),
                currency=rng.choice(["CNY", "USD"]),
                amount=amount,
                credit_terms=rng.choice(["n/30", "2/10, n/30"]),
                principal_outstanding=amount,
                interest_outstanding=Decimal("0"),
                costs_outstanding=Decimal("0"),
                discount_granted=Decimal("0"),
                status="open",
                version=1,
                created_at=rng.choice(created),
                updated_at=created[0],
                penalty_interest_rate=rng.choice([None, Decimal("0.1825"), Decimal("0"), Decimal("0.050000")]),
            )
        )
    return result


@pytest.mark.parametrize("charge_interest", [True, False])
def test_bulk_answer_is_the_models_json(charge_interest: bool) -> None:
    settings = CollectionsSettings(charge_penalty_interest=charge_interest)
    views = [invoice_view(i, default_policy(), date(2026, 3, 1), settings) for i in _invoices(1)]
    expected = InvoiceBulkRead(items=[InvoiceRead.model_validate(view) for view in views]).model_dump_json()
    assert invoice_items_json(views) == expected


def test_invoice_issued_data_is_the_events_json() -> None:
    for invoice in _invoices(2):
        event = InvoiceIssued(
            customer_id=invoice.customer_id,
            invoice_id=invoice.id,
            number=invoice.number,
            issue_date=invoice.issue_date,
            due_date=invoice.due_date,
            currency=invoice.currency,
            amount=invoice.amount,
            credit_terms=invoice.credit_terms,
        )
        assert invoice_issued_json(invoice) == event.model_dump_json()
