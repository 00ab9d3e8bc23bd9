"""Collections keeps money exact and identities unique: what fuzzing the running suite got wrong.

Amounts round-trip exactly on both databases up to the documented bound and are refused beyond it;
invoice numbers that only differ by case, spacing or look-alike characters are one invoice; a payment
date cannot be in the future or before the invoice, and backdating far needs its own scope.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import bindparam, select, text

from shared.db import GUID
from tests.support.collections import WRITE, create_invoice, invoice_body, known_customer
from tests.support.databases import DatabaseFactory
from tests.support.harness import ServiceHarness, running_service

BACKDATE = "collections:backdate"


@pytest.fixture
async def collections(databases: DatabaseFactory) -> AsyncIterator[ServiceHarness]:
    async with running_service("collections", await databases.create("collections"), sweep_enabled=False) as h:
        yield h


async def _invoices(h: ServiceHarness) -> int:
    return await h.count("invoices")


# --- money ------------------------------------------------------------------------------------


@pytest.mark.parametrize("amount", ["999999999999.99", "1234567890.12", "0.01", "100000000000.10"])
async def test_amounts_up_to_the_bound_round_trip_exactly(collections: ServiceHarness, amount: str) -> None:
    customer = await known_customer(collections)
    invoice = await create_invoice(collections, customer, amount=amount)
    assert invoice["amount"] == amount
    got = await collections.client.get(f"/v1/invoices/{invoice['id']}", headers=collections.auth(*WRITE))
    assert got.status_code == 200 and got.json()["amount"] == amount
    listed = await collections.client.get(
        "/v1/invoices", params={"customer_id": customer}, headers=collections.auth(*WRITE)
    )
    assert [item["amount"] for item in listed.json()["items"]] == [amount]


async def test_a_payment_on_the_largest_amount_leaves_the_exact_cent(collections: ServiceHarness) -> None:
    customer = await known_customer(collections)
    invoice = await create_invoice(collections, customer, amount="999999999999.99", due_date="2026-03-31")
    paid = await collections.client.post(
        f"/v1/invoices/{invoice['id']}/payments",
        json={"amount": "0.01", "paid_on": "2026-02-20"},
        headers=collections.auth(*WRITE),
    )
    assert paid.status_code == 201, paid.text
    assert paid.json()["invoice"]["principal_outstanding"] == "999999999999.98"


@pytest.mark.parametrize(
    "amount",
    [
        pytest.param("9999999999999999.99", id="fits-max-digits-but-not-storage"),
        pytest.param("1000000000000.00", id="just-over-the-bound"),
        pytest.param("１００", id="full-width-digits"),
        pytest.param("١٠٠", id="arabic-indic-digits"),
        pytest.param("100.001", id="three-decimal-places"),
    ],
)
async def test_amounts_beyond_the_bound_or_not_in_ascii_digits_are_422(
    collections: ServiceHarness, amount: str
) -> None:
    customer = await known_customer(collections)
    response = await collections.client.post(
        "/v1/invoices", json=invoice_body(customer, amount=amount), headers=collections.auth(*WRITE)
    )
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert await _invoices(collections) == 0


async def test_one_unreadable_row_never_fails_a_list_page(
    collections: ServiceHarness, caplog: pytest.LogCaptureFixture
) -> None:
    customer = await known_customer(collections)
    good = await create_invoice(collections, customer, amount="10.00")
    bad = await create_invoice(collections, customer, amount="20.00")
    # A row stored before amounts were bounded: 1e16 does not fit what the API answers.
    too_big = "1e16" if collections.runtime.db.dialect == "sqlite" else "9999999999999999.99"
    async with collections.runtime.db.transaction() as session:
        statement = text(f"UPDATE invoices SET amount = {too_big}, principal_outstanding = {too_big} WHERE id = :id")
        await session.execute(statement.bindparams(bindparam("id", type_=GUID())), {"id": uuid.UUID(bad["id"])})
    with caplog.at_level(logging.WARNING):
        listed = await collections.client.get(
            "/v1/invoices", params={"customer_id": customer}, headers=collections.auth(*WRITE)
        )
    assert listed.status_code == 200, listed.text
    ids = [item["id"] for item in listed.json()["items"]]
    assert good["id"] in ids
    cases = await collections.client.get("/v1/cases", headers=collections.auth(*WRITE))
    assert cases.status_code == 200


# --- dates ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "dates",
    [
        {"issue_date": "9999-12-15", "due_date": None},
        {"issue_date": "9999-12-31"},
        {"issue_date": "0001-01-01", "due_date": "0001-01-31"},
        {"issue_date": "2026-01-01", "due_date": "9999-12-31"},
    ],
)
async def test_invoice_dates_outside_the_business_range_are_422(
    collections: ServiceHarness, dates: dict[str, str | None]
) -> None:
    customer = await known_customer(collections)
    response = await collections.client.post(
        "/v1/invoices", json=invoice_body(customer, **dates), headers=collections.auth(*WRITE)
    )
    assert response.status_code == 422, response.text
    assert await _invoices(collections) == 0


# --- identity ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "number",
    [
        pytest.param("INV-1 ", id="trailing-space"),
        pytest.param(" INV-1", id="leading-space"),
        pytest.param("inv-1", id="lower-case"),
        pytest.param("INV\u20101", id="unicode-hyphen"),
        pytest.param("INV\u22121", id="minus-sign"),
        pytest.param("INV-1\u00a0", id="trailing-nbsp"),
        pytest.param("ＩＮＶ－１", id="full-width"),
    ],
)
async def test_invoice_numbers_that_only_look_different_are_the_same_invoice(
    collections: ServiceHarness, number: str
) -> None:
    customer = await known_customer(collections)
    await create_invoice(collections, customer, number="INV-1")
    response = await collections.client.post(
        "/v1/invoices", json=invoice_body(customer, number=number), headers=collections.auth(*WRITE)
    )
    assert response.status_code == 409, response.text
    assert await _invoices(collections) == 1


@pytest.mark.parametrize("number", ["INV-1\u200b", "INV\u200d-1", "INV-1\u202e", "INV-1\x07", "INV\t1", "\ufeffINV-1"])
async def test_invoice_numbers_with_control_or_format_characters_are_422(
    collections: ServiceHarness, number: str
) -> None:
    customer = await known_customer(collections)
    response = await collections.client.post(
        "/v1/invoices", json=invoice_body(customer, number=number), headers=collections.auth(*WRITE)
    )
    assert response.status_code == 422, response.text
    assert await _invoices(collections) == 0


async def test_the_number_is_shown_as_given(collections: ServiceHarness) -> None:
    customer = await known_customer(collections)
    invoice = await create_invoice(collections, customer, number="Inv-2026/A")
    assert invoice["number"] == "Inv-2026/A"


# --- paid_on ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("paid_on", "why"),
    [
        ("3000-01-01", "future"),
        ("2026-03-02", "future"),  # the harness clock is 2026-03-01
        ("0001-01-01", "before"),
        ("2025-12-31", "before"),  # the invoice is issued 2026-01-01
    ],
)
async def test_paid_on_in_the_future_or_before_the_invoice_is_422(
    collections: ServiceHarness, paid_on: str, why: str
) -> None:
    customer = await known_customer(collections)
    invoice = await create_invoice(collections, customer, amount="1000.00", credit_terms="2/10, n/30")
    response = await collections.client.post(
        f"/v1/invoices/{invoice['id']}/payments",
        json={"amount": "100.00", "paid_on": paid_on},
        headers=collections.auth(*WRITE, BACKDATE),
    )
    assert response.status_code == 422, response.text
    assert await collections.count("payments") == 0


async def test_backdating_beyond_the_window_needs_its_own_scope_and_is_audited(collections: ServiceHarness) -> None:
    customer = await known_customer(collections)
    invoice = await create_invoice(collections, customer, amount="1000.00", credit_terms="2/10, n/30")
    url = f"/v1/invoices/{invoice['id']}/payments"
    # 2026-01-05 is 55 days before the harness's today (2026-03-01), inside the discount window.
    refused = await collections.client.post(
        url, json={"amount": "980.00", "paid_on": "2026-01-05"}, headers=collections.auth(*WRITE)
    )
    assert refused.status_code == 403, refused.text
    assert BACKDATE in refused.json()["detail"]
    assert await collections.count("payments") == 0
    within = await collections.client.post(
        url, json={"amount": "10.00", "paid_on": "2026-02-15"}, headers=collections.auth(*WRITE)
    )
    assert within.status_code == 201, within.text
    assert within.json()["backdated_by"] is None
    allowed = await collections.client.post(
        url,
        json={"amount": "970.00", "paid_on": "2026-01-05"},
        headers={"Authorization": f"Bearer {collections.token(*WRITE, BACKDATE, subject='controller-7')}"},
    )
    assert allowed.status_code == 201, allowed.text
    payment = allowed.json()
    assert payment["paid_on"] == "2026-01-05"
    assert payment["backdated_by"] == "controller-7"
    assert payment["recorded_at"].startswith("2026-03-01")


async def test_sums_over_the_largest_amounts_stay_exact(collections: ServiceHarness) -> None:
    """SQL SUM over money (the receivables snapshot): exact on PostgreSQL's NUMERIC and on SQLite's REAL."""
    import json

    from shared.tables import outbox

    customer = await known_customer(collections)
    for cents in ("99", "98", "97"):
        await create_invoice(collections, customer, amount=f"999999999999.{cents}", due_date="2026-03-31")
    async with collections.runtime.db.transaction() as session:
        rows = (
            await session.execute(
                select(outbox.c.data)
                .where(outbox.c.event_type == "creditflow.collections.receivables_changed.v1")
                .order_by(outbox.c.seq)
            )
        ).scalars()
        latest = [json.loads(data) for data in rows][-1]
    assert latest["customer_id"] == customer
    assert latest["open_receivables"] == "2999999999999.94"
