"""The product's definition of done (product.md section 8), through the APIs and the real broker:

an unpaid invoice walks letter → visit → agency → litigation as the sweep's ``as_of`` advances; every
step is visible where it matters — the collections case, the credit hold (and credit checks blocking),
the registry's overview — and a payment stops it: the case resolves, the hold is released, and the
next credit check approves.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from shared.broker import EmbeddedBroker
from shared.clock import FixedClock
from tests.support.databases import DatabaseFactory
from tests.support.harness import ServiceHarness, running_service
from tests.support.waiting import eventually

pytestmark = pytest.mark.broker

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


async def get_json(harness: ServiceHarness, path: str) -> Any:
    response = await harness.client.get(path, headers=harness.auth("admin"))
    return response.json() if response.status_code == 200 else None


async def post_ok(harness: ServiceHarness, path: str, body: dict[str, Any], status: int = 201) -> Any:
    response = await harness.client.post(path, json=body, headers=harness.auth("admin"))
    assert response.status_code == status, response.text
    return response.json()


async def test_unpaid_invoice_walks_to_litigation_and_a_payment_stops_everything(
    databases: DatabaseFactory, broker: EmbeddedBroker
) -> None:
    clock = FixedClock(datetime(2026, 1, 2, 9, 0, tzinfo=UTC))  # business time, moved with each sweep
    async with (
        running_service(
            "customers", await databases.create("customers"), bootstrap=broker.bootstrap, clock=clock
        ) as cu,
        running_service("credit", await databases.create("credit"), bootstrap=broker.bootstrap, clock=clock) as cr,
        running_service(
            "collections", await databases.create("collections"), bootstrap=broker.bootstrap, clock=clock
        ) as co,
    ):
        customer = await post_ok(
            cu,
            "/v1/customers",
            {"name": "Slow Payer Ltd", "kind": "commercial", "lifecycle": "active", "tax_id": "91310000SLOW00001"},
        )
        customer_id = customer["id"]
        await post_ok(
            cu,
            f"/v1/customers/{customer_id}/contracts",
            {
                "number": "C-2026-001",
                "signed_on": "2026-01-01",
                "valid_from": "2026-01-01",
                "valid_to": "2027-12-31",
                "credit_terms": "n/30",
                "dispute_resolution": {"kind": "court"},
            },
        )
        await eventually(lambda: get_json(cr, f"/v1/profiles/{customer_id}"), what="credit to learn the customer")
        await post_ok(
            cr,
            "/v1/assessments",
            {
                "customer_id": customer_id,
                "financials": FINANCIALS,
                "factors": {name: {"score": "85", "evidence": "annual review"} for name in FACTORS},
            },
        )
        check = await post_ok(cr, "/v1/credit-checks", {"customer_id": customer_id, "amount": "1000.00"})
        assert check["decision"] == "approve", check

        async def collections_knows_contract() -> bool:
            response = await co.client.post(
                "/v1/invoices",
                headers=co.auth("admin"),
                json={
                    "customer_id": customer_id,
                    "number": "INV-1001",
                    "issue_date": "2026-01-01",
                    "currency": "CNY",
                    "amount": "60000.00",
                },
            )
            if response.status_code == 201:
                co_invoice.update(response.json())
                return True
            return False

        co_invoice: dict[str, Any] = {}
        await eventually(collections_knows_contract, what="collections to accept the invoice (customer known)")
        assert co_invoice["due_date"] == "2026-01-31"

        async def case_stage() -> str | None:
            page = await get_json(co, f"/v1/cases?customer_id={customer_id}")
            return page["items"][0]["stage"] if page and page["items"] else None

        for as_of, stage in [("2026-02-01", "letter"), ("2026-03-02", "visit"), ("2026-04-01", "agency")]:
            clock.set(datetime.fromisoformat(f"{as_of}T00:00:00+00:00"))
            await post_ok(co, "/v1/sweeps", {"as_of": f"{as_of}T00:00:00Z"}, status=200)
            assert await case_stage() == stage

        async def on_hold() -> bool:
            profile = await get_json(cr, f"/v1/profiles/{customer_id}")
            return bool(profile and profile["on_hold"])

        await eventually(on_hold, what="credit to stop supply when the case reached the agency stage")
        blocked = await post_ok(cr, "/v1/credit-checks", {"customer_id": customer_id, "amount": "1000.00"})
        assert blocked["decision"] == "block" and "on_hold" in blocked["reasons"]

        async def overview_shows(stage: str | None, hold: bool) -> bool:
            overview = await get_json(cu, f"/v1/customers/{customer_id}/overview")
            return bool(overview and overview["collection_stage"] == stage and overview["credit_hold"] is hold)

        await eventually(lambda: overview_shows("agency", True), what="the registry overview to show it")

        clock.set(datetime(2026, 5, 1, tzinfo=UTC))
        await post_ok(co, "/v1/sweeps", {"as_of": "2026-05-01T00:00:00Z"}, status=200)
        assert await case_stage() == "litigation"
        case = (await get_json(co, f"/v1/cases?customer_id={customer_id}"))["items"][0]
        history = (await get_json(co, f"/v1/cases/{case['id']}"))["history"]
        assert [entry["to"] for entry in history if entry.get("to")][-4:] == ["letter", "visit", "agency", "litigation"]

        # The filing is the litigation stage's action, applied from the stage event (asynchronously): wait
        # for it, or its cost can land after the debtor read what is due and the payment falls short.
        async def filed() -> bool:
            detail = await get_json(co, f"/v1/cases/{case['id']}")
            return any(action["stage"] == "litigation" for action in detail["actions"])

        await eventually(filed, what="collections to lodge the litigation filing")

        # The debtor pays what collections claims: principal plus the penalty interest and action costs
        # billed on the way (settled first, then principal).
        due = await get_json(co, f"/v1/invoices/{co_invoice['id']}")
        assert Decimal(due["amount_due"]) > Decimal("60000.00") and Decimal(due["interest_outstanding"]) > 0
        await post_ok(
            co, f"/v1/invoices/{co_invoice['id']}/payments", {"amount": due["amount_due"], "paid_on": "2026-05-01"}
        )
        resolved = await get_json(co, f"/v1/cases/{case['id']}")
        assert resolved["status"] != "open"

        async def released() -> bool:
            profile = await get_json(cr, f"/v1/profiles/{customer_id}")
            return bool(profile and not profile["on_hold"])

        await eventually(released, what="credit to release the hold once the invoice is paid")
        # Litigation cancelled the credit limit (取消信用额度): paying releases the hold, not the limit.
        profile = await get_json(cr, f"/v1/profiles/{customer_id}")
        assert profile["credit_limit"] == "0.00" and profile["limit_method"] == "cancelled"
        blocked = await post_ok(cr, "/v1/credit-checks", {"customer_id": customer_id, "amount": "1000.00"})
        assert blocked["reasons"] == ["over_limit"], blocked
        await post_ok(
            cr,
            "/v1/assessments",
            {
                "customer_id": customer_id,
                "financials": FINANCIALS,
                "factors": {name: {"score": "85", "evidence": "review after the judgment"} for name in FACTORS},
            },
        )
        approved = await post_ok(cr, "/v1/credit-checks", {"customer_id": customer_id, "amount": "1000.00"})
        assert approved["decision"] == "approve", approved
        await eventually(lambda: overview_shows(None, False), what="the registry overview to show it settled")
        # A later sweep finds nothing to do: the paid invoice never escalates again.
        clock.set(datetime(2026, 9, 1, tzinfo=UTC))
        after = await post_ok(co, "/v1/sweeps", {"as_of": "2026-09-01T00:00:00Z"}, status=200)
        assert await case_stage() == "litigation" and resolved["status"] != "open", after
