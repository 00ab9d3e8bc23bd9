"""Segments and disputes learned from other services' events (applied through the service's handlers)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest

from shared.events.credit import CreditAssessed, CreditHoldPlaced, CreditHoldReleased
from shared.events.customers import ComplaintClosed, ComplaintOpened
from tests.support.collections import apply, case_of, create_invoice, known_customer, sweep
from tests.support.databases import DatabaseFactory
from tests.support.harness import ServiceHarness, running_service


@pytest.fixture
async def collections(databases: DatabaseFactory) -> AsyncIterator[ServiceHarness]:
    async with running_service("collections", await databases.create("collections"), sweep_enabled=False) as h:
        yield h


async def test_credit_hold_makes_high_risk_halving_delays(collections: ServiceHarness) -> None:
    customer = await known_customer(collections)
    invoice = await create_invoice(collections, customer, amount="20000.00", due_date="2026-01-31")
    await sweep(collections, "2026-02-05")
    await apply(collections, CreditHoldPlaced(customer_id=uuid.UUID(customer), reasons=["overdue"]))
    case = await case_of(collections, invoice["id"])
    assert case is not None and case["segment"] == "high_risk"
    await sweep(collections, "2026-03-02")  # 30 days: agency for high risk (60 × 0.5)
    case = await case_of(collections, invoice["id"])
    assert case is not None and case["stage"] == "agency"
    await apply(collections, CreditHoldReleased(customer_id=uuid.UUID(customer), reason="paid"))
    assert (await case_of(collections, invoice["id"]) or {})["segment"] == "general"
    await apply(
        collections,
        CreditAssessed(
            customer_id=uuid.UUID(customer), assessment_id=uuid.uuid4(), score=20, grade="D", assessed_by="analyst"
        ),
    )
    assert (await case_of(collections, invoice["id"]) or {})["segment"] == "high_risk"


async def test_key_account_gets_a_visit_first(collections: ServiceHarness) -> None:
    customer = await known_customer(collections, segment="key_account")
    invoice = await create_invoice(collections, customer, amount="20000.00", due_date="2026-01-31")
    await sweep(collections, "2026-02-02")
    case = await case_of(collections, invoice["id"])
    assert case is not None and case["segment"] == "key_account" and case["stage"] == "visit"


async def test_complaint_about_the_invoice_disputes_it_until_closed(collections: ServiceHarness) -> None:
    customer = await known_customer(collections)
    invoice = await create_invoice(collections, customer, amount="20000.00", due_date="2026-01-31")
    await sweep(collections, "2026-02-05")
    complaint = uuid.uuid4()
    await apply(
        collections,
        ComplaintOpened(
            customer_id=uuid.UUID(customer),
            complaint_id=complaint,
            category="quality",
            invoice_id=uuid.UUID(invoice["id"]),
        ),
    )
    case = await case_of(collections, invoice["id"])
    assert case is not None and case["disputed_amount"] == "20000.00"
    await sweep(collections, "2026-04-15")  # everything disputed: held at letter
    assert (await case_of(collections, invoice["id"]) or {})["stage"] == "letter"
    await apply(
        collections,
        ComplaintClosed(
            customer_id=uuid.UUID(customer),
            complaint_id=complaint,
            invoice_id=uuid.UUID(invoice["id"]),
            outcome="rejected",
        ),
    )
    await sweep(collections, "2026-04-16")  # 75 days, dispute lifted: agency
    case = await case_of(collections, invoice["id"])
    assert case is not None and case["stage"] == "agency" and case["disputed_amount"] == "0.00"
