"""The escalation pipeline end to end: HTTP and the real broker.

Customers registers the debtors and records their contracts (court or arbitration clause) over its API;
collections learns both from the broker, takes invoices over HTTP, and sweeps as `as_of` advances. Each
``stage_entered`` travels through the broker back to collections' own consumer, whose stage handlers send
the letter, schedule the visit, place the case with an agency and file with the forum of the contract.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from functools import partial
from typing import Any

import pytest
from sqlalchemy import select

from services.collections.models import CaseAction, CustomerProfile, KnownCustomer
from shared.broker import EmbeddedBroker
from shared.clock import FixedClock
from tests.support.databases import DatabaseFactory
from tests.support.harness import ServiceHarness, running_service
from tests.support.waiting import eventually

pytestmark = pytest.mark.broker

WRITE = ("collections:write", "collections:read")


async def register(customers: ServiceHarness, name: str, clause: dict[str, str]) -> str:
    response = await customers.client.post(
        "/v1/customers",
        json={"name": name, "kind": "commercial", "lifecycle": "active"},
        headers=customers.auth("customers:write"),
    )
    assert response.status_code == 201, response.text
    customer_id = str(response.json()["id"])
    contract = await customers.client.post(
        f"/v1/customers/{customer_id}/contracts",
        json={
            "number": f"C-{name}",
            "signed_on": "2026-01-02",
            "valid_from": "2026-01-02",
            "credit_terms": "n/30",
            "dispute_resolution": clause,
        },
        headers=customers.auth("customers:write"),
    )
    assert contract.status_code == 201, contract.text
    return customer_id


async def learned(collections: ServiceHarness, customer_id: str) -> bool:
    import uuid

    async with collections.runtime.db.transaction() as session:
        known = await session.get(KnownCustomer, uuid.UUID(customer_id))
        profile = await session.get(CustomerProfile, uuid.UUID(customer_id))
        return known is not None and profile is not None and profile.contract_id is not None


async def invoice(collections: ServiceHarness, customer_id: str, amount: str) -> str:
    response = await collections.client.post(
        "/v1/invoices",
        json={
            "customer_id": customer_id,
            "number": f"INV-{amount}-{customer_id[:6]}",
            "issue_date": "2026-01-01",
            "currency": "CNY",
            "amount": amount,
        },
        headers=collections.auth(*WRITE),
    )
    assert response.status_code == 201, response.text
    assert response.json()["due_date"] == "2026-01-31"  # n/30 from the contract
    return str(response.json()["id"])


async def case_for(collections: ServiceHarness, invoice_id: str) -> dict[str, Any]:
    listed = await collections.client.get("/v1/cases", params={"limit": 200}, headers=collections.auth(*WRITE))
    [item] = [item for item in listed.json()["items"] if item["invoice_id"] == invoice_id]
    detail = await collections.client.get(f"/v1/cases/{item['id']}", headers=collections.auth(*WRITE))
    return dict(detail.json())


async def actions_done(collections: ServiceHarness, expected: int) -> bool:
    async with collections.runtime.db.transaction() as session:
        return len((await session.scalars(select(CaseAction.id))).all()) >= expected


async def sweep_on(collections: ServiceHarness, day: str) -> dict[str, Any]:
    assert isinstance(collections.clock, FixedClock)
    collections.clock.set(datetime.combine(date.fromisoformat(day), time(9), tzinfo=UTC))
    response = await collections.client.post("/v1/sweeps", json={"as_of": day}, headers=collections.auth("admin"))
    assert response.status_code == 200, response.text
    return dict(response.json())


def stages_entered(case: dict[str, Any]) -> list[str]:
    return [entry["to"] for entry in case["history"] if entry["event"] == "stage_entered"]


async def test_unpaid_invoices_walk_the_pipeline_to_the_contract_forum(
    databases: DatabaseFactory, broker: EmbeddedBroker
) -> None:
    clock = FixedClock(datetime(2026, 1, 5, 9, tzinfo=UTC))
    async with (
        running_service("customers", await databases.create("customers"), bootstrap=broker.bootstrap) as cu,
        running_service(
            "collections",
            await databases.create("collections"),
            bootstrap=broker.bootstrap,
            clock=clock,
            sweep_enabled=False,
        ) as co,
    ):
        court = await register(cu, "Court Debtor", {"kind": "court"})
        arbitration = await register(
            cu, "Arbitration Debtor", {"kind": "arbitration", "commission": "Shanghai Arbitration Commission"}
        )
        small = await register(cu, "Small Debtor", {"kind": "court"})
        payer = await register(cu, "Late Payer", {"kind": "court"})
        for customer_id in (court, arbitration, small, payer):
            await eventually(partial(learned, co, customer_id), what="collections to learn customer and contract")
        agency = await co.client.post(
            "/v1/agencies",
            json={"name": "Eastern Recovery", "recovery_rate": "0.6", "commission_rate": "0.2", "min_debt": "10000.00"},
            headers=co.auth(*WRITE),
        )
        assert agency.status_code == 201, agency.text
        court_invoice = await invoice(co, court, "60000.00")
        arbitration_invoice = await invoice(co, arbitration, "60000.00")
        small_invoice = await invoice(co, small, "5000.00")
        payer_invoice = await invoice(co, payer, "60000.00")

        expected_actions = 0
        for day, stage, actions in (("2026-02-01", "letter", 4), ("2026-03-02", "visit", 4)):
            result = await sweep_on(co, day)
            assert result["stages_entered"] == {stage: 4}, result
            expected_actions += actions
            await eventually(partial(actions_done, co, expected_actions), what=f"{stage} actions")

        # the late payer pays everything due at the visit stage: the case resolves
        due = (await co.client.get(f"/v1/invoices/{payer_invoice}", headers=co.auth(*WRITE))).json()["amount_due"]
        paid = await co.client.post(
            f"/v1/invoices/{payer_invoice}/payments", json={"amount": due}, headers=co.auth(*WRITE)
        )
        assert paid.status_code == 201, paid.text
        assert paid.json()["invoice"]["status"] == "paid"

        result = await sweep_on(co, "2026-04-01")
        assert result["stages_entered"] == {"agency": 2}, result  # 5,000 is below the agency threshold
        await eventually(lambda: actions_done(co, expected_actions + 2), what="agency placements")
        result = await sweep_on(co, "2026-05-01")
        assert result["stages_entered"] == {"litigation": 1, "arbitration": 1}, result
        await eventually(lambda: actions_done(co, expected_actions + 4), what="filings")
        result = await sweep_on(co, "2026-12-31")
        assert result["cases_moved"] == 0

        court_case = await case_for(co, court_invoice)
        assert court_case["stage"] == "litigation"
        assert stages_entered(court_case) == ["letter", "visit", "agency", "litigation"]
        kinds = [action["kind"] for action in court_case["actions"]]
        assert kinds == ["letter", "visit", "agency_assignment", "litigation_filing"]
        assert court_case["actions"][2]["details"]["agency_name"] == "Eastern Recovery"
        assert court_case["actions"][3]["cost"] == "5000.00"

        arbitration_case = await case_for(co, arbitration_invoice)
        assert arbitration_case["stage"] == "arbitration"
        assert stages_entered(arbitration_case) == ["letter", "visit", "agency", "arbitration"]
        filing = arbitration_case["actions"][-1]
        assert filing["kind"] == "arbitration_filing"
        assert filing["details"]["forum"] == "Shanghai Arbitration Commission"

        small_case = await case_for(co, small_invoice)
        assert small_case["stage"] == "visit" and stages_entered(small_case) == ["letter", "visit"]

        payer_case = await case_for(co, payer_invoice)
        assert payer_case["status"] == "resolved" and payer_case["stage"] == "visit"
        assert stages_entered(payer_case) == ["letter", "visit"]
        types = await co.outbox_types()
        assert types.count("creditflow.collections.case_resolved.v1") == 1
        assert "creditflow.collections.receivables_changed.v1" in types
