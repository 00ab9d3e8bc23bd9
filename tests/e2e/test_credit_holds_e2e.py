"""Credit holds across services on the real broker.

The registry registers the customer (credit learns it from ``customer_registered``); collections'
events are written to the collections outbox by this test and published by collections' own relay
(collections' consumer is off: only its relay takes part; tests/e2e/test_pipeline.py runs the real chain),
so credit's consumer is exercised through the broker exactly as in production: the case reaching the
stop-supply stage puts the customer on hold and the next credit check blocks with ``on_hold``; the
settling payment (receivables with nothing overdue) releases the hold and the next check approves.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select

from shared.broker import EmbeddedBroker
from shared.events.base import Event
from shared.events.collections import ReceivablesChanged, StageEntered
from shared.outbox import emit
from shared.tables import outbox
from tests.support.databases import DatabaseFactory
from tests.support.harness import ServiceHarness, running_service
from tests.support.waiting import eventually

pytestmark = pytest.mark.broker

NOW = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
FACTORS = ("character", "capacity", "capital", "collateral", "condition", "continuity")
FINANCIALS = {
    "total_assets": "5000000.00",
    "current_assets": "2500000.00",
    "current_liabilities": "1000000.00",
    "total_liabilities": "2000000.00",
    "retained_earnings": "800000.00",
    "ebit": "600000.00",
    "sales": "7000000.00",
}


async def publish_from_collections(collections: ServiceHarness, event: Event) -> None:
    async with collections.runtime.db.transaction() as session:
        await emit(session, event, at=collections.clock.now())


async def profile(credit: ServiceHarness, customer_id: str) -> dict[str, object] | None:
    response = await credit.client.get(f"/v1/profiles/{customer_id}", headers=credit.auth("credit:read"))
    return dict(response.json()) if response.status_code == 200 else None


async def credit_check(credit: ServiceHarness, customer_id: str, amount: str) -> dict[str, Any]:
    response = await credit.client.post(
        "/v1/credit-checks", json={"customer_id": customer_id, "amount": amount}, headers=credit.auth("credit:write")
    )
    assert response.status_code == 201, response.text
    return dict(response.json())


def receivables(customer_id: str, overdue: str, highest: str | None) -> ReceivablesChanged:
    return ReceivablesChanged(
        customer_id=uuid.UUID(customer_id),
        currency="CNY",
        open_receivables=Decimal(overdue),
        overdue_amount=Decimal(overdue),
        oldest_overdue_days=75 if highest else 0,
        highest_open_stage=highest,
        as_of=NOW,
    )


async def test_stop_supply_stage_holds_and_settling_payment_releases(
    databases: DatabaseFactory, broker: EmbeddedBroker
) -> None:
    async with (
        running_service("customers", await databases.create("customers"), bootstrap=broker.bootstrap) as cu,
        running_service(
            "collections", await databases.create("collections"), bootstrap=broker.bootstrap, consumer_enabled=False
        ) as co,
        running_service("credit", await databases.create("credit"), bootstrap=broker.bootstrap) as cr,
    ):
        registered = await cu.client.post(
            "/v1/customers",
            json={"name": "Hold Me Ltd", "kind": "commercial", "lifecycle": "active"},
            headers=cu.auth("customers:write"),
        )
        assert registered.status_code == 201, registered.text
        customer_id = str(registered.json()["id"])
        await eventually(lambda: profile(cr, customer_id), what="credit to learn the customer from the registry")

        assessed = await cr.client.post(
            "/v1/assessments",
            headers=cr.auth("credit:write"),
            json={
                "customer_id": customer_id,
                "financials": FINANCIALS,
                "factors": {name: {"score": "80", "evidence": "site visit"} for name in FACTORS},
            },
        )
        assert assessed.status_code == 201, assessed.text
        assert (await credit_check(cr, customer_id, "1000.00"))["decision"] == "approve"

        case_id, invoice_id = uuid.uuid4(), uuid.uuid4()
        await publish_from_collections(co, receivables(customer_id, "50000.00", "visit"))
        await publish_from_collections(
            co,
            StageEntered(
                customer_id=uuid.UUID(customer_id),
                case_id=case_id,
                invoice_id=invoice_id,
                stage="agency",
                previous_stage="visit",
                rule="days_overdue>=60",
                reason="still unpaid after the visit",
                policy_version=1,
                days_overdue=75,
                currency="CNY",
                amount=Decimal("50000.00"),
                entered_at=NOW,
            ),
        )

        async def on_hold() -> bool:
            seen = await profile(cr, customer_id)
            return bool(seen and seen["on_hold"])

        await eventually(on_hold, what="credit to place the hold from collections' stage event")
        blocked = await credit_check(cr, customer_id, "1000.00")
        assert blocked["decision"] == "block" and "on_hold" in blocked["reasons"]

        await publish_from_collections(co, receivables(customer_id, "0.00", None))

        async def released() -> bool:
            seen = await profile(cr, customer_id)
            return bool(seen and not seen["on_hold"])

        await eventually(released, what="credit to release the hold once the debt is settled")
        approved = await credit_check(cr, customer_id, "1000.00")
        assert approved["decision"] == "approve" and approved["reasons"] == []
        # Only this customer's events: the session broker also carries other tests' customers.
        async with cr.runtime.db.transaction() as session:
            holds = list(
                (
                    await session.execute(
                        select(outbox.c.event_type)
                        .where(outbox.c.key == customer_id, outbox.c.event_type.like("%hold%"))
                        .order_by(outbox.c.seq)
                    )
                ).scalars()
            )
        assert holds == ["creditflow.credit.credit_hold_placed.v1", "creditflow.credit.credit_hold_released.v1"]
