"""Invoices and payments over HTTP: terms from the contract, discount, allocation, and bad input writing nothing."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest

from shared.clock import FixedClock
from tests.support.collections import BACKDATING, WRITE, create_invoice, invoice_body, known_customer
from tests.support.databases import DatabaseFactory
from tests.support.harness import ServiceHarness, running_service

ISSUED = "creditflow.collections.invoice_issued.v1"
PAID = "creditflow.collections.payment_received.v1"
RECEIVABLES = "creditflow.collections.receivables_changed.v1"


def next_day(h: ServiceHarness) -> None:
    assert isinstance(h.clock, FixedClock)
    h.clock.set(datetime(2026, 3, 2, 9, 0, tzinfo=UTC))


@pytest.fixture
async def collections(databases: DatabaseFactory) -> AsyncIterator[ServiceHarness]:
    async with running_service("collections", await databases.create("collections"), sweep_enabled=False) as h:
        yield h


async def test_invoice_takes_contract_terms_and_emits_events(collections: ServiceHarness) -> None:
    customer = await known_customer(collections, terms="2/10, n/45")
    response = await collections.client.post(
        "/v1/invoices", json=invoice_body(customer, due_date=None), headers=collections.auth(*WRITE)
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["credit_terms"] == "2/10, n/45" and body["due_date"] == "2026-02-15"
    assert body["amount"] == "60000.00" and body["status"] == "open"
    assert response.headers["location"] == f"/v1/invoices/{body['id']}"
    assert await collections.outbox_types() == [ISSUED, RECEIVABLES]
    got = await collections.client.get(f"/v1/invoices/{body['id']}", headers=collections.auth(*WRITE))
    assert got.status_code == 200 and got.json()["number"] == body["number"]
    listed = await collections.client.get(
        "/v1/invoices", params={"customer_id": customer, "status": "open"}, headers=collections.auth(*WRITE)
    )
    assert [item["id"] for item in listed.json()["items"]] == [body["id"]]


async def test_default_terms_without_contract(collections: ServiceHarness) -> None:
    customer = await known_customer(collections, clause=None)
    invoice = await create_invoice(collections, customer, due_date=None)
    assert invoice["credit_terms"] == "n/30" and invoice["due_date"] == "2026-01-31"


async def test_payment_in_discount_window_settles_at_discounted_amount(collections: ServiceHarness) -> None:
    customer = await known_customer(collections)
    invoice = await create_invoice(collections, customer, amount="10000.00", credit_terms="2/10, n/30", due_date=None)
    url = f"/v1/invoices/{invoice['id']}/payments"
    first = await collections.client.post(
        url, json={"amount": "4000.00", "paid_on": "2026-01-03"}, headers=collections.auth(*BACKDATING)
    )
    assert first.status_code == 201, first.text
    assert first.json()["invoice"]["principal_outstanding"] == "6000.00"
    second = await collections.client.post(
        url, json={"amount": "5800.00", "paid_on": "2026-01-09"}, headers=collections.auth(*BACKDATING)
    )
    assert second.status_code == 201, second.text
    assert second.json()["discount_granted"] == "200.00"
    assert second.json()["invoice"]["status"] == "paid"
    again = await collections.client.post(url, json={"amount": "1.00"}, headers=collections.auth(*WRITE))
    assert again.status_code == 409
    assert (await collections.outbox_types()).count(PAID) == 2


async def test_charged_interest_is_paid_before_principal(databases: DatabaseFactory) -> None:
    async with running_service(
        "collections", await databases.create("collections"), sweep_enabled=False, charge_penalty_interest=True
    ) as collections:
        customer = await known_customer(collections)
        invoice = await create_invoice(collections, customer, amount="10000.00")
        next_day(collections)  # a payment cannot be dated in the future
        response = await collections.client.post(
            f"/v1/invoices/{invoice['id']}/payments",
            json={"amount": "1000.00", "paid_on": "2026-03-02"},
            headers=collections.auth(*WRITE),
        )
        assert response.status_code == 201, response.text
        payment = response.json()
        # 30 days overdue at 18.25 % a year: 10,000 × 0.1825 × 30 / 365 = 150.00
        assert payment["interest_applied"] == "150.00" and payment["principal_applied"] == "850.00"
        assert payment["invoice"]["principal_outstanding"] == "9150.00"


async def test_uncharged_interest_is_shown_but_principal_settles(databases: DatabaseFactory) -> None:
    async with running_service(
        "collections",
        await databases.create("collections"),
        sweep_enabled=False,
        charge_penalty_interest=False,
        charge_action_costs=False,
    ) as collections:
        customer = await known_customer(collections)
        invoice = await create_invoice(collections, customer, amount="10000.00")
        got = await collections.client.get(f"/v1/invoices/{invoice['id']}", headers=collections.auth(*WRITE))
        # the clock says 2026-03-01: 29 days overdue, 10,000 × 0.1825 × 29 / 365 = 145.00 accrued, not billed
        assert got.json()["penalty_interest_accrued"] == "145.00" and got.json()["amount_due"] == "10000.00"
        next_day(collections)  # a payment cannot be dated in the future
        response = await collections.client.post(
            f"/v1/invoices/{invoice['id']}/payments",
            json={"amount": "10000.00", "paid_on": "2026-03-02"},
            headers=collections.auth(*WRITE),
        )
        assert response.status_code == 201, response.text
        assert response.json()["principal_applied"] == "10000.00"
        assert response.json()["invoice"]["status"] == "paid"


BAD_INVOICES = [
    pytest.param({"amount": "-5.00"}, "body.amount", id="negative-amount"),
    pytest.param({"amount": "0"}, "body.amount", id="zero-amount"),
    pytest.param({"currency": "XXY"}, "body.currency", id="unknown-currency"),
    pytest.param({"issue_date": "2026-02-01", "due_date": "2026-01-31"}, "body.due_date", id="due-before-issue"),
    pytest.param({"credit_terms": "pay whenever"}, "body.credit_terms", id="malformed-terms"),
    pytest.param({"customer_id": "00000000-0000-4000-8000-000000000000"}, "body.customer_id", id="unknown-customer"),
]


@pytest.mark.parametrize(("overrides", "field"), BAD_INVOICES)
async def test_bad_invoice_is_422_and_writes_nothing(
    collections: ServiceHarness, overrides: dict[str, str], field: str
) -> None:
    customer = await known_customer(collections)
    response = await collections.client.post(
        "/v1/invoices", json=invoice_body(customer, **overrides), headers=collections.auth(*WRITE)
    )
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert field in [error["field"] for error in response.json()["errors"]]
    assert await collections.count("invoices") == 0
    assert await collections.outbox_count() == 0


async def test_bulk_is_all_or_nothing_with_item_errors(collections: ServiceHarness) -> None:
    customer = await known_customer(collections)
    for bad, field in (
        ([invoice_body(customer), invoice_body(customer, amount="0.00")], "body.invoices.1.amount"),
        (
            [
                invoice_body(customer),
                invoice_body(customer, credit_terms="2/40, n/30"),
                invoice_body(customer, issue_date="2026-03-01"),
            ],
            "body.invoices.1.credit_terms",
        ),
    ):
        response = await collections.client.post(
            "/v1/invoices/bulk", json={"invoices": bad}, headers=collections.auth(*WRITE)
        )
        assert response.status_code == 422, response.text
        fields = [error["field"] for error in response.json()["errors"]]
        assert field in fields
        assert await collections.count("invoices") == 0 and await collections.outbox_count() == 0
    assert "body.invoices.2.due_date" in fields
    good = {"invoices": [invoice_body(customer), invoice_body(customer)]}
    created = await collections.client.post("/v1/invoices/bulk", json=good, headers=collections.auth(*WRITE))
    assert created.status_code == 201, created.text
    assert len(created.json()["items"]) == 2 and await collections.count("invoices") == 2


async def test_a_billing_run_of_a_thousand_invoices_and_more_is_recorded(collections: ServiceHarness) -> None:
    """Regression (issue 11): on SQLite 1,000 invoices failed with "Expression tree is too large (maximum
    depth 1000)" — the taken-number check was one OR term per item. Now a set query, at the limit and beyond."""
    customers = [await known_customer(collections) for _ in range(3)]
    run = [invoice_body(customers[n % 3], number=f"RUN-{n:05d}") for n in range(1500)]
    created = await collections.client.post(
        "/v1/invoices/bulk", json={"invoices": run}, headers=collections.auth(*WRITE)
    )
    assert created.status_code == 201, created.text[:500]
    assert len(created.json()["items"]) == 1500 and await collections.count("invoices") == 1500
    # One InvoiceIssued per invoice, one ReceivablesChanged per customer (and currency).
    types = await collections.outbox_types()
    assert types.count(ISSUED) == 1500 and types.count(RECEIVABLES) == 3
    # The same numbers again, mixed with new ones: a 409 that names exactly the taken ones; nothing written.
    again = [*run[:2], invoice_body(customers[0], number="NEW-1"), run[1499]]
    response = await collections.client.post(
        "/v1/invoices/bulk", json={"invoices": again}, headers=collections.auth(*WRITE)
    )
    assert response.status_code == 409, response.text
    messages = sorted(error["message"] for error in response.json()["errors"])
    assert messages == ["RUN-00000 already recorded", "RUN-00001 already recorded", "RUN-01499 already recorded"]
    assert await collections.count("invoices") == 1500


