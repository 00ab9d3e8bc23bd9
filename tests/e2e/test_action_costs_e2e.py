"""A stage action's cost billed to the debtor reaches credit and the registry, on the real broker.

The sweep announces the customer's receivables when it moves the case; the letter is sent afterwards by
collections' own ``stage_entered`` handler, which bills its recoverable cost to the invoice. That cost is
owed, so credit's exposure and the registry's overview must include it: the handler announces the
receivables of every customer it billed. Each service's view is checked against collections' invoices
re-summed (tests/support/receivables.py), the reference the chaos run holds the suite to.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, time
from decimal import Decimal

import pytest

from shared.broker import EmbeddedBroker
from shared.clock import FixedClock
from shared.events.collections import ReceivablesChanged
from tests.support.databases import DatabaseFactory
from tests.support.harness import ServiceHarness, running_service
from tests.support.receivables import resummed_receivables_events
from tests.support.waiting import eventually

pytestmark = pytest.mark.broker


async def reference(co: ServiceHarness, customer_id: str, as_of: date) -> ReceivablesChanged:
    async with co.runtime.db.transaction(read_only=True) as session:
        events = await resummed_receivables_events(session, {uuid.UUID(customer_id)}, as_of, co.clock.now())
    [event] = events
    return event


async def test_billed_action_costs_reach_credit_and_the_registry(
    databases: DatabaseFactory, broker: EmbeddedBroker
) -> None:
    clock = FixedClock(datetime(2026, 1, 1, 9, tzinfo=UTC))
    async with (
        running_service(
            "customers", await databases.create("customers"), bootstrap=broker.bootstrap, clock=clock
        ) as cu,
        running_service("credit", await databases.create("credit"), bootstrap=broker.bootstrap, clock=clock) as cr,
        running_service(
            "collections",
            await databases.create("collections"),
            bootstrap=broker.bootstrap,
            clock=clock,
            sweep_enabled=False,
        ) as co,
    ):
        registered = await cu.client.post(
            "/v1/customers",
            json={"name": "Costly Debtor Ltd", "kind": "commercial", "lifecycle": "active"},
            headers=cu.auth("admin"),
        )
        assert registered.status_code == 201, registered.text
        customer_id = str(registered.json()["id"])
        await eventually(lambda: cr.get_json(f"/v1/profiles/{customer_id}"), what="credit to learn the customer")

        async def accepted() -> str | None:
            response = await co.client.post(
                "/v1/invoices",
                headers=co.auth("admin"),
                json={
                    "customer_id": customer_id,
                    "number": "INV-COSTS-1",
                    "issue_date": "2026-01-01",
                    "currency": "CNY",
                    "amount": "10000.00",
                    "credit_terms": "n/30",
                },
            )
            return str(response.json()["id"]) if response.status_code == 201 else None

        invoice_id = await eventually(accepted, what="collections to know the customer")

        as_of, stage = date(2026, 2, 1), "letter"
        clock.set(datetime.combine(as_of, time(9), tzinfo=UTC))
        billed_before = Decimal((await co.get_json(f"/v1/invoices/{invoice_id}"))["costs_outstanding"])
        swept = await co.client.post("/v1/sweeps", json={"as_of": as_of.isoformat()}, headers=co.auth("admin"))
        assert swept.status_code == 200, swept.text
        assert swept.json()["stages_entered"] == {stage: 1}, swept.text

        async def billed() -> Decimal | None:
            costs = Decimal((await co.get_json(f"/v1/invoices/{invoice_id}"))["costs_outstanding"])
            return costs if costs > billed_before else None

        costs = await eventually(billed, what=f"collections to bill the {stage}'s cost")
        expected = await reference(co, customer_id, as_of)
        owed = (expected.open_receivables, expected.overdue_amount)
        # The cost is in the reference: the figures below are not the sweep's (which came before the cost).
        assert expected.open_receivables >= Decimal("10000.00") + costs, (stage, expected)

        async def credit_agrees() -> bool:
            profile = await cr.get_json(f"/v1/profiles/{customer_id}")
            return bool(
                profile
                and (Decimal(profile["open_receivables"]), Decimal(profile["overdue_amount"] or "0")) == owed
                and profile["collection_stage"] == stage
            )

        async def registry_agrees() -> bool:
            overview = await cu.get_json(f"/v1/customers/{customer_id}/overview")
            return bool(
                overview
                and overview["open_receivables"] is not None
                and (Decimal(overview["open_receivables"]), Decimal(overview["overdue_amount"])) == owed
                and overview["collection_stage"] == stage
            )

        await eventually(credit_agrees, what=f"credit's exposure to include the {stage}'s cost {owed}")
        await eventually(registry_agrees, what=f"the registry's overview to include the {stage}'s cost {owed}")
