"""A customer collections has not heard of yet is asked for at the registry before an invoice is refused.

Collections and the real customers app run in-process without a broker, so collections never receives the
registration event: only the read-through can know the customer.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from services.collections.registry import Registry
from tests.support.collections import WRITE, invoice_body
from tests.support.databases import DatabaseFactory
from tests.support.harness import ServiceHarness, new_id, running_service

ACME = {"name": "Acme Trading Co.", "kind": "commercial", "lifecycle": "active", "tax_id": "91310000MA1K0R01"}


@pytest.fixture
async def pair(databases: DatabaseFactory) -> AsyncIterator[tuple[ServiceHarness, ServiceHarness]]:
    async with (
        running_service("customers", await databases.create("customers")) as customers,
        running_service(
            "collections",
            await databases.create("collections"),
            sweep_enabled=False,
            registry_url="http://customers.test",
        ) as collections,
    ):
        settings = collections.settings
        collections.runtime.extras["registry"] = Registry(
            settings,  # type: ignore[arg-type]
            transport=httpx.ASGITransport(app=customers.app),
        )
        yield customers, collections


async def test_an_invoice_for_a_customer_just_created_is_accepted(
    pair: tuple[ServiceHarness, ServiceHarness],
) -> None:
    customers, collections = pair
    created = await customers.client.post("/v1/customers", json=ACME, headers=customers.auth("customers:write"))
    assert created.status_code == 201, created.text
    customer_id = created.json()["id"]
    assert await collections.count("known_customers") == 0  # no event has arrived (no broker)
    response = await collections.client.post(
        "/v1/invoices", json=invoice_body(customer_id), headers=collections.auth(*WRITE)
    )
    assert response.status_code == 201, response.text
    # Remembered as the registration event would record it; the next invoice needs no lookup.
    known = await collections.client.get(f"/v1/customers/{customer_id}", headers=collections.auth(*WRITE))
    assert known.status_code == 200 and known.json()["name"] == "Acme Trading Co."
    bulk = await collections.client.post(
        "/v1/invoices/bulk",
        json={"invoices": [invoice_body(customer_id), invoice_body(customer_id)]},
        headers=collections.auth(*WRITE),
    )
    assert bulk.status_code == 201, bulk.text


async def test_a_customer_the_registry_does_not_have_is_422(pair: tuple[ServiceHarness, ServiceHarness]) -> None:
    _, collections = pair
    stranger = new_id()
    response = await collections.client.post(
        "/v1/invoices/bulk",
        json={"invoices": [invoice_body(stranger), invoice_body(stranger)]},
        headers=collections.auth(*WRITE),
    )
    assert response.status_code == 422, response.text
    fields = [error["field"] for error in response.json()["errors"]]
    assert fields == ["body.invoices.0.customer_id", "body.invoices.1.customer_id"]
    assert await collections.count("invoices") == 0 and await collections.count("known_customers") == 0


async def test_a_registry_that_cannot_be_asked_is_503_with_retry_after(
    pair: tuple[ServiceHarness, ServiceHarness],
) -> None:
    _, collections = pair

    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    collections.runtime.extras["registry"] = Registry(
        collections.settings,  # type: ignore[arg-type]
        transport=httpx.MockTransport(refuse),
    )
    response = await collections.client.post(
        "/v1/invoices", json=invoice_body(new_id()), headers=collections.auth(*WRITE)
    )
    assert response.status_code == 503, response.text
    assert response.headers["retry-after"] == "2"
    assert response.headers["content-type"].startswith("application/problem+json")
    assert await collections.count("invoices") == 0 and await collections.outbox_count() == 0
