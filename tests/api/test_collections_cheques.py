"""Bounced cheques: the payment is reversed, the invoice and its case re-open, a fee may be charged."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest

from tests.support.collections import BACKDATING, WRITE, case_of, create_invoice, known_customer, sweep
from tests.support.databases import DatabaseFactory
from tests.support.harness import ServiceHarness, running_service

REVERSED = "creditflow.collections.payment_reversed.v1"
RECEIVABLES = "creditflow.collections.receivables_changed.v1"


@pytest.fixture
async def collections(databases: DatabaseFactory) -> AsyncIterator[ServiceHarness]:
    async with running_service(
        "collections",
        await databases.create("collections"),
        sweep_enabled=False,
        charge_penalty_interest=False,
        cheque_bounce_fee="25.00",
    ) as h:
        yield h


async def pay(h: ServiceHarness, invoice_id: str, **body: Any) -> dict[str, Any]:
    # Some cases pay in January while the clock says March: beyond the backdating window.
    response = await h.client.post(f"/v1/invoices/{invoice_id}/payments", json=body, headers=h.auth(*BACKDATING))
    assert response.status_code == 201, response.text
    return dict(response.json())


async def bounce(h: ServiceHarness, payment_id: str, reason: str = "insufficient funds") -> Any:
    return await h.client.post(f"/v1/payments/{payment_id}/bounce", json={"reason": reason}, headers=h.auth(*WRITE))


async def test_bounced_cheque_reopens_invoice_and_case_with_fee(collections: ServiceHarness) -> None:
    customer = await known_customer(collections)
    invoice = await create_invoice(collections, customer, amount="10000.00")
    await sweep(collections, "2026-02-02")
    paid = await pay(collections, invoice["id"], amount="10000.00", paid_on="2026-02-20", method="cheque")
    assert paid["method"] == "cheque" and paid["status"] == "applied" and paid["invoice"]["status"] == "paid"
    case = await case_of(collections, invoice["id"])
    assert case is not None and case["status"] == "resolved" and case["stage"] == "letter"
    before = await collections.outbox_count()

    response = await bounce(collections, paid["id"])
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "bounced" and body["bounce_reason"] == "insufficient funds"
    assert body["invoice"]["status"] == "open" and body["invoice"]["paid_on"] is None
    assert body["invoice"]["principal_outstanding"] == "10000.00"
    assert body["invoice"]["costs_outstanding"] == "25.00"
    assert body["invoice"]["amount_due"] == "10025.00"
    reopened = await case_of(collections, invoice["id"])
    assert reopened is not None
    assert reopened["status"] == "open" and reopened["stage"] == "letter" and reopened["resolution"] is None
    assert reopened["closed_at"] is None and reopened["outstanding"] == "10000.00"
    assert reopened["history"][-1]["event"] == "reopened"
    assert "bounced: insufficient funds; bounce fee 25.00 charged" in reopened["history"][-1]["reason"]
    assert (await collections.outbox_types())[before:] == [REVERSED, RECEIVABLES]

    again = await bounce(collections, paid["id"])
    assert again.status_code == 409 and again.headers["content-type"] == "application/problem+json"
    assert await collections.outbox_count() == before + 2
    report = await collections.client.get(
        "/v1/reports/performance", params={"from": "2026-01-01"}, headers=collections.auth(*WRITE)
    )
    assert report.status_code == 200 and report.json()["recovered"] == "0"  # the cheque never paid
    # the re-opened invoice takes payments again
    repaid = await pay(collections, invoice["id"], amount="10025.00", method="bank_transfer")
    assert repaid["costs_applied"] == "25.00" and repaid["invoice"]["status"] == "paid"


async def test_bounce_undoes_the_allocation_and_the_discount(databases: DatabaseFactory) -> None:
    async with running_service("collections", await databases.create("collections"), sweep_enabled=False) as h:
        customer = await known_customer(h)
        invoice = await create_invoice(h, customer, amount="10000.00", credit_terms="2/10, n/30", due_date=None)
        first = await pay(h, invoice["id"], amount="4000.00", paid_on="2026-01-03")
        cheque = await pay(h, invoice["id"], amount="5800.00", paid_on="2026-01-09", method="cheque")
        assert cheque["discount_granted"] == "200.00" and cheque["invoice"]["status"] == "paid"
        response = await bounce(h, cheque["id"], "account closed")
        assert response.status_code == 200, response.text
        after = response.json()["invoice"]
        assert after["principal_outstanding"] == "6000.00" and after["discount_granted"] == "0.00"
        assert after["costs_outstanding"] == "0.00" and after["status"] == "open"  # no fee by default
        assert first["method"] == "bank_transfer"
        assert (await h.client.get(f"/v1/invoices/{invoice['id']}", headers=h.auth(*WRITE))).json()[
            "principal_outstanding"
        ] == "6000.00"


async def test_bounce_refusals_write_nothing(collections: ServiceHarness) -> None:
    customer = await known_customer(collections)
    invoice = await create_invoice(collections, customer, amount="10000.00")
    transfer = await pay(collections, invoice["id"], amount="1000.00")
    cash = await pay(collections, invoice["id"], amount="1000.00", method="cash")
    before = await collections.outbox_count()

    for payment in (transfer, cash):
        refused = await bounce(collections, payment["id"])
        assert refused.status_code == 409, refused.text
        assert "only a cheque can bounce" in refused.json()["detail"]
    unknown = await bounce(collections, str(uuid.uuid4()))
    assert unknown.status_code == 404 and unknown.headers["content-type"] == "application/problem+json"
    no_reason = await collections.client.post(
        f"/v1/payments/{transfer['id']}/bounce", json={}, headers=collections.auth(*WRITE)
    )
    assert no_reason.status_code == 422
    bad_method = await collections.client.post(
        f"/v1/invoices/{invoice['id']}/payments",
        json={"amount": "1.00", "method": "barter"},
        headers=collections.auth(*WRITE),
    )
    assert bad_method.status_code == 422
    forbidden = await collections.client.post(
        f"/v1/payments/{transfer['id']}/bounce", json={"reason": "x"}, headers=collections.auth("collections:read")
    )
    assert forbidden.status_code == 403

    assert await collections.outbox_count() == before
    got = await collections.client.get(f"/v1/invoices/{invoice['id']}", headers=collections.auth(*WRITE))
    assert got.json()["principal_outstanding"] == "8000.00"
    assert await collections.count("payments") == 2
