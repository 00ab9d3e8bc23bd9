"""Reports over time: the escalation funnel from case history, and the performance report limited to its period."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest

from tests.support.collections import WRITE, create_invoice, known_customer, run_stage_handlers, sweep
from tests.support.databases import DatabaseFactory
from tests.support.harness import ServiceHarness, running_service
from tests.support.problems import assert_problem


@pytest.fixture
async def collections(databases: DatabaseFactory) -> AsyncIterator[ServiceHarness]:
    # without penalty interest or charged costs a payment of the principal pays the invoice off
    async with running_service(
        "collections",
        await databases.create("collections"),
        sweep_enabled=False,
        charge_penalty_interest=False,
        charge_action_costs=False,
    ) as h:
        yield h


def on(h: ServiceHarness, day: str) -> None:
    """Move the service's clock to 09:00 UTC of ``day`` (sweeps, actions and payments happen on that day)."""
    h.clock.set(datetime.fromisoformat(f"{day}T09:00:00").replace(tzinfo=UTC))  # type: ignore[attr-defined]


async def daily(h: ServiceHarness, day: str, done: set[str]) -> None:
    on(h, day)
    await sweep(h, day)
    await run_stage_handlers(h, done)


async def pay(h: ServiceHarness, invoice_id: str, amount: str, day: str) -> None:
    on(h, day)
    response = await h.client.post(
        f"/v1/invoices/{invoice_id}/payments", json={"amount": amount, "paid_on": day}, headers=h.auth(*WRITE)
    )
    assert response.status_code == 201, response.text


async def three_months(h: ServiceHarness) -> tuple[dict[str, Any], dict[str, Any]]:
    """A enters letter on 10 Jan, visit on 10 Feb, agency on 10 Mar; B enters letter on 25 Jan, is paid on
    15 Feb and closed."""
    on(h, "2026-01-01")
    customer = await known_customer(h)
    a = await create_invoice(h, customer, amount="20000.00", issue_date="2025-12-01", due_date="2026-01-05")
    b = await create_invoice(h, customer, amount="30000.00", issue_date="2025-12-20", due_date="2026-01-20")
    done: set[str] = set()
    await daily(h, "2026-01-10", done)
    await daily(h, "2026-01-25", done)
    await daily(h, "2026-02-10", done)
    await pay(h, b["id"], "30000.00", "2026-02-15")
    await daily(h, "2026-03-10", done)
    on(h, "2026-03-15")
    return a, b


async def test_the_funnel_counts_open_cases_per_stage_at_each_period_end(collections: ServiceHarness) -> None:
    await three_months(collections)
    response = await collections.client.get(
        "/v1/reports/stage-funnel",
        params={"from": "2025-12-01", "to": "2026-03-15", "interval": "month"},
        headers=collections.auth(*WRITE),
    )
    assert response.status_code == 200, response.text
    body = response.json()
    rows = [
        (p["start"], p["end"], {s: n for s, n in p["open_cases"].items() if n}, p["total"]) for p in body["periods"]
    ]
    assert rows == [
        ("2025-12-01", "2025-12-31", {}, 0),
        ("2026-01-01", "2026-01-31", {"letter": 2}, 2),
        ("2026-02-01", "2026-02-28", {"visit": 1}, 1),  # B was paid on 15 February
        ("2026-03-01", "2026-03-15", {"agency": 1}, 1),
    ]
    assert set(body["periods"][0]["open_cases"]) == {"letter", "visit", "agency", "arbitration", "litigation"}

    weekly = await collections.client.get(
        "/v1/reports/stage-funnel",
        params={"from": "2026-02-02", "to": "2026-02-15", "interval": "week"},
        headers=collections.auth(*WRITE),
    )
    counts = [{s: n for s, n in p["open_cases"].items() if n} for p in weekly.json()["periods"]]
    assert counts == [{"letter": 2}, {"visit": 1}]  # A moved on 10 February, B was paid on the 15th


