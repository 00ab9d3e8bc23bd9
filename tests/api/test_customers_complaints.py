"""The eight-step complaint workflow over HTTP: every legal transition, every illegal one refused with 409,
bad payloads 422, history with actor and time, overdue steps, and the events collections relies on."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import select

from services.customers.domain.complaints import COMPLAINT_TRANSITIONS, ComplaintState
from shared.clock import FixedClock
from shared.tables import outbox
from tests.support.databases import DatabaseFactory
from tests.support.harness import ServiceHarness, new_id, running_service

# The path to each state, with the payload each step needs.
PAYLOADS: dict[ComplaintState, dict[str, Any]] = {
    ComplaintState.VALIDATED: {"note": "photos received"},
    ComplaintState.REJECTED: {"reason": "outside warranty"},
    ComplaintState.ASSIGNED: {"department": "Quality assurance"},
    ComplaintState.ANALYSED: {"cause": "mould wear"},
    ComplaintState.SOLUTION_PROPOSED: {"solution": "replace the batch"},
    ComplaintState.APPROVED: {},
    ComplaintState.IMPLEMENTED: {},
    ComplaintState.CLOSED: {"rating": 4},
}
PATH_TO: dict[ComplaintState, list[ComplaintState]] = {ComplaintState.RECORDED: []}
for _state in ("validated", "assigned", "analysed", "solution_proposed", "approved", "implemented", "closed"):
    _previous = list(PATH_TO)[-1]
    PATH_TO[ComplaintState(_state)] = [*PATH_TO[_previous], ComplaintState(_state)]
PATH_TO[ComplaintState.REJECTED] = [ComplaintState.REJECTED]

LEGAL = [(source, target) for source, targets in COMPLAINT_TRANSITIONS.items() for target in targets]
ILLEGAL = [
    (source, target)
    for source in ComplaintState
    for target in ComplaintState
    if target not in COMPLAINT_TRANSITIONS[source]
]


@pytest.fixture
async def customers(databases: DatabaseFactory) -> AsyncIterator[ServiceHarness]:
    clock = FixedClock(datetime(2026, 3, 1, 9, 0, tzinfo=UTC))
    async with running_service("customers", await databases.create("customers"), clock=clock) as harness:
        yield harness


async def customer(h: ServiceHarness) -> str:
    response = await h.client.post(
        "/v1/customers",
        headers=h.auth("customers:write"),
        json={"name": "Acme", "kind": "commercial", "tax_id": f"T-{new_id()[:8]}"},
    )
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


async def open_complaint(h: ServiceHarness, customer_id: str, **fields: Any) -> dict[str, Any]:
    body = {"customer_id": customer_id, "category": "product_quality", "description": "cracked casings", **fields}
    response = await h.client.post("/v1/complaints", json=body, headers=h.auth("customers:write"))
    assert response.status_code == 201, response.text
    return dict(response.json())


async def move(
    h: ServiceHarness, complaint_id: str, target: ComplaintState, actor: str = "qa-lead", **extra: Any
) -> Any:
    headers = {"Authorization": f"Bearer {h.token('customers:write', subject=actor)}"}
    return await h.client.post(
        f"/v1/complaints/{complaint_id}/transitions",
        json={"to": str(target), **PAYLOADS[target], **extra},
        headers=headers,
    )


async def walk_to(h: ServiceHarness, complaint_id: str, state: ComplaintState) -> None:
    for step in PATH_TO[state]:
        # Four eyes: whoever approves a solution is not who proposed it.
        response = await move(
            h, complaint_id, step, actor="head-of-quality" if step is ComplaintState.APPROVED else "qa-lead"
        )
        assert response.status_code == 200, response.text


async def event_types(h: ServiceHarness) -> list[str]:
    return [t.rsplit(".", 2)[1] for t in await h.outbox_types()]


@pytest.mark.parametrize(("source", "target"), LEGAL, ids=[f"{s}->{t}" for s, t in LEGAL])
async def test_every_legal_transition(
    customers: ServiceHarness, source: ComplaintState, target: ComplaintState
) -> None:
    complaint = await open_complaint(customers, await customer(customers))
    await walk_to(customers, complaint["id"], source)
    assert isinstance(customers.clock, FixedClock)
    customers.clock.advance(hours=2)
    response = await move(customers, complaint["id"], target, actor="alice")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["state"] == target
    last = body["history"][-1]
    assert (last["from_state"], last["to_state"], last["actor"]) == (source, target, "alice")
    assert last["at"] == customers.clock.now().isoformat().replace("+00:00", "Z")
    assert len(body["history"]) == len(PATH_TO[target]) + 1
    closed = target in (ComplaintState.CLOSED, ComplaintState.REJECTED)
    assert (await event_types(customers)).count("complaint_closed") == (1 if closed else 0)


async def test_the_proposer_cannot_approve_their_own_solution(customers: ServiceHarness) -> None:
    complaint = await open_complaint(customers, await customer(customers))
    await walk_to(customers, complaint["id"], ComplaintState.SOLUTION_PROPOSED)
    response = await move(customers, complaint["id"], ComplaintState.APPROVED, actor="QA-Lead ")
    assert response.status_code == 422, response.text
    assert "proposed" in response.json()["errors"][0]["message"]
    read = customers.auth("customers:read")
    unchanged = (await customers.client.get(f"/v1/complaints/{complaint['id']}", headers=read)).json()
    assert unchanged["state"] == "solution_proposed"
    response = await move(customers, complaint["id"], ComplaintState.APPROVED, actor="head-of-quality")
    assert response.status_code == 200, response.text


@pytest.mark.parametrize(("source", "target"), ILLEGAL, ids=[f"{s}->{t}" for s, t in ILLEGAL])
async def test_every_illegal_transition_is_409_and_changes_nothing(
    customers: ServiceHarness, source: ComplaintState, target: ComplaintState
) -> None:
    complaint = await open_complaint(customers, await customer(customers))
    await walk_to(customers, complaint["id"], source)
    before = (
        await customers.client.get(f"/v1/complaints/{complaint['id']}", headers=customers.auth("customers:read"))
    ).json()
    events_before = await customers.outbox_count()
    response = (
        await move(customers, complaint["id"], target)
        if target in PAYLOADS
        else await customers.client.post(
            f"/v1/complaints/{complaint['id']}/transitions",
            json={"to": str(target)},
            headers=customers.auth("customers:write"),
        )
    )
    assert response.status_code == 409, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["current_state"] == source
    after = (
        await customers.client.get(f"/v1/complaints/{complaint['id']}", headers=customers.auth("customers:read"))
    ).json()
    assert after == before
    assert await customers.outbox_count() == events_before


@pytest.mark.parametrize(
    ("target", "body", "field"),
    [
        pytest.param("assigned", {}, "body.department", id="missing-department"),
        pytest.param("assigned", {"department": "   "}, "body.department", id="blank-department"),
        pytest.param("assigned", {"department": "QA", "rating": 3}, "body.rating", id="misplaced-rating"),
        pytest.param("assigned", {"department": "QA", "colour": "red"}, "body.colour", id="unknown-field"),
        pytest.param("resolved", {}, "body.to", id="unknown-state"),
    ],
)
async def test_bad_step_payload_is_422(
    customers: ServiceHarness, target: str, body: dict[str, Any], field: str
) -> None:
    complaint = await open_complaint(customers, await customer(customers))
    await walk_to(customers, complaint["id"], ComplaintState.VALIDATED)
    response = await customers.client.post(
        f"/v1/complaints/{complaint['id']}/transitions",
        json={"to": target, **body},
        headers=customers.auth("customers:write"),
    )
    assert response.status_code == 422, response.text
    assert field in [error["field"] for error in response.json()["errors"]]
    assert await customers.count("complaint_steps") == 2


async def test_closing_needs_a_rating_from_1_to_5(customers: ServiceHarness) -> None:
    complaint = await open_complaint(customers, await customer(customers))
    await walk_to(customers, complaint["id"], ComplaintState.IMPLEMENTED)
    response = await move(customers, complaint["id"], ComplaintState.CLOSED, rating=6)
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "body.rating"
    assert (await move(customers, complaint["id"], ComplaintState.CLOSED, rating=5)).status_code == 200


async def test_opened_and_closed_events_carry_the_invoice(customers: ServiceHarness) -> None:
    invoice_id = new_id()
    complaint = await open_complaint(
        customers,
        await customer(customers),
        category="contract",
        invoice_id=invoice_id,
        disputed_amount="4800.00",
        currency="CNY",
    )
    assert complaint["state"] == "recorded" and complaint["history"][0]["actor"] == "tester"
    await walk_to(customers, complaint["id"], ComplaintState.REJECTED)
    async with customers.runtime.db.transaction() as session:
        rows = (await session.execute(select(outbox.c.event_type, outbox.c.data).order_by(outbox.c.seq))).all()
    opened, closed = json.loads(rows[1].data), json.loads(rows[2].data)
    assert rows[1].event_type.endswith("complaint_opened.v1")
    assert opened["invoice_id"] == invoice_id and opened["disputed_amount"] == "4800.00"
    assert opened["category"] == "contract"
    assert rows[2].event_type.endswith("complaint_closed.v1")
    assert closed["outcome"] == "rejected" and closed["invoice_id"] == invoice_id


@pytest.mark.parametrize(
    ("change", "field"),
    [
        pytest.param({"category": "pricing"}, "body.category", id="unknown-category"),
        pytest.param({"disputed_amount": "-5.00", "currency": "CNY"}, "body.disputed_amount", id="negative-amount"),
        pytest.param({"disputed_amount": "5.00", "currency": "XYZ"}, "body.currency", id="unknown-currency"),
        pytest.param({"disputed_amount": "5.00"}, "body.currency", id="amount-without-currency"),
        pytest.param({"description": ""}, "body.description", id="blank-description"),
    ],
)
async def test_bad_complaint_is_422_and_writes_nothing(
    customers: ServiceHarness, change: dict[str, Any], field: str
) -> None:
    customer_id = await customer(customers)
    body = {
        "customer_id": customer_id,
        "category": "transport",
        "description": "late",
        "invoice_id": new_id(),
        **change,
    }
    response = await customers.client.post("/v1/complaints", json=body, headers=customers.auth("customers:write"))
    assert response.status_code == 422, response.text
    assert field in [error["field"] for error in response.json()["errors"]]
    assert await customers.count("complaints") == 0 and await customers.outbox_count() == 1


async def test_complaint_about_an_unknown_customer_is_422(customers: ServiceHarness) -> None:
    response = await customers.client.post(
        "/v1/complaints",
        headers=customers.auth("customers:write"),
        json={"customer_id": new_id(), "category": "service", "description": "x"},
    )
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "body.customer_id"
    assert await customers.count("complaints") == 0


async def test_overdue_steps_are_listed_most_overdue_first(customers: ServiceHarness) -> None:
    customer_id = await customer(customers)
    assert isinstance(customers.clock, FixedClock)
    old = await open_complaint(customers, customer_id)  # recorded at 09:00, SLA 24 h
    customers.clock.advance(hours=10)
    newer = await open_complaint(customers, customer_id)  # recorded at 19:00
    assigned = await open_complaint(customers, customer_id)
    await walk_to(customers, assigned["id"], ComplaintState.ASSIGNED)  # SLA 72 h from 19:00
    closed = await open_complaint(customers, customer_id)
    await walk_to(customers, closed["id"], ComplaintState.REJECTED)
    read = customers.auth("customers:read")
    customers.clock.advance(hours=20)  # 2 March 15:00: only the first is past its 24 h
    response = await customers.client.get("/v1/complaints", params={"overdue": "true"}, headers=read)
    assert [item["id"] for item in response.json()["items"]] == [old["id"]]
    assert response.json()["items"][0]["overdue"]["waiting_for"] == ["validated", "rejected"]
    customers.clock.advance(hours=10)  # 3 March 01:00: both recorded ones are overdue
    response = await customers.client.get("/v1/complaints", params={"overdue": "true"}, headers=read)
    assert [item["id"] for item in response.json()["items"]] == [old["id"], newer["id"]]
    assert response.json()["items"][0]["overdue"]["overdue_by_seconds"] == 16 * 3600
    everything = await customers.client.get("/v1/complaints", params={"customer_id": customer_id}, headers=read)
    assert len(everything.json()["items"]) == 4
    got = await customers.client.get(f"/v1/complaints/{old['id']}", headers=read)
    assert got.json()["overdue"] is not None and got.json()["due_at"] == "2026-03-02T09:00:00Z"
