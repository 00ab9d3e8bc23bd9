"""A billing system publishes an invoice before the customer's registration reaches collections, on the real broker.

The registry records the customer, but its event has not left yet (its relay is held back, as when the registry's
outbox lags); billing publishes the customer's invoice on ``creditflow.billing.invoices`` meanwhile. Collections
(no registry read-through, as in the production overlay) must not dead-letter it: the invoice waits, and once the
registration is published collections records it and announces the receivables, so credit's exposure and the
registry's overview show the debt. Nothing lands on the dead-letter topic.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from aiokafka import AIOKafkaProducer

from shared.broker import EmbeddedBroker
from shared.clock import FixedClock
from tests.support.databases import DatabaseFactory
from tests.support.harness import running_service
from tests.support.topics import read_topic
from tests.support.waiting import eventually

pytestmark = pytest.mark.broker


async def test_an_invoice_billed_before_the_registration_arrives_is_recorded_and_reaches_every_service(
    databases: DatabaseFactory, broker: EmbeddedBroker
) -> None:
    clock = FixedClock(datetime(2026, 3, 1, 9, tzinfo=UTC))
    customers_db = await databases.create("customers")
    async with (
        running_service("credit", await databases.create("credit"), bootstrap=broker.bootstrap, clock=clock) as cr,
        running_service(
            "collections",
            await databases.create("collections"),
            bootstrap=broker.bootstrap,
            clock=clock,
            sweep_enabled=False,
        ) as co,
    ):
        assert co.settings.registry_url is None  # type: ignore[attr-defined]  # no read-through
        async with running_service(
            "customers", customers_db, bootstrap=broker.bootstrap, clock=clock, relay_enabled=False
        ) as held:
            registered = await held.client.post(
                "/v1/customers",
                json={"name": "Early Billed Ltd", "kind": "commercial", "lifecycle": "active"},
                headers=held.auth("admin"),
            )
            assert registered.status_code == 201, registered.text
            customer_id = str(registered.json()["id"])

        invoice = {
            "customer_id": customer_id,
            "number": "ERP-7781",
            "issue_date": "2026-02-01",
            "currency": "CNY",
            "amount": "12500.00",
            "credit_terms": "n/30",
        }
        producer = AIOKafkaProducer(bootstrap_servers=broker.bootstrap)
        await producer.start()
        try:
            await producer.send_and_wait(
                "creditflow.billing.invoices", value=json.dumps(invoice).encode(), key=customer_id.encode()
            )
        finally:
            await producer.stop()

        async def waiting() -> bool:
            return await co.count("billing_records_waiting") == 1

        await eventually(waiting, timeout=60, what="the invoice to wait for its customer's registration")
        assert (await co.get_json(f"/v1/invoices?customer_id={customer_id}"))["items"] == []

        # The registry's relay runs again: the registration is published, and everything follows.
        async with running_service("customers", customers_db, bootstrap=broker.bootstrap, clock=clock) as cu:

            async def recorded() -> list[dict[str, Any]]:
                page = await co.get_json(f"/v1/invoices?customer_id={customer_id}")
                return list(page["items"]) if page else []

            [item] = await eventually(recorded, timeout=60, what="collections to record the waiting invoice")
            assert (item["number"], item["amount"], item["due_date"]) == ("ERP-7781", "12500.00", "2026-03-03")
            assert await co.count("billing_records_waiting") == 0

            async def credit_agrees() -> bool:
                profile = await cr.get_json(f"/v1/profiles/{customer_id}")
                return bool(profile and Decimal(profile["open_receivables"]) == Decimal("12500.00"))

            async def registry_agrees() -> bool:
                overview = await cu.get_json(f"/v1/customers/{customer_id}/overview")
                return bool(
                    overview
                    and overview["open_receivables"] is not None
                    and Decimal(overview["open_receivables"]) == Decimal("12500.00")
                )

            await eventually(credit_agrees, timeout=60, what="credit's exposure to include the invoice")
            await eventually(registry_agrees, timeout=60, what="the registry's overview to include the invoice")
            # The session's broker carries other tests' dead letters: none is this customer's.
            letters = await read_topic(broker.bootstrap, "creditflow.collections.dlq", 10_000, timeout_ms=2000)
            assert [letter for letter in letters if letter.key == customer_id.encode()] == []