async def test_the_funnel_defaults_to_the_last_twelve_months_and_refuses_bad_ranges(
    collections: ServiceHarness,
) -> None:
    default = await collections.client.get("/v1/reports/stage-funnel", headers=collections.auth(*WRITE))
    assert default.status_code == 200, default.text
    periods = default.json()["periods"]
    assert len(periods) == 12 and periods[0]["start"] == "2025-04-01" and periods[-1]["end"] == "2026-03-01"
    for params, field in [
        ({"from": "2026-03-02", "to": "2026-03-01"}, "query.from"),
        ({"from": "2020-01-01", "to": "2026-03-01", "interval": "day"}, "query.interval"),
    ]:
        response = await collections.client.get(
            "/v1/reports/stage-funnel", params=params, headers=collections.auth(*WRITE)
        )
        assert_problem(response, 400, field)
    refused = await collections.client.get(
        "/v1/reports/stage-funnel", params={"interval": "year"}, headers=collections.auth(*WRITE)
    )
    assert refused.status_code == 422 and refused.headers["content-type"] == "application/problem+json"


async def performance(h: ServiceHarness, start: str, end: str) -> dict[str, Any]:
    response = await h.client.get("/v1/reports/performance", params={"from": start, "to": end}, headers=h.auth(*WRITE))
    assert response.status_code == 200, response.text
    return dict(response.json())


async def test_performance_is_limited_to_its_period(collections: ServiceHarness) -> None:
    """Reported by the console: every month showed the same per-stage counts (actions of all time)."""
    await three_months(collections)
    january = await performance(collections, "2026-01-01", "2026-01-31")
    february = await performance(collections, "2026-02-01", "2026-02-28")
    march = await performance(collections, "2026-03-01", "2026-03-31")

    def per_stage(report: dict[str, Any]) -> dict[str, int]:
        return {stage: line["cases"] for stage, line in report["cost_per_stage"]["per_stage"].items() if line["cases"]}

    assert per_stage(january) == {"letter": 2}
    assert per_stage(february) == {"visit": 1}
    assert per_stage(march) == {"agency": 1}
    assert january["cases"] == {"open": 1, "on_hold": 0, "resolved": 1, "written_off": 0}  # placed in January
    assert february["cases"] == {"open": 0, "on_hold": 0, "resolved": 0, "written_off": 0}


async def test_recovery_rate_is_of_the_debts_placed_in_the_period(collections: ServiceHarness) -> None:
    """What was recovered is measured on the same cases as what was placed, from the day they were placed."""
    await three_months(collections)
    january = await performance(collections, "2026-01-01", "2026-01-31")
    assert (january["placed_in_collection"], january["recovered"], january["recovery_rate"]) == (
        "50000.00",
        "0",
        "0.0000",
    )
    quarter = await performance(collections, "2026-01-01", "2026-03-31")
    assert (quarter["placed_in_collection"], quarter["recovered"], quarter["recovery_rate"]) == (
        "50000.00",
        "30000.00",
        "0.6000",
    )
    february = await performance(collections, "2026-02-01", "2026-02-28")  # nothing placed in February
    assert (february["placed_in_collection"], february["recovered"], february["recovery_rate"]) == ("0", "0", None)


async def test_a_payment_before_the_case_was_placed_is_no_recovery(collections: ServiceHarness) -> None:
    on(collections, "2026-01-01")
    customer = await known_customer(collections)
    invoice = await create_invoice(collections, customer, amount="10000.00", due_date="2026-01-05")
    await pay(collections, invoice["id"], "4000.00", "2026-01-06")
    on(collections, "2026-01-10")
    await sweep(collections, "2026-01-10")
    await pay(collections, invoice["id"], "6000.00", "2026-01-20")
    report = await performance(collections, "2026-01-01", "2026-01-31")
    assert (report["placed_in_collection"], report["recovered"], report["recovery_rate"]) == (
        "6000.00",
        "6000.00",
        "1.0000",
    )
