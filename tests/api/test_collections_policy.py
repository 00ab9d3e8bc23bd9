"""Policy over HTTP (versioned, If-Match, validation listing every problem), simulation, reports,
visit outcomes and agency reports."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest

from shared.clock import FixedClock
from tests.support.collections import (
    ADMIN,
    WRITE,
    case_of,
    create_invoice,
    known_customer,
    run_stage_handlers,
    sweep,
)
from tests.support.databases import DatabaseFactory
from tests.support.harness import ServiceHarness, running_service


@pytest.fixture
async def collections(databases: DatabaseFactory) -> AsyncIterator[ServiceHarness]:
    async with running_service("collections", await databases.create("collections"), sweep_enabled=False) as h:
        yield h


async def test_policy_is_versioned_and_needs_if_match(collections: ServiceHarness) -> None:
    got = await collections.client.get("/v1/policies/current", headers=collections.auth(*WRITE))
    assert got.status_code == 200 and got.headers["etag"] == '"1"'
    policy = got.json()
    assert [stage["stage"] for stage in policy["stages"]] == ["letter", "visit", "agency", "arbitration", "litigation"]
    policy["stages"][1]["min_days_overdue"] = 20
    missing = await collections.client.put("/v1/policies/current", json=policy, headers=collections.auth(*ADMIN))
    assert missing.status_code == 428
    not_admin = await collections.client.put(
        "/v1/policies/current", json=policy, headers={**collections.auth(*WRITE), "If-Match": '"1"'}
    )
    assert not_admin.status_code == 403
    put = await collections.client.put(
        "/v1/policies/current", json=policy, headers={**collections.auth(*ADMIN), "If-Match": '"1"'}
    )
    assert put.status_code == 200, put.text
    assert put.headers["etag"] == '"2"' and put.json()["version"] == 2
    stale = await collections.client.put(
        "/v1/policies/current", json=policy, headers={**collections.auth(*ADMIN), "If-Match": '"1"'}
    )
    assert stale.status_code == 412
    customer = await known_customer(collections)
    invoice = await create_invoice(collections, customer, amount="5000.00", due_date="2026-01-31")
    await sweep(collections, "2026-02-20")  # 20 days: the edited visit threshold
    case = await case_of(collections, invoice["id"])
    assert case is not None and case["stage"] == "visit"
    assert case["history"][-1]["policy_version"] == 2


async def test_policy_out_of_order_is_422_listing_problems_and_stores_nothing(collections: ServiceHarness) -> None:
    policy = (await collections.client.get("/v1/policies/current", headers=collections.auth(*WRITE))).json()
    policy["stages"][0], policy["stages"][1] = policy["stages"][1], policy["stages"][0]
    policy["penalty_interest_annual_rate"] = "lots"
    response = await collections.client.put(
        "/v1/policies/current", json=policy, headers={**collections.auth(*ADMIN), "If-Match": '"1"'}
    )
    assert response.status_code == 422, response.text
    problems = response.json()["errors"]
    assert any("out of order" in problem["message"] for problem in problems)
    assert "body.penalty_interest_annual_rate" in [problem["field"] for problem in problems]
    assert await collections.count("policies") == 0


async def test_simulate_reports_moves_and_changes_nothing(collections: ServiceHarness) -> None:
    customer = await known_customer(collections)
    invoice = await create_invoice(collections, customer, amount="60000.00", due_date="2026-01-31")
    await sweep(collections, "2026-02-10")
    draft = (await collections.client.get("/v1/policies/current", headers=collections.auth(*WRITE))).json()
    draft["stages"][1]["min_days_overdue"] = 5
    before = await collections.outbox_count()
    response = await collections.client.post(
        "/v1/policies/simulate", json={"policy": draft, "as_of": "2026-02-10"}, headers=collections.auth(*WRITE)
    )
    assert response.status_code == 200, response.text
    [move] = response.json()["moves"]
    assert move["from_stage"] == "letter" and move["to_stage"] == "visit" and move["stages_passed"] == ["visit"]
    assert (await case_of(collections, invoice["id"]) or {})["stage"] == "letter"
    assert await collections.outbox_count() == before
    draft["stages"][0]["stage"] = "nowhere"
    bad = await collections.client.post(
        "/v1/policies/simulate", json={"policy": draft, "as_of": "2026-02-10"}, headers=collections.auth(*WRITE)
    )
    assert bad.status_code == 422


async def test_visit_outcome_paid_resolves_the_case(collections: ServiceHarness) -> None:
    customer = await known_customer(collections)
    invoice = await create_invoice(collections, customer, amount="20000.00", due_date="2026-01-31")
    await sweep(collections, "2026-03-05")
    done: set[str] = set()
    await run_stage_handlers(collections, done)
    case = await case_of(collections, invoice["id"])
    assert case is not None and case["stage"] == "visit"
    visit = next(action for action in case["actions"] if action["kind"] == "visit")
    url = f"/v1/cases/{case['id']}/visits/{visit['id']}/outcome"
    incomplete = await collections.client.post(url, json={"outcome": "promise"}, headers=collections.auth(*WRITE))
    assert incomplete.status_code == 422
    paid = await collections.client.post(
        url, json={"outcome": "paid", "visited_on": "2026-03-06"}, headers=collections.auth(*WRITE)
    )
    assert paid.status_code == 201, paid.text
    assert paid.json()["status"] == "resolved"
    types = await collections.outbox_types()
    assert "creditflow.collections.case_resolved.v1" in types
    got = await collections.client.get(f"/v1/invoices/{invoice['id']}", headers=collections.auth(*WRITE))
    assert got.json()["status"] == "paid" and got.json()["amount_due"] == "0.00"


async def test_visit_refusal_escalates_and_agency_reports_settle(collections: ServiceHarness) -> None:
    agency = await collections.client.post(
        "/v1/agencies",
        json={
            "name": "Eastern Recovery",
            "recovery_rate": "0.6",
            "commission_rate": "0.2",
            "min_debt": "10000.00",
            "report_deadline_days": 30,
        },
        headers=collections.auth(*WRITE),
    )
    assert agency.status_code == 201, agency.text
    bad = await collections.client.post(
        "/v1/agencies",
        json={"name": "Bad", "recovery_rate": "1.5", "commission_rate": "0.2"},
        headers=collections.auth(*WRITE),
    )
    assert bad.status_code == 422
    customer = await known_customer(collections)
    invoice = await create_invoice(collections, customer, amount="20000.00", due_date="2026-01-31")
    await sweep(collections, "2026-03-05")
    done: set[str] = set()
    await run_stage_handlers(collections, done)
    case = await case_of(collections, invoice["id"])
    assert case is not None
    visit = next(action for action in case["actions"] if action["kind"] == "visit")
    refused = await collections.client.post(
        f"/v1/cases/{case['id']}/visits/{visit['id']}/outcome",
        json={"outcome": "refusal", "visited_on": "2026-03-06"},
        headers=collections.auth(*WRITE),
    )
    assert refused.status_code == 201, refused.text
    assert refused.json()["stage"] == "agency"
    await run_stage_handlers(collections, done)
    case = await case_of(collections, invoice["id"])
    assert case is not None
    assignment = next(action for action in case["actions"] if action["kind"] == "agency_assignment")
    assert assignment["status"] == "active" and assignment["details"]["agency_name"] == "Eastern Recovery"
    report = await collections.client.post(
        f"/v1/cases/{case['id']}/agency-reports",
        json={"reported_on": "2026-03-20", "recovered": "5000.00", "note": "first instalment"},
        headers=collections.auth(*WRITE),
    )
    assert report.status_code == 201, report.text
    assert report.json()["cost"] == "1000.00"  # 20 % commission on 5,000
    await sweep(collections, "2026-05-01")  # no report for 42 days: recalled
    case = await case_of(collections, invoice["id"])
    assert case is not None
    assert any(entry["event"] == "agency_recalled" for entry in case["history"])


async def test_aging_and_performance_reports(collections: ServiceHarness) -> None:
    customer = await known_customer(collections)
    await create_invoice(collections, customer, amount="1000.00", due_date="2026-02-20")
    await create_invoice(collections, customer, amount="2000.00", due_date="2026-01-15")
    await create_invoice(collections, customer, amount="3000.00", due_date="2026-04-01")
    aging = await collections.client.get(
        "/v1/reports/aging", params={"as_of": "2026-03-01"}, headers=collections.auth(*WRITE)
    )
    assert aging.status_code == 200, aging.text
    overall = aging.json()["overall"]
    assert overall["current"] == "3000.00" and overall["1-30"].startswith("10")
    assert overall["31-60"].startswith("20") and aging.json()["customers"][customer]
    await sweep(collections, "2026-03-01")
    performance = await collections.client.get(
        "/v1/reports/performance", params={"from": "2026-01-01", "to": "2026-03-01"}, headers=collections.auth(*WRITE)
    )
    assert performance.status_code == 200, performance.text
    body = performance.json()
    assert body["dso_days"] is not None and body["collection_effectiveness_index"] is not None
    assert set(body["cost_per_stage"]["per_stage"]) == {"letter", "visit", "agency", "arbitration", "litigation"}


async def test_charged_action_costs_are_settled_first(databases: DatabaseFactory) -> None:
    async with running_service(
        "collections",
        await databases.create("collections"),
        sweep_enabled=False,
        charge_action_costs=True,
        charge_penalty_interest=False,
    ) as collections:
        customer = await known_customer(collections)
        invoice = await create_invoice(collections, customer, amount="20000.00", due_date="2026-01-31")
        await sweep(collections, "2026-03-05")
        await run_stage_handlers(collections, set())
        got = await collections.client.get(f"/v1/invoices/{invoice['id']}", headers=collections.auth(*WRITE))
        # the letter sent (5.00); the visit is only scheduled, so nothing of it is billed yet
        assert got.json()["costs_outstanding"] == "5.00"
        assert got.json()["amount_due"] == "20005.00"
        assert isinstance(collections.clock, FixedClock)
        collections.clock.set(datetime(2026, 3, 6, 9, 0, tzinfo=UTC))  # a payment cannot be dated in the future
        paid = await collections.client.post(
            f"/v1/invoices/{invoice['id']}/payments",
            json={"amount": "5.00", "paid_on": "2026-03-06"},
            headers=collections.auth(*WRITE),
        )
        assert paid.status_code == 201, paid.text
        assert paid.json()["costs_applied"] == "5.00" and paid.json()["principal_applied"] == "0.00"
