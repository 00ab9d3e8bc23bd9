"""Sales history import and the analyses over HTTP: pyramid, ABC, value matrix, CLV, loyalty, lapse sweep."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from shared.clock import FixedClock
from tests.support.databases import DatabaseFactory
from tests.support.harness import ServiceHarness, new_id, running_service


@pytest.fixture
async def customers(databases: DatabaseFactory) -> AsyncIterator[ServiceHarness]:
    clock = FixedClock(datetime(2026, 3, 1, 9, 0, tzinfo=UTC))
    async with running_service("customers", await databases.create("customers"), clock=clock) as harness:
        yield harness


async def register(h: ServiceHarness, n: int, **fields: Any) -> str:
    body = {"name": f"Customer {n}", "kind": "commercial", "tax_id": f"T-{new_id()[:8]}", **fields}
    response = await h.client.post("/v1/customers", json=body, headers=h.auth("customers:write"))
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


async def import_rows(h: ServiceHarness, rows: list[dict[str, Any]], **headers: str) -> Any:
    return await h.client.post(
        "/v1/sales/import", json={"rows": rows}, headers={**h.auth("customers:write"), **headers}
    )


def sale(customer_id: str, sold_on: str, amount: str, **fields: Any) -> dict[str, Any]:
    return {"customer_id": customer_id, "sold_on": sold_on, "currency": "CNY", "amount": amount, **fields}


async def test_import_is_all_or_nothing_with_every_bad_row_named(customers: ServiceHarness) -> None:
    a = await register(customers, 1)
    good = sale(a, "2026-01-10", "1000.00", reference="ERP-1")
    rows = [
        good,
        sale(new_id(), "2026-01-11", "5.00"),
        sale(a, "2026-01-12", "7.00", reference="ERP-1"),
        sale(a, "2026-04-01", "9.00"),
    ]
    response = await import_rows(customers, rows)
    assert response.status_code == 422, response.text
    fields = [error["field"] for error in response.json()["errors"]]
    assert fields == ["body.rows[1].customer_id", "body.rows[2].reference", "body.rows[3].sold_on"]
    assert await customers.count("sales") == 0
    malformed = await import_rows(customers, [good, {**good, "amount": "-1", "currency": "XXX"}])
    assert malformed.status_code == 422
    assert {e["field"] for e in malformed.json()["errors"]} == {"body.rows.1.amount", "body.rows.1.currency"}
    assert await customers.count("sales") == 0
    ok = await import_rows(customers, [good], **{"Idempotency-Key": "imp-1"})
    assert ok.status_code == 201 and ok.json() == {"imported": 1, "totals": {"CNY": "1000.00"}}
    again = await import_rows(customers, [good], **{"Idempotency-Key": "imp-1"})
    assert again.json() == ok.json() and await customers.count("sales") == 1
    repeat = await import_rows(customers, [good])
    assert repeat.status_code == 422 and repeat.json()["errors"][0]["field"] == "body.rows[0].reference"
    listed = await customers.client.get(f"/v1/customers/{a}/sales", headers=customers.auth("customers:read"))
    assert [row["amount"] for row in listed.json()] == ["1000.00"]


async def ranked_customers(h: ServiceHarness, amounts: list[str]) -> list[str]:
    ids = [await register(h, n) for n in range(len(amounts))]
    response = await import_rows(h, [sale(cid, "2025-06-01", amount) for cid, amount in zip(ids, amounts, strict=True)])
    assert response.status_code == 201, response.text
    return ids


async def test_pyramid_and_abc(customers: ServiceHarness) -> None:
    amounts = ["5000.00", "2000.00", "1000.00", "800.00", "500.00", "300.00", "200.00", "100.00", "60.00", "40.00"]
    ids = await ranked_customers(customers, amounts)
    # Out of the period and in another currency: not counted.
    await import_rows(
        customers,
        [sale(ids[9], "2024-01-01", "99999.00"), {**sale(ids[9], "2025-06-01", "99999.00"), "currency": "USD"}],
    )
    read = customers.auth("customers:read")
    period = {"from": "2025-01-01", "to": "2025-12-31"}
    pyramid = (await customers.client.get("/v1/analytics/pyramid", params=period, headers=read)).json()
    assert pyramid["total_revenue"] == "10000.00"
    # 10 customers: top = rank 1 (ceil 0.1), major empty (ceil 0.5 = 1), ordinary = rank 2 (ceil 2.0), small = 8.
    assert [(t["tier"], t["customers"]) for t in pyramid["tiers"]] == [
        ("top", 1),
        ("major", 0),
        ("ordinary", 1),
        ("small", 8),
    ]
    assert pyramid["entries"][0]["customer_id"] == ids[0] and pyramid["entries"][0]["share"] == "0.5000"
    wider = (
        await customers.client.get(
            "/v1/analytics/pyramid", headers=read, params={**period, "top": "0.1", "major": "0.2", "ordinary": "0.3"}
        )
    ).json()
    assert [t["customers"] for t in wider["tiers"]] == [1, 2, 3, 4]
    abc = (await customers.client.get("/v1/analytics/abc", params=period, headers=read)).json()
    # Cumulative before each: 0, 50, 70 → A (below 80 %); 80 → B; 88, 93 → B; 96 ... → C.
    assert [e["abc_class"] for e in abc["entries"]] == ["A", "A", "A", "B", "B", "B", "C", "C", "C", "C"]
    assert [c["customers"] for c in abc["classes"]] == [3, 3, 4]
    bad = await customers.client.get(
        "/v1/analytics/abc", params={**period, "a_up_to": "0.9", "b_up_to": "0.8"}, headers=read
    )
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "query.b_up_to"
    backwards = await customers.client.get(
        "/v1/analytics/pyramid", params={"from": "2026-01-01", "to": "2025-01-01"}, headers=read
    )
    assert backwards.status_code == 422
    too_wide = await customers.client.get(
        "/v1/analytics/pyramid", headers=read, params={**period, "top": "0.5", "major": "0.4", "ordinary": "0.3"}
    )
    assert too_wide.status_code == 422 and too_wide.json()["errors"][0]["field"] == "query.ordinary"


async def test_value_matrix(customers: ServiceHarness) -> None:
    a, b, c = [await register(customers, n) for n in range(3)]
    rows = [
        sale(a, "2025-09-01", "50000.00", margin="12000.00"),
        sale(b, "2025-12-01", "10000.00"),  # no margin: 20 % assumed → 2000
        sale(c, "2024-12-01", "90000.00", margin="30000.00"),
    ]  # older than 12 months: current value 0
    assert (await import_rows(customers, rows)).status_code == 201
    read = customers.auth("customers:read")
    missing = await customers.client.get("/v1/analytics/value-matrix", headers=read)
    assert missing.status_code == 422
    assert {e["field"] for e in missing.json()["errors"]} == {
        "query.current_high_from",
        "query.future_high_from",
        "query.future_medium_from",
    }
    params = {
        "current_high_from": "10000",
        "future_high_from": "15000",
        "future_medium_from": "2000",
        "growth_rate": "0.1",
        "retention_rate": "0.8",
        "years": "2",
    }
    matrix = (await customers.client.get("/v1/analytics/value-matrix", params=params, headers=read)).json()
    entries = {e["customer_id"]: e for e in matrix["entries"]}
    # 12000: future 12000·0.88 + 12000·0.7744 = 19852.80 → high/high = A.
    assert entries[a]["future_value"] == "19852.80" and entries[a]["value_class"] == "A"
    # 2000: future 3308.80 → low current / medium future = E.
    assert entries[b]["current_value"] == "2000.00" and entries[b]["value_class"] == "E"
    assert c not in entries
    assert matrix["counts"]["A"] == 1 and matrix["counts"]["E"] == 1


async def test_clv_matches_a_hand_computed_table(customers: ServiceHarness) -> None:
    body = {
        "currency": "CNY",
        "groups": [
            {
                "group": "key accounts",
                "initial_customers": 1000,
                "revenue_per_customer": "1000.00",
                "cost_per_customer": "600.00",
                "retention_rate": "0.8",
                "discount_rate": "0.1",
                "horizon_years": 3,
            }
        ],
    }
    response = await customers.client.post("/v1/analytics/clv", json=body, headers=customers.auth("customers:read"))
    assert response.status_code == 200, response.text
    group = response.json()["groups"][0]
    # Year 1: 1000 × 400 = 400000; year 2: 800 × 400 / 1.1 = 290909.09; year 3: 640 × 400 / 1.21 = 211570.25.
    assert [y["npv"] for y in group["years"]] == ["400000.00", "290909.09", "211570.25"]
    assert group["clv_per_customer"] == str((Decimal("902479.34") / 1000).quantize(Decimal("0.01")))
    assert group["retention_multiple"] == "2.6667"
    bad = await customers.client.post(
        "/v1/analytics/clv",
        headers=customers.auth("customers:read"),
        json={**body, "groups": [{**body["groups"][0], "revenue_per_customer": ["1.00", "2.00"]}]},
    )  # type: ignore[dict-item]
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "body.groups[0].revenue_per_customer"


async def test_loyalty_and_lapse_sweep(customers: ServiceHarness) -> None:
    loyal, once, dormant = [await register(customers, n) for n in range(3)]
    await register(customers, 9, lifecycle="prospect")  # prospects are not measured
    rows = [
        sale(loyal, "2026-01-05", "100.00"),
        sale(loyal, "2026-02-05", "300.00"),
        sale(once, "2026-02-20", "50.00"),
        sale(dormant, "2025-06-01", "80.00"),
    ]
    assert (await import_rows(customers, rows)).status_code == 201
    read = customers.auth("customers:read")
    loyalty = (
        await customers.client.get(
            "/v1/analytics/loyalty", headers=read, params={"from": "2026-01-01", "to": "2026-02-28"}
        )
    ).json()
    # Two of the three bought in the period (the dormant one did not), one of those two bought again.
    assert loyalty["customers"] == 3 and loyalty["repeat_purchase_rate"] == "0.5000"
    entries = {e["customer_id"]: e for e in loyalty["entries"]}
    assert entries[loyal]["purchase_count"] == 2 and entries[loyal]["days_since_last_purchase"] == 23
    assert entries[loyal]["purchases_per_year"] == "12.37" and entries[loyal]["average_amount"] == "200.00"
    assert entries[dormant]["purchase_count"] == 0 and entries[dormant]["days_since_last_purchase"] == 272

    sweep = {"as_of": "2026-03-01", "days": 90}
    forbidden = await customers.client.post(
        "/v1/analytics/lapse-sweep", json=sweep, headers=customers.auth("customers:write")
    )
    assert forbidden.status_code == 403
    response = await customers.client.post("/v1/analytics/lapse-sweep", json=sweep, headers=customers.auth("admin"))
    assert response.status_code == 200 and response.json()["lapsed"] == [dormant]
    got = await customers.client.get(f"/v1/customers/{dormant}", headers=read)
    assert got.json()["lifecycle"] == "lapsed" and got.json()["version"] == 2
    assert (await customers.outbox_types())[-1] == "creditflow.customers.customer_updated.v1"
    again = await customers.client.post("/v1/analytics/lapse-sweep", json=sweep, headers=customers.auth("admin"))
    assert again.json()["lapsed"] == []
    bad = await customers.client.post(
        "/v1/analytics/lapse-sweep", json={"as_of": "2026-03-01", "days": 0}, headers=customers.auth("admin")
    )
    assert bad.status_code == 422


async def test_periodic_lapse_detection_uses_the_configured_days(databases: DatabaseFactory) -> None:
    from services.customers.app import SPEC, lapse_detection

    clock = FixedClock(datetime(2026, 3, 1, 9, 0, tzinfo=UTC))
    async with running_service("customers", await databases.create("customers"), clock=clock, lapse_after_days=30) as h:
        recent, stale = await register(h, 1), await register(h, 2)
        rows = [sale(recent, "2026-02-15", "10.00"), sale(stale, "2026-01-15", "10.00")]
        assert (await import_rows(h, rows)).status_code == 201
        assert [job.name for job in SPEC.jobs] == ["lapse-detection"]
        assert await lapse_detection(h.runtime) == [uuid.UUID(stale)]  # 45 days > 30; 14 days is not
        lifecycles = {
            cid: (await h.client.get(f"/v1/customers/{cid}", headers=h.auth("customers:read"))).json()["lifecycle"]
            for cid in (recent, stale)
        }
        assert lifecycles == {recent: "active", stale: "lapsed"}


async def test_clv_of_registry_groups_measured_from_the_sales_history(customers: ServiceHarness) -> None:
    e1, e2, e3 = [await register(customers, n, region="East") for n in range(3)]
    w1 = await register(customers, 9, region="West")
    rows = [
        sale(e1, "2024-06-01", "500.00"),
        sale(e2, "2024-06-01", "500.00"),  # last year's buyers
        sale(e1, "2025-06-01", "1000.00", margin="400.00"),
        sale(e3, "2025-07-01", "3000.00"),  # this year's
        sale(w1, "2025-07-01", "100.00"),
    ]
    assert (await import_rows(customers, rows)).status_code == 201
    response = await customers.client.get(
        "/v1/analytics/clv",
        headers=customers.auth("customers:read"),
        params={"group_by": "region", "discount_rate": "0.1", "horizon_years": "2"},
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["skipped"] == ["West"] and body["as_of"] == "2026-03-01"
    east = body["groups"][0]
    # Retention 1 of 2 = 0.5; per customer revenue 4000 / 2, cost (600 + 3000 × 0.8) / 2 = 1500.
    assert east["measured"] == {
        "buyers_this_year": 2,
        "buyers_last_year": 2,
        "retention_rate": "0.5000",
        "revenue_per_customer": "2000.00",
        "cost_per_customer": "1500.00",
    }
    # Year 1: 2 × 500 = 1000; year 2: 1 × 500 / 1.1 = 454.55; CLV = 1454.55 / 2 = 727.28 (half up).
    assert [year["npv"] for year in east["years"]] == ["1000.00", "454.55"]
    assert east["clv_per_customer"] == "727.28" and east["retention_multiple"] == "0.8333"
    bad = await customers.client.get(
        "/v1/analytics/clv", headers=customers.auth("customers:read"), params={"group_by": "colour"}
    )
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "query.group_by"