async def test_bulk_limit_is_ten_thousand(collections: ServiceHarness) -> None:
    """The setting's 10,000 are accepted in one request; one more is a 422 problem that writes nothing."""
    customers = [await known_customer(collections) for _ in range(10)]
    run = [invoice_body(customers[n % 10], number=f"N-{n}") for n in range(10_001)]
    response = await collections.client.post(
        "/v1/invoices/bulk", json={"invoices": run}, headers=collections.auth(*WRITE)
    )
    assert response.status_code == 422, response.text[:300]
    assert response.json()["errors"] == [{"field": "body.invoices", "message": "too many"}]
    assert await collections.count("invoices") == 0 and await collections.outbox_count() == 0
    response = await collections.client.post(
        "/v1/invoices/bulk", json={"invoices": run[:10_000]}, headers=collections.auth(*WRITE)
    )
    assert response.status_code == 201, response.text[:300]
    items = response.json()["items"]
    assert len(items) == 10_000 and [item["number"] for item in items] == [body["number"] for body in run[:10_000]]
    assert await collections.count("invoices") == 10_000
    # One InvoiceIssued per invoice, one ReceivablesChanged per customer.
    types = await collections.outbox_types()
    assert types.count(ISSUED) == 10_000 and types.count(RECEIVABLES) == 10


