"""The work queue (GET /v1/cases): days overdue, next action and customer name on each case; filters, sorts and
keyset paging that stays correct across ties; one query whatever the page size."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest

from shared.events.customers import ContractSigned, CustomerRegistered
from tests.support.collections import WRITE, apply, create_invoice, sweep
from tests.support.databases import DatabaseFactory
from tests.support.harness import ServiceHarness, running_service
from tests.support.problems import assert_problem


@pytest.fixture
async def collections(databases: DatabaseFactory) -> AsyncIterator[ServiceHarness]:
    # the harness clock reads 2026-03-01 09:00 UTC
    # No background jobs: the statement counts below must be the requests' own (the imports worker polls).
    async with running_service(
        "collections", await databases.create("collections"), sweep_enabled=False, import_worker_enabled=False
    ) as h:
        yield h


async def named_customer(h: ServiceHarness, name: str, *, segment: str = "general", clause: str = "court") -> str:
    customer_id = uuid.uuid4()
    await apply(
        h,
        CustomerRegistered(customer_id=customer_id, name=name, kind="commercial", lifecycle="active", segment=segment),
    )
    await apply(
        h,
        ContractSigned(
            customer_id=customer_id,
            contract_id=uuid.uuid4(),
            number="C-1",
            dispute_resolution={"kind": clause} | ({"commission": "CIETAC"} if clause == "arbitration" else {}),
            valid_from="2026-01-01",
        ),
    )
    return str(customer_id)


async def queue(h: ServiceHarness, **params: Any) -> dict[str, Any]:
    response = await h.client.get("/v1/cases", params=params, headers=h.auth(*WRITE))
    assert response.status_code == 200, response.text
    return dict(response.json())


async def test_a_case_shows_days_overdue_next_action_and_customer_name(collections: ServiceHarness) -> None:
    customer = await named_customer(collections, "Acme Trading Co.", clause="arbitration")
    await create_invoice(collections, customer, amount="20000.00", due_date="2026-01-31")
    await sweep(collections, "2026-02-05")
    [item] = (await queue(collections))["items"]
    assert item["customer_name"] == "Acme Trading Co."
    assert item["days_overdue"] == 29  # 31 January to 1 March, the service's clock
    assert (item["stage"], item["segment"], item["route"], item["clause_kind"]) == (
        "letter",
        "general",
        "arbitration",
        "arbitration",
    )
    assert item["outstanding"] == "20000.00"
    action = item["next_action"]
    assert (action["stage"], action["due_on"], action["min_amount"], action["waiting_for"]) == (
        "visit",
        "2026-03-02",  # 30 days after the due date under the default policy
        "0.00",
        None,
    )
    detail = (await collections.client.get(f"/v1/cases/{item['id']}", headers=collections.auth(*WRITE))).json()
    assert detail["customer_name"] == "Acme Trading Co." and detail["next_action"] == action
    assert detail["days_overdue"] == 29


async def test_a_promise_moves_the_next_action_past_the_promised_day(collections: ServiceHarness) -> None:
    customer = await named_customer(collections, "Acme Trading Co.")
    await create_invoice(collections, customer, amount="20000.00", due_date="2026-01-31")
    await sweep(collections, "2026-02-05")
    [item] = (await queue(collections))["items"]
    promised = await collections.client.post(
        f"/v1/cases/{item['id']}/promises", json={"promised_on": "2026-03-20"}, headers=collections.auth(*WRITE)
    )
    assert promised.status_code == 201, promised.text
    assert promised.json()["next_action"]["due_on"] == "2026-03-21"
    assert promised.json()["next_action"]["waiting_for"] == "promise_to_pay"


async def seed_queue(h: ServiceHarness) -> dict[str, str]:
    """Four customers, eight overdue invoices with ties on amount and on due date, swept into cases."""
    customers = {
        "acme": await named_customer(h, "Acme Trading Co."),
        "acme_logistics": await named_customer(h, "ACME Logistics Ltd", segment="high_risk"),
        "hangzhou": await named_customer(h, "杭州远景贸易有限公司", segment="key_account"),
        "percent": await named_customer(h, "100% Steel_Works"),
    }
    invoices = [
        ("acme", "5000.00", "2026-01-10"),
        ("acme", "5000.00", "2026-01-10"),
        ("acme_logistics", "5000.00", "2026-01-20"),
        ("acme_logistics", "7000.00", "2026-01-20"),
        ("hangzhou", "7000.00", "2026-01-10"),
        ("hangzhou", "3000.00", "2026-02-20"),
        ("percent", "9000.00", "2026-01-20"),
        ("percent", "5000.00", "2026-02-20"),
    ]
    for customer, amount, due in invoices:
        await create_invoice(h, customers[customer], amount=amount, due_date=due, issue_date="2025-12-01")
    await sweep(h, "2026-02-25")
    return customers


async def test_filters_by_segment_days_overdue_and_customer_name(collections: ServiceHarness) -> None:
    customers = await seed_queue(collections)
    everything = (await queue(collections, limit=200))["items"]
    assert len(everything) == 8
    assert {item["customer_name"] for item in everything if item["customer_id"] == customers["hangzhou"]} == {
        "杭州远景贸易有限公司"
    }

    high_risk = (await queue(collections, segment="high_risk"))["items"]
    assert len(high_risk) == 2 and {item["segment"] for item in high_risk} == {"high_risk"}

    long_overdue = (await queue(collections, min_days_overdue=40, limit=200))["items"]
    assert sorted(item["days_overdue"] for item in long_overdue) == [40, 40, 40, 50, 50, 50]  # due 20 and 10 January
    assert len((await queue(collections, min_days_overdue=41))["items"]) == 3

    def names(items: list[dict[str, Any]]) -> set[str]:
        return {item["customer_name"] for item in items}

    assert names((await queue(collections, q="acme"))["items"]) == {"Acme Trading Co.", "ACME Logistics Ltd"}
    assert names((await queue(collections, q="  ＡＣＭＥ   logistics "))["items"]) == {
        "ACME Logistics Ltd"
    }  # full width
    assert names((await queue(collections, q="远景"))["items"]) == {"杭州远景贸易有限公司"}
    assert names((await queue(collections, q="100%"))["items"]) == {"100% Steel_Works"}
    assert (await queue(collections, q="0%"))["items"] != [] and (await queue(collections, q="e_l"))[
        "items"
    ] == []  # "_" is no wildcard
    combined = (await queue(collections, q="acme", segment="general", min_days_overdue=50))["items"]
    assert len(combined) == 2 and names(combined) == {"Acme Trading Co."}


async def test_refuses_bad_filters(collections: ServiceHarness) -> None:
    for params, field in [
        ({"q": "   "}, "query.q"),
        ({"min_days_overdue": -1}, "query.min_days_overdue"),
        ({"sort": "customer"}, "query.sort"),
        ({"sort": "amount", "order": "up"}, "query.order"),
        ({"segment": "vip"}, "query.segment"),
    ]:
        response = await collections.client.get("/v1/cases", params=params, headers=collections.auth(*WRITE))
        assert response.status_code in (400, 422), response.text
        assert_problem(response, response.status_code, field)


async def pages(h: ServiceHarness, **params: Any) -> list[list[dict[str, Any]]]:
    found: list[list[dict[str, Any]]] = []
    cursor: str | None = None
    while True:
        page = await queue(h, **params, **({"cursor": cursor} if cursor else {}))
        found.append(page["items"])
        cursor = page["next_cursor"]
        if cursor is None:
            return found


@pytest.mark.parametrize(
    ("sort", "key"),
    [
        ("days_overdue", lambda item: item["days_overdue"]),
        ("amount", lambda item: float(item["outstanding"])),  # only to compare order; values stay strings
        ("opened_at", lambda item: item["opened_at"]),
    ],
)
@pytest.mark.parametrize("order", ["asc", "desc"])
async def test_sorted_pages_neither_repeat_nor_skip_across_ties(
    collections: ServiceHarness, sort: str, key: Any, order: str
) -> None:
    await seed_queue(collections)
    whole = (await queue(collections, sort=sort, order=order, limit=200))["items"]
    values = [key(item) for item in whole]
    assert values == sorted(values, reverse=order == "desc")
    assert len(set(values)) < len(values), "the seed must tie on the sort key"
    paged = await pages(collections, sort=sort, order=order, limit=3)
    assert [len(page) for page in paged] == [3, 3, 2]
    assert [item["id"] for page in paged for item in page] == [item["id"] for item in whole]


async def test_a_cursor_only_continues_its_own_sort(collections: ServiceHarness) -> None:
    await seed_queue(collections)
    first = await queue(collections, sort="amount", order="desc", limit=3)
    for params in ({"sort": "amount", "order": "asc"}, {"sort": "days_overdue", "order": "desc"}, {}):
        response = await collections.client.get(
            "/v1/cases", params={**params, "cursor": first["next_cursor"]}, headers=collections.auth(*WRITE)
        )
        assert_problem(response, 400, "query.cursor")
    default = await queue(collections, limit=3)
    response = await collections.client.get(
        "/v1/cases", params={"sort": "amount", "cursor": default["next_cursor"]}, headers=collections.auth(*WRITE)
    )
    assert_problem(response, 400, "query.cursor")


async def test_the_queue_costs_the_same_statements_for_one_case_or_many(collections: ServiceHarness) -> None:
    customer = await named_customer(collections, "Acme Trading Co.")
    await create_invoice(collections, customer, amount="20000.00", due_date="2026-01-31")
    await sweep(collections, "2026-02-05")
    params = {"sort": "days_overdue", "order": "desc", "q": "acme", "limit": 200}
    with collections.statements() as one:
        assert len((await queue(collections, **params))["items"]) == 1
    for number in range(6):
        other = await named_customer(collections, f"Acme Branch {number}")
        await create_invoice(collections, other, amount="9000.00", due_date="2026-01-20")
    await sweep(collections, "2026-02-06")
    with collections.statements() as many:
        assert len((await queue(collections, **params))["items"]) == 7
    assert len(many) == len(one), "listing cases must not run queries per case (N+1)"
