"""The escalation ladder as a credit manager expects it (issue 10), through collections' API and handlers.

A hold collections itself caused keeps the ladder; the legal stage needs a contract; limitation restarts
at every interruption; contact rules apply at the sweep's instant to calls, SMS and visits only; only
actions carried out are charged; penalty interest follows the contract; arrears can be marked malicious.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select

from shared.clock import FixedClock
from shared.events.credit import CreditHoldPlaced
from shared.events.customers import ContractSigned, CustomerRegistered
from shared.tables import outbox
from tests.support.collections import (
    ADMIN,
    WRITE,
    apply,
    case_of,
    create_invoice,
    known_customer,
    run_stage_handlers,
    sweep,
)
from tests.support.databases import DatabaseFactory
from tests.support.harness import ServiceHarness, running_service

DUE = date(2026, 1, 31)
COLLECTION_HOLD = ["collection_stage_reached"]  # what credit says when the agency stage stopped supply


def day(n: int) -> str:
    return (DUE + timedelta(days=n)).isoformat()


@pytest.fixture
async def collections(databases: DatabaseFactory) -> AsyncIterator[ServiceHarness]:
    async with running_service("collections", await databases.create("collections"), sweep_enabled=False) as h:
        yield h


async def stage_on(h: ServiceHarness, invoice_id: str, n: int, done: set[str]) -> dict[str, Any]:
    await sweep(h, day(n))
    await run_stage_handlers(h, done)
    case = await case_of(h, invoice_id)
    assert case is not None
    return case


async def events_of(h: ServiceHarness, event_type: str) -> list[dict[str, Any]]:
    async with h.runtime.db.transaction() as session:
        rows = (
            await session.execute(select(outbox.c.data).where(outbox.c.event_type == event_type).order_by(outbox.c.seq))
        ).all()
    return [json.loads(row.data) for row in rows]


@pytest.mark.parametrize(
    ("segment", "clause", "commission", "first", "final"),
    [
        ("general", "court", None, "letter", "litigation"),
        ("key_account", "arbitration", "Shanghai International Arbitration Center", "visit", "arbitration"),
    ],
)
async def test_a_hold_collections_caused_does_not_shorten_the_ladder(
    collections: ServiceHarness, segment: str, clause: str, commission: str | None, first: str, final: str
) -> None:
    customer = await known_customer(collections, segment=segment, clause=clause, commission=commission)
    invoice = await create_invoice(collections, customer, amount="60000.00", due_date=DUE.isoformat())
    done: set[str] = set()
    assert (await stage_on(collections, invoice["id"], 1, done))["stage"] == first
    assert (await stage_on(collections, invoice["id"], 60, done))["stage"] == "agency"
    # Credit stops supply because the case reached agency: that is no reason to treat the debtor as high risk.
    await apply(collections, CreditHoldPlaced(customer_id=uuid.UUID(customer), reasons=COLLECTION_HOLD))
    for n in (61, 75, 89):
        case = await stage_on(collections, invoice["id"], n, done)
        assert (case["stage"], case["segment"]) == ("agency", segment), n
    case = await stage_on(collections, invoice["id"], 90, done)
    assert (case["stage"], case["segment"]) == (final, segment)
    entered = [entry for entry in case["history"] if entry["event"] == "stage_entered"]
    assert entered[-1]["as_of"] == day(90) and entered[-2]["as_of"] == day(60)
    assert f"segment {segment}" in entered[-1]["reason"]


async def test_a_hold_for_another_reason_still_makes_the_debtor_high_risk(collections: ServiceHarness) -> None:
    customer = await known_customer(collections)
    invoice = await create_invoice(collections, customer, amount="60000.00", due_date=DUE.isoformat())
    done: set[str] = set()
    await stage_on(collections, invoice["id"], 1, done)
    await apply(collections, CreditHoldPlaced(customer_id=uuid.UUID(customer), reasons=["grade_d"]))
    case = await stage_on(collections, invoice["id"], 30, done)  # high risk: agency at 60 × 0.5
    assert (case["segment"], case["stage"]) == ("high_risk", "agency")


async def test_receivables_report_the_stage_by_its_name(collections: ServiceHarness) -> None:
    customer = await known_customer(collections, clause="court")
    invoice = await create_invoice(collections, customer, amount="60000.00", due_date=DUE.isoformat())
    await sweep(collections, day(90))
    assert (await case_of(collections, invoice["id"]) or {})["stage"] == "litigation"
    reported = await events_of(collections, "creditflow.collections.receivables_changed.v1")
    assert reported[-1]["highest_open_stage"] == "litigation"


async def test_without_a_contract_the_legal_stage_waits_for_legal_review(collections: ServiceHarness) -> None:
    customer = await known_customer(collections, clause=None, terms=None)
    invoice = await create_invoice(
        collections, customer, amount="60000.00", due_date=DUE.isoformat(), credit_terms="n/30"
    )
    done: set[str] = set()
    await stage_on(collections, invoice["id"], 60, done)
    for n in (90, 91):
        case = await stage_on(collections, invoice["id"], n, done)
        assert case["stage"] == "agency"
    reviews = [entry for entry in case["history"] if entry["event"] == "legal_review"]
    assert [entry["reason"] for entry in reviews] == ["legal review: no contract on file"]  # recorded once
    await apply(
        collections,
        ContractSigned(
            customer_id=uuid.UUID(customer),
            contract_id=uuid.uuid4(),
            number="C-LATE",
            dispute_resolution={"kind": "court"},
            valid_from="2026-01-01",
        ),
    )
    assert (await stage_on(collections, invoice["id"], 92, done))["stage"] == "litigation"


async def test_limitation_runs_from_the_last_interruption(collections: ServiceHarness) -> None:
    customer = await known_customer(collections, clause=None)  # no legal stage: the claim just ages
    invoice = await create_invoice(
        collections, customer, amount="60000.00", due_date=DUE.isoformat(), credit_terms="n/30"
    )
    await sweep(collections, day(1))  # the case opens; its letter is not sent yet
    case = await case_of(collections, invoice["id"])
    assert case is not None
    assert (case["limitation_basis"], case["limitation_running_from"]) == ("due_date", DUE.isoformat())
    assert case["limitation_expires_on"] == "2029-01-31"
    await run_stage_handlers(collections, set())  # the letter is sent on day 1: a demand for performance
    case = await case_of(collections, invoice["id"]) or {}
    assert (case["limitation_basis"], case["limitation_expires_on"]) == ("dunning_letter", "2029-02-01")

    paid = await collections.client.post(
        f"/v1/invoices/{invoice['id']}/payments",
        json={"amount": "10000.00", "paid_on": day(20)},
        headers=collections.auth(*WRITE),
    )
    assert paid.status_code == 201, paid.text
    case = await case_of(collections, invoice["id"]) or {}
    assert (case["limitation_basis"], case["limitation_running_from"]) == ("partial_payment", day(20))
    assert case["limitation_expires_on"] == "2029-02-20"

    # The harness clock says 2026-03-01: the debtor promises today to pay by the end of April.
    promised = await collections.client.post(
        f"/v1/cases/{case['id']}/promises", json={"promised_on": "2026-04-30"}, headers=collections.auth(*WRITE)
    )
    assert promised.status_code == 201, promised.text
    assert (promised.json()["limitation_basis"], promised.json()["limitation_expires_on"]) == (
        "promise_to_pay",
        "2029-03-01",
    )

    # A balance confirmation signed nine days later restarts it again; one dated in the future is refused.
    assert isinstance(collections.clock, FixedClock)
    collections.clock.set(datetime(2026, 3, 10, 9, tzinfo=UTC))
    path = f"/v1/cases/{case['id']}/acknowledgements"
    future = await collections.client.post(
        path, json={"acknowledged_on": "2026-03-11", "note": "x"}, headers=collections.auth(*WRITE)
    )
    assert future.status_code == 422 and future.json()["errors"][0]["field"] == "body.acknowledged_on"
    acknowledged = await collections.client.post(
        path, json={"note": "balance confirmation signed"}, headers=collections.auth(*WRITE)
    )
    assert acknowledged.status_code == 201, acknowledged.text
    assert (acknowledged.json()["limitation_basis"], acknowledged.json()["limitation_expires_on"]) == (
        "acknowledgement",
        "2029-03-10",
    )
    assert acknowledged.json()["history"][-1]["event"] == "acknowledged"

    # Three years after the acknowledgement the claim is time-barred: flagged for write-off review, not before.
    assert (await sweep(collections, "2029-03-10"))["write_off_review"] == 0
    assert (await sweep(collections, "2029-03-11"))["write_off_review"] == 1
    assert (await case_of(collections, invoice["id"]) or {})["write_off_review"] is True


async def test_a_sweep_takes_an_rfc3339_instant_and_contacts_follow_it(databases: DatabaseFactory) -> None:
    # The wall clock says 17:00 in Shanghai; the sweep runs as of 23:30 there.
    clock = FixedClock(datetime(2026, 3, 2, 9, 0, tzinfo=UTC))
    async with running_service(
        "collections", await databases.create("collections"), clock=clock, sweep_enabled=False
    ) as h:
        customer = await known_customer(h)
        letter_invoice = await create_invoice(h, customer, amount="60000.00", due_date="2026-03-01")
        visit_invoice = await create_invoice(h, customer, amount="60000.00", due_date="2026-01-31")
        response = await h.client.post(
            "/v1/sweeps", json={"as_of": "2026-03-02T23:30:00+08:00"}, headers=h.auth(*ADMIN)
        )
        assert response.status_code == 200, response.text
        assert response.json()["as_of"] == "2026-03-02"
        await run_stage_handlers(h, set())
        letter_case = await case_of(h, letter_invoice["id"]) or {}
        assert [action["kind"] for action in letter_case["actions"]] == ["letter"]  # post is never deferred
        visit_case = await case_of(h, visit_invoice["id"]) or {}
        kinds = [(action["kind"], action["status"]) for action in visit_case["actions"]]
        assert ("contact_deferred", "deferred") in kinds  # the visit waits for the morning of the sweep's day
        deferred = next(action for action in visit_case["actions"] if action["kind"] == "contact_deferred")
        assert deferred["details"]["channel"] == "visit"
        assert deferred["details"]["earliest_at"] == "2026-03-03T00:00:00+00:00"  # 08:00 in Shanghai
        bad = await h.client.post("/v1/sweeps", json={"as_of": "2026-03-02T23:30:00"}, headers=h.auth(*ADMIN))
        assert bad.status_code == 422  # an instant needs its offset


async def test_only_actions_carried_out_are_charged(databases: DatabaseFactory) -> None:
    async with running_service(
        "collections",
        await databases.create("collections"),
        sweep_enabled=False,
        charge_action_costs=True,
        charge_penalty_interest=False,
    ) as h:
        customer = await known_customer(h)
        invoice = await create_invoice(h, customer, amount="60000.00", due_date=DUE.isoformat())
        done: set[str] = set()
        await stage_on(h, invoice["id"], 1, done)
        read = (await h.client.get(f"/v1/invoices/{invoice['id']}", headers=h.auth(*WRITE))).json()
        assert read["costs_outstanding"] == "5.00"  # the letter was sent
        case = await stage_on(h, invoice["id"], 30, done)
        visit = next(action for action in case["actions"] if action["kind"] == "visit")
        assert visit["status"] == "scheduled" and visit["cost"] == "0.00"
        read = (await h.client.get(f"/v1/invoices/{invoice['id']}", headers=h.auth(*WRITE))).json()
        assert read["costs_outstanding"] == "5.00"  # a visit only scheduled is not billed
        made = await h.client.post(
            f"/v1/cases/{case['id']}/visits/{visit['id']}/outcome",
            json={"outcome": "promise", "promised_on": day(45), "visited_on": day(33)},
            headers=h.auth(*WRITE),
        )
        assert made.status_code in (200, 201), made.text
        read = (await h.client.get(f"/v1/invoices/{invoice['id']}", headers=h.auth(*WRITE))).json()
        assert read["costs_outstanding"] == "205.00"  # the visit was made
        case = await case_of(h, invoice["id"]) or {}
        visit = next(action for action in case["actions"] if action["kind"] == "visit")
        assert visit["cost"] == "200.00"
        assert visit["details"]["recoverable_cost"] == "200.00"


async def test_penalty_interest_follows_the_contract_and_shows_its_basis(collections: ServiceHarness) -> None:
    agreed = uuid.uuid4()
    default_customer = await known_customer(collections)  # its contract agrees no rate: the policy's applies
    await apply(
        collections,
        ContractSigned(
            customer_id=agreed,
            contract_id=uuid.uuid4(),
            number="C-RATE",
            dispute_resolution={"kind": "court"},
            valid_from="2026-01-01",
            penalty_interest_annual_rate=Decimal("0.1095"),
        ),
    )
    await apply(
        collections,
        CustomerRegistered(customer_id=agreed, name="Agreed Rate Co.", kind="commercial", lifecycle="active"),
    )
    # harness clock 2026-03-01: 29 days after DUE
    own = await create_invoice(collections, str(agreed), amount="10000.00", due_date=DUE.isoformat())
    standard = await create_invoice(collections, default_customer, amount="10000.00", due_date=DUE.isoformat())
    own_read = (await collections.client.get(f"/v1/invoices/{own['id']}", headers=collections.auth(*WRITE))).json()
    std_read = (await collections.client.get(f"/v1/invoices/{standard['id']}", headers=collections.auth(*WRITE))).json()
    assert (own_read["penalty_interest_rate"], own_read["penalty_interest_basis"]) == ("0.1095", "contract")
    assert (std_read["penalty_interest_rate"], std_read["penalty_interest_basis"]) == ("0.1825", "policy_default")
    # 10,000 × 29 days: 0.1095 → 87.00, 0.1825 → 145.00
    assert own_read["penalty_interest_accrued"] == "87.00" and std_read["penalty_interest_accrued"] == "145.00"


async def test_arrears_marked_malicious_end_keep_supplying_for_a_key_account(collections: ServiceHarness) -> None:
    customer = await known_customer(collections, segment="key_account")
    invoice = await create_invoice(collections, customer, amount="60000.00", due_date=DUE.isoformat())
    await sweep(collections, day(60))
    entered = await events_of(collections, "creditflow.collections.stage_entered.v1")
    assert entered and not any(event["stop_supply"] for event in entered)  # a key account keeps being supplied
    case = await case_of(collections, invoice["id"]) or {}
    path = f"/v1/cases/{case['id']}/actions"
    blank = await collections.client.post(
        path, json={"action": "mark_malicious", "reason": ""}, headers=collections.auth(*WRITE)
    )
    assert blank.status_code == 422
    marked = await collections.client.post(
        path,
        json={"action": "mark_malicious", "reason": "assets moved to a related company"},
        headers=collections.auth(*WRITE),
    )
    assert marked.status_code == 201, marked.text
    assert marked.json()["malicious"] is True
    assert marked.json()["history"][-1]["event"] == "marked_malicious"
    [event] = await events_of(collections, "creditflow.collections.arrears_marked_malicious.v1")
    assert event["stop_supply"] is True and event["reason"] == "assets moved to a related company"
    again = await collections.client.post(
        path, json={"action": "mark_malicious", "reason": "again"}, headers=collections.auth(*WRITE)
    )
    assert again.status_code == 409