async def test_overpayment_is_422_and_changes_nothing(collections: ServiceHarness) -> None:
    customer = await known_customer(collections)
    invoice = await create_invoice(collections, customer, amount="100.00")
    before = await collections.outbox_count()
    response = await collections.client.post(
        f"/v1/invoices/{invoice['id']}/payments",
        json={"amount": "100.01", "paid_on": "2026-01-15"},
        headers=collections.auth(*BACKDATING),
    )
    assert response.status_code == 422, response.text
    assert "body.amount" in [error["field"] for error in response.json()["errors"]]
    assert await collections.count("payments") == 0 and await collections.outbox_count() == before
    assert (
        await collections.client.post(
            f"/v1/invoices/{invoice['id']}/payments", json={"amount": "-1"}, headers=collections.auth(*WRITE)
        )
    ).status_code == 422


async def test_bulk_with_idempotency_key_replays_the_first_answer(collections: ServiceHarness) -> None:
    customer = await known_customer(collections)
    run = {"invoices": [invoice_body(customer, number=f"IDEM-{n}") for n in range(60)]}
    headers = {**collections.auth(*WRITE), "Idempotency-Key": "billing-run-2026-01"}
    first = await collections.client.post("/v1/invoices/bulk", json=run, headers=headers)
    assert first.status_code == 201, first.text[:300]
    again = await collections.client.post("/v1/invoices/bulk", json=run, headers=headers)
    assert again.status_code == 201 and again.headers["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    assert await collections.count("invoices") == 60
    types = await collections.outbox_types()
    assert types.count(ISSUED) == 60 and types.count(RECEIVABLES) == 1
    other = {"invoices": run["invoices"][:59]}
    refused = await collections.client.post("/v1/invoices/bulk", json=other, headers=headers)
    assert refused.status_code == 422 and refused.json()["type"].endswith("idempotency-key-reused"), refused.text[:300]
    assert await collections.count("invoices") == 60
