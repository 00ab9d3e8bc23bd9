"""The registry over HTTP: full customer record, prospect temperature, lifecycle rules, filters, contracts.

Bad input gets a 4xx problem and writes nothing (no row, no outbox event).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select

from shared.clock import FixedClock
from shared.tables import outbox
from tests.support.databases import DatabaseFactory
from tests.support.harness import ServiceHarness, new_id, running_service
from tests.support.problems import assert_problem

ACME: dict[str, Any] = {
    "name": "Acme Trading Co.",
    "kind": "commercial",
    "channel_role": "intermediary",
    "origin": "external",
    "lifecycle": "active",
    "tax_id": "91310000MA1K000001",
    "legal_representative": "Zhang Wei",
    "bank_account": "6222 0000 1111 2222",
    "region": "East China",
    "industry": "hardware",
    "segment": "key_account",
    "contacts": [{"name": "Li Na", "role": "buyer", "email": "li.na@acme.example"}],
}

CONTRACT = {
    "number": "C-2026-001",
    "signed_on": "2026-01-05",
    "valid_from": "2026-01-05",
    "valid_to": "2027-01-04",
    "subject": "Supply of fasteners",
    "quality_terms": "GB/T 3098",
    "delivery_terms": "DAP Shanghai",
    "dealer_rights": "exclusive in Jiangsu",
    "settlement_method": "instalments",
    "rebate_policy": "2 % above 1M CNY a year",
    "ordering_and_returns": "returns within 7 days",
    "breach_liability": "0.05 % a day",
    "credit_terms": "2/10,n/30",
    "dispute_resolution": {"kind": "arbitration", "commission": "Shanghai International Arbitration Center"},
}


@pytest.fixture
async def customers(databases: DatabaseFactory) -> AsyncIterator[ServiceHarness]:
    clock = FixedClock(datetime(2026, 3, 1, 9, 0, tzinfo=UTC))
    async with running_service("customers", await databases.create("customers"), clock=clock) as harness:
        yield harness


async def create(h: ServiceHarness, **fields: Any) -> dict[str, Any]:
    body = {**ACME, "tax_id": f"TAX-{new_id()[:12]}", **fields}
    response = await h.client.post("/v1/customers", json=body, headers=h.auth("customers:write"))
    assert response.status_code == 201, response.text
    return dict(response.json())


async def outbox_events(h: ServiceHarness) -> list[tuple[str, dict[str, Any]]]:
    async with h.runtime.db.transaction() as session:
        rows = (await session.execute(select(outbox.c.event_type, outbox.c.data).order_by(outbox.c.seq))).all()
    return [(row.event_type, json.loads(row.data)) for row in rows]


async def test_full_record_round_trips(customers: ServiceHarness) -> None:
    created = await create(customers)
    got = await customers.client.get(f"/v1/customers/{created['id']}", headers=customers.auth("customers:read"))
    body = got.json()
    for name in ("channel_role", "origin", "legal_representative", "bank_account", "industry", "segment"):
        assert body[name] == ACME[name]
    assert body["contacts"] == [{"name": "Li Na", "role": "buyer", "email": "li.na@acme.example", "phone": None}]
    assert body["temperature"] is None  # active customers have no temperature


@pytest.mark.parametrize(
    ("expected_on", "temperature"),
    [
        ("2026-02-10", "hot"),  # already past: overdue, hot
        ("2026-04-01", "hot"),  # exactly one month ahead
        ("2026-04-02", "warm"),
        ("2026-06-01", "warm"),  # exactly three months ahead
        ("2026-06-02", "cold"),
    ],
)
async def test_prospect_temperature_follows_the_clock(
    customers: ServiceHarness, expected_on: str, temperature: str
) -> None:
    created = await create(
        customers, lifecycle="prospect", expected_first_order_on=expected_on, purchase_type="new_buy"
    )
    assert created["temperature"] == temperature
    assert created["purchase_type"] == "new_buy"


async def test_temperature_warms_as_time_passes(customers: ServiceHarness) -> None:
    created = await create(customers, lifecycle="prospect", expected_first_order_on="2026-06-15")
    assert created["temperature"] == "cold"
    assert isinstance(customers.clock, FixedClock)
    customers.clock.set(datetime(2026, 5, 20, tzinfo=UTC))
    got = await customers.client.get(f"/v1/customers/{created['id']}", headers=customers.auth("customers:read"))
    assert got.json()["temperature"] == "hot"


async def test_list_filters_by_kind_lifecycle_region_and_segment(customers: ServiceHarness) -> None:
    a = await create(customers, region="North China")
    await create(customers, kind="organization", region="North China")
    await create(customers, lifecycle="prospect", region="North China", segment="general")
    await create(customers, region="South China")
    read = customers.auth("customers:read")
    response = await customers.client.get(
        "/v1/customers", params={"kind": "commercial", "lifecycle": "active", "region": "North China"}, headers=read
    )
    assert [item["id"] for item in response.json()["items"]] == [a["id"]]
    by_segment = await customers.client.get("/v1/customers", params={"segment": "general"}, headers=read)
    assert len(by_segment.json()["items"]) == 1
    bad = await customers.client.get("/v1/customers", params={"lifecycle": "dormant"}, headers=read)
    assert_problem(bad, 422, "query.lifecycle")


@pytest.mark.parametrize(
    ("start", "target"),
    [
        ("prospect", "active"),
        ("prospect", "lost"),
        ("active", "lapsed"),
        ("active", "lost"),
        ("lapsed", "active"),
        ("lapsed", "lost"),
        ("lost", "active"),
        ("lost", "prospect"),
    ],
)
async def test_legal_lifecycle_change_emits_customer_updated(
    customers: ServiceHarness, start: str, target: str
) -> None:
    created = await create(customers, lifecycle=start)
    response = await customers.client.patch(
        f"/v1/customers/{created['id']}",
        json={"lifecycle": target},
        headers={**customers.auth("customers:write"), "If-Match": '"1"'},
    )
    assert response.status_code == 200, response.text
    assert response.json()["lifecycle"] == target
    events = await outbox_events(customers)
    assert events[-1][0] == "creditflow.customers.customer_updated.v1"
    assert events[-1][1]["changes"] == {"lifecycle": target}


@pytest.mark.parametrize(("start", "target"), [("prospect", "lapsed"), ("active", "prospect"), ("lapsed", "prospect")])
async def test_illegal_lifecycle_change_is_409_and_changes_nothing(
    customers: ServiceHarness, start: str, target: str
) -> None:
    created = await create(customers, lifecycle=start)
    response = await customers.client.patch(
        f"/v1/customers/{created['id']}",
        json={"lifecycle": target},
        headers={**customers.auth("customers:write"), "If-Match": '"1"'},
    )
    problem = assert_problem(response, 409)
    assert problem["current_state"] == start
    got = await customers.client.get(f"/v1/customers/{created['id']}", headers=customers.auth("customers:read"))
    assert got.json()["lifecycle"] == start and got.json()["version"] == 1
    assert await customers.outbox_count() == 1


async def test_patch_without_or_with_stale_if_match_writes_nothing(customers: ServiceHarness) -> None:
    created = await create(customers)
    url = f"/v1/customers/{created['id']}"
    write = customers.auth("customers:write")
    assert_problem(await customers.client.patch(url, json={"industry": "textiles"}, headers=write), 428)
    assert_problem(
        await customers.client.patch(url, json={"industry": "textiles"}, headers={**write, "If-Match": '"7"'}), 412
    )
    got = await customers.client.get(url, headers=customers.auth("customers:read"))
    assert got.json()["industry"] == "hardware" and got.json()["version"] == 1
    assert await customers.outbox_count() == 1


@pytest.mark.parametrize(
    ("body", "field"),
    [
        pytest.param({"channel_role": "wholesaler"}, "body.channel_role", id="unknown-channel-role"),
        pytest.param({"origin": "partner"}, "body.origin", id="unknown-origin"),
        pytest.param({"purchase_type": "impulse"}, "body.purchase_type", id="unknown-purchase-type"),
        pytest.param({"segment": "vip"}, "body.segment", id="unknown-segment"),
        pytest.param({"contacts": [{"name": "Li", "email": "not-an-email"}]}, "body.contacts.0.email", id="bad-email"),
    ],
)
async def test_unknown_enum_values_are_422_and_write_nothing(
    customers: ServiceHarness, body: dict[str, Any], field: str
) -> None:
    response = await customers.client.post(
        "/v1/customers", json={**ACME, **body}, headers=customers.auth("customers:write")
    )
    assert_problem(response, 422, field)
    assert await customers.count("customers") == 0 and await customers.outbox_count() == 0


async def test_duplicate_tax_id_on_patch_is_409(customers: ServiceHarness) -> None:
    first = await create(customers)
    second = await create(customers)
    response = await customers.client.patch(
        f"/v1/customers/{second['id']}",
        json={"tax_id": first["tax_id"]},
        headers={**customers.auth("customers:write"), "If-Match": '"1"'},
    )
    assert_problem(response, 409, "body.tax_id")
    assert await customers.outbox_count() == 2


# --- contracts ---------------------------------------------------------------------------------


async def test_contract_is_recorded_canonical_and_announced(customers: ServiceHarness) -> None:
    customer = await create(customers)
    response = await customers.client.post(
        f"/v1/customers/{customer['id']}/contracts",
        json=CONTRACT,
        headers={**customers.auth("customers:write"), "Idempotency-Key": "c-1"},
    )
    assert response.status_code == 201, response.text
    contract = response.json()
    assert contract["credit_terms"] == "2/10, n/30"
    assert contract["dispute_resolution"] == CONTRACT["dispute_resolution"]
    assert contract["settlement_method"] == "instalments" and contract["dealer_rights"] == "exclusive in Jiangsu"
    assert response.headers["location"] == f"/v1/contracts/{contract['id']}"
    again = await customers.client.post(
        f"/v1/customers/{customer['id']}/contracts",
        json=CONTRACT,
        headers={**customers.auth("customers:write"), "Idempotency-Key": "c-1"},
    )
    assert again.status_code == 201 and again.json() == contract
    read = customers.auth("customers:read")
    listed = await customers.client.get(f"/v1/customers/{customer['id']}/contracts", headers=read)
    assert [item["id"] for item in listed.json()["items"]] == [contract["id"]]
    assert (await customers.client.get(f"/v1/contracts/{contract['id']}", headers=read)).json() == contract
    event_type, data = (await outbox_events(customers))[-1]
    assert event_type == "creditflow.customers.contract_signed.v1"
    assert data["dispute_resolution"] == {
        "kind": "arbitration",
        "commission": "Shanghai International Arbitration Center",
    }
    assert data["credit_terms"] == "2/10, n/30" and data["valid_to"] == "2027-01-04"
    assert await customers.count("contracts") == 1


async def test_court_clause_contract(customers: ServiceHarness) -> None:
    customer = await create(customers)
    body = {
        "number": "C-2026-002",
        "signed_on": "2026-02-01",
        "valid_from": "2026-02-01",
        "credit_terms": "n/60",
        "dispute_resolution": {"kind": "court"},
    }
    response = await customers.client.post(
        f"/v1/customers/{customer['id']}/contracts", json=body, headers=customers.auth("customers:write")
    )
    assert response.status_code == 201, response.text
    assert response.json()["dispute_resolution"] == {"kind": "court"} and response.json()["valid_to"] is None
    assert response.json()["penalty_interest_annual_rate"] is None
    event_type, data = (await outbox_events(customers))[-1]
    assert event_type.endswith("contract_signed.v1") and data["penalty_interest_annual_rate"] is None


async def test_contract_agrees_its_own_penalty_interest_rate(customers: ServiceHarness) -> None:
    customer = await create(customers)
    body = {**CONTRACT, "number": "C-2026-003", "penalty_interest_annual_rate": "0.1095"}  # 0.03 % a day
    response = await customers.client.post(
        f"/v1/customers/{customer['id']}/contracts", json=body, headers=customers.auth("customers:write")
    )
    assert response.status_code == 201, response.text
    contract = response.json()
    assert contract["penalty_interest_annual_rate"] == "0.109500"
    read = customers.auth("customers:read")
    assert (await customers.client.get(f"/v1/contracts/{contract['id']}", headers=read)).json() == contract
    event_type, data = (await outbox_events(customers))[-1]
    assert event_type == "creditflow.customers.contract_signed.v1"
    assert Decimal(data["penalty_interest_annual_rate"]) == Decimal("0.1095")


BAD_CONTRACTS = [
    pytest.param({"credit_terms": "net whenever"}, 422, "body.credit_terms", id="malformed-terms"),
    pytest.param({"credit_terms": "5/40, n/30"}, 422, "body.credit_terms", id="discount-after-net"),
    pytest.param({"valid_to": "2025-12-31"}, 422, "body.valid_to", id="ends-before-it-starts"),
    pytest.param({"signed_on": "2026-03-02"}, 422, "body.signed_on", id="signed-in-the-future"),
    pytest.param(
        {"dispute_resolution": {"kind": "arbitration", "commission": "   "}},
        422,
        "body.dispute_resolution.arbitration.commission",
        id="blank-commission",
    ),
    pytest.param({"dispute_resolution": {"kind": "mediation"}}, 422, None, id="unknown-clause"),
    pytest.param({"dispute_resolution": {"kind": "court", "commission": "X"}}, 422, None, id="court-with-commission"),
    pytest.param({"settlement_method": "barter"}, 422, "body.settlement_method", id="unknown-settlement"),
    pytest.param({"number": ""}, 422, "body.number", id="blank-number"),
    pytest.param({"penalty_interest_annual_rate": "1.2"}, 422, "body.penalty_interest_annual_rate", id="rate-above-1"),
    pytest.param(
        {"penalty_interest_annual_rate": "-0.1"}, 422, "body.penalty_interest_annual_rate", id="rate-negative"
    ),
    pytest.param({"penalty_interest_annual_rate": "0.1234567"}, 422, None, id="rate-too-precise"),
]


@pytest.mark.parametrize(("change", "status", "field"), BAD_CONTRACTS)
async def test_bad_contract_is_4xx_and_writes_nothing(
    customers: ServiceHarness, change: dict[str, Any], status: int, field: str | None
) -> None:
    customer = await create(customers)
    response = await customers.client.post(
        f"/v1/customers/{customer['id']}/contracts",
        json={**CONTRACT, **change},
        headers=customers.auth("customers:write"),
    )
    assert_problem(response, status, field)
    assert await customers.count("contracts") == 0
    assert await customers.outbox_count() == 1  # only the registration


async def test_duplicate_contract_number_and_unknown_customer(customers: ServiceHarness) -> None:
    customer = await create(customers)
    write = customers.auth("customers:write")
    assert (
        await customers.client.post(f"/v1/customers/{customer['id']}/contracts", json=CONTRACT, headers=write)
    ).status_code == 201
    assert_problem(
        await customers.client.post(f"/v1/customers/{customer['id']}/contracts", json=CONTRACT, headers=write),
        409,
        "body.number",
    )
    assert_problem(
        await customers.client.post(
            f"/v1/customers/{new_id()}/contracts", json={**CONTRACT, "number": "C-9"}, headers=write
        ),
        404,
    )
    assert await customers.count("contracts") == 1
