"""The set-based sweep over HTTP: it agrees with decide() on a grid of cases, walks the stages as `as_of`
advances, passes several stages after a long gap, and refuses callers without the admin scope."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select

from services.collections.domain.escalation import decide
from services.collections.domain.policy import default_policy
from services.collections.models import Case, CaseHistory
from shared.events.collections import StageEntered
from shared.tables import outbox
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
from tests.support.sweep_grid import grid_of_cases, insert_grid

STAGE_ENTERED = "creditflow.collections.stage_entered.v1"


@pytest.fixture
async def collections(databases: DatabaseFactory) -> AsyncIterator[ServiceHarness]:
    async with running_service("collections", await databases.create("collections"), sweep_enabled=False) as h:
        yield h


async def test_sweep_walks_letter_visit_agency_litigation(collections: ServiceHarness) -> None:
    customer = await known_customer(collections, clause="court")
    invoice = await create_invoice(collections, customer, amount="60000.00", due_date="2026-01-31")
    assert (await sweep(collections, "2026-01-31"))["cases_opened"] == 0  # due today: not overdue
    expected = [
        ("2026-02-01", "letter"),
        ("2026-03-01", "letter"),
        ("2026-03-02", "visit"),
        ("2026-04-01", "agency"),
        ("2026-05-01", "litigation"),
        ("2026-09-01", "litigation"),
    ]
    for as_of, stage in expected:
        await sweep(collections, as_of)
        case = await case_of(collections, invoice["id"])
        assert case is not None and case["stage"] == stage, (as_of, case)
    assert case is not None
    history = [entry for entry in case["history"] if entry["event"] == "stage_entered"]
    assert [(entry["from"], entry["to"]) for entry in history] == [
        (None, "letter"),
        ("letter", "visit"),
        ("visit", "agency"),
        ("agency", "litigation"),
    ]
    assert all(entry["policy_version"] == 1 and entry["rule"] and entry["reason"] for entry in history)
    assert "60 days overdue since due date 2026-01-31" in history[2]["reason"]
    types = await collections.outbox_types()
    assert types.count(STAGE_ENTERED) == 4
    assert types.count("creditflow.collections.case_opened.v1") == 1
    assert types.count("creditflow.collections.invoice_overdue.v1") == 1


async def test_long_gap_passes_every_stage_in_one_sweep(collections: ServiceHarness) -> None:
    customer = await known_customer(collections, clause="arbitration", commission="Shanghai Arbitration Commission")
    invoice = await create_invoice(collections, customer, amount="60000.00", due_date="2026-01-31")
    result = await sweep(collections, "2026-06-30")
    assert result["cases_opened"] == 1 and result["cases_moved"] == 1
    assert result["stages_entered"] == {"letter": 1, "visit": 1, "agency": 1, "arbitration": 1}
    case = await case_of(collections, invoice["id"])
    assert case is not None and case["stage"] == "arbitration" and case["route"] == "arbitration"
    assert [entry["to"] for entry in case["history"]] == ["letter", "visit", "agency", "arbitration"]
    done: set[str] = set()
    await collections.client.post(
        "/v1/agencies",
        json={"name": "Eastern Recovery", "recovery_rate": "0.6", "commission_rate": "0.2"},
        headers=collections.auth(*WRITE),
    )
    assert await run_stage_handlers(collections, done) == 4
    case = await case_of(collections, invoice["id"])
    assert case is not None
    kinds = {action["kind"]: action for action in case["actions"]}
    assert set(kinds) == {"letter", "visit", "agency_assignment", "arbitration_filing"}
    assert kinds["arbitration_filing"]["details"]["forum"] == "Shanghai Arbitration Commission"
    assert kinds["arbitration_filing"]["cost"] == "3000.00" and kinds["letter"]["cost"] == "5.00"
    assert kinds["visit"]["details"]["collector"] in ("collector-1", "collector-2")
    letter = await collections.client.get(
        f"/v1/cases/{case['id']}/letters/{kinds['letter']['id']}", headers=collections.auth(*WRITE)
    )
    assert letter.status_code == 200 and invoice["number"] in letter.json()["html"]


async def test_small_invoice_stops_at_visit(collections: ServiceHarness) -> None:
    customer = await known_customer(collections)
    invoice = await create_invoice(collections, customer, amount="5000.00", due_date="2026-01-31")
    await sweep(collections, "2026-12-31")
    case = await case_of(collections, invoice["id"])
    assert case is not None and case["stage"] == "visit"


async def test_sweep_needs_admin_scope_and_writes_nothing(collections: ServiceHarness) -> None:
    customer = await known_customer(collections)
    await create_invoice(collections, customer)
    before = await collections.outbox_count()
    response = await collections.client.post(
        "/v1/sweeps", json={"as_of": "2026-06-01"}, headers=collections.auth(*WRITE)
    )
    assert response.status_code == 403
    assert response.headers["content-type"] == "application/problem+json"
    assert await collections.count("cases") == 0 and await collections.outbox_count() == before
    bad = await collections.client.post("/v1/sweeps", json={"as_of": "not-a-date"}, headers=collections.auth(*ADMIN))
    assert bad.status_code == 422


async def test_sql_sweep_agrees_with_decide_on_a_grid(collections: ServiceHarness) -> None:
    as_of = date(2026, 6, 30)
    policy = default_policy()
    grid = grid_of_cases()
    await insert_grid(collections, grid, datetime(2026, 6, 30, 9, tzinfo=UTC))
    await sweep(collections, as_of.isoformat())
    async with collections.runtime.db.transaction() as session:
        stages = dict((await session.execute(select(Case.id, Case.stage))).all())
        reviews = dict((await session.execute(select(Case.id, Case.write_off_review))).all())
        passed: dict[uuid.UUID, list[tuple[str | None, str | None, str | None, str]]] = {}
        for entry in (
            await session.scalars(
                select(CaseHistory).where(CaseHistory.event == "stage_entered").order_by(CaseHistory.id)
            )
        ).all():
            passed.setdefault(entry.case_id, []).append((entry.from_stage, entry.to_stage, entry.rule, entry.reason))
        events: dict[uuid.UUID, list[StageEntered]] = {}
        for data in (
            await session.scalars(
                select(outbox.c.data).where(outbox.c.event_type == STAGE_ENTERED).order_by(outbox.c.seq)
            )
        ).all():
            event = StageEntered.model_validate_json(data)
            events.setdefault(event.case_id, []).append(event)
    mismatches: list[object] = []
    moved = 0
    for facts in grid:
        decision = decide(facts, policy, as_of)
        assert isinstance(facts.case_id, uuid.UUID)
        previous = [facts.current_stage.value if facts.current_stage else None] + [
            step.stage.value for step in decision.steps
        ]
        want_steps = [(previous[n], step.stage.value, step.rule, step.reason) for n, step in enumerate(decision.steps)]
        expected_stage = decision.to_stage.value if decision.to_stage else None
        got = (stages[facts.case_id], passed.get(facts.case_id, []), reviews[facts.case_id])
        want = (expected_stage, want_steps, decision.write_off_review)
        moved += decision.moved
        if got != want:
            mismatches.append((facts, got, want))
        published = [
            (
                event.previous_stage,
                event.stage,
                event.rule,
                event.reason,
                event.days_overdue,
                event.amount,
                event.policy_version,
                event.as_of,
            )
            for event in events.get(facts.case_id, [])
        ]
        if published != [(*step, decision.days_overdue, decision.escalating_amount, 1, as_of) for step in want_steps]:
            mismatches.append((facts, published, want_steps))
    assert not mismatches, mismatches[:3]
    assert moved > 1000  # the grid really exercises the moves


async def test_promise_pauses_and_broken_promise_escalates_at_once(collections: ServiceHarness) -> None:
    customer = await known_customer(collections)
    invoice = await create_invoice(collections, customer, amount="20000.00", due_date="2026-01-31")
    await sweep(collections, "2026-02-05")
    case = await case_of(collections, invoice["id"])
    assert case is not None and case["stage"] == "letter"
    promise = await collections.client.post(
        f"/v1/cases/{case['id']}/promises", json={"promised_on": "2026-03-20"}, headers=collections.auth(*WRITE)
    )
    assert promise.status_code == 201, promise.text
    assert "creditflow.collections.promise_recorded.v1" in await collections.outbox_types()
    await sweep(collections, "2026-03-15")  # 43 days overdue, but the promise holds
    assert (await case_of(collections, invoice["id"]) or {})["stage"] == "letter"
    await sweep(collections, "2026-03-21")  # broken: the next stage at once
    assert (await case_of(collections, invoice["id"]) or {})["stage"] == "visit"
    past = await collections.client.post(
        f"/v1/cases/{case['id']}/promises", json={"promised_on": "2020-01-01"}, headers=collections.auth(*WRITE)
    )
    assert past.status_code == 422


async def test_hold_escalate_and_write_off_record_actor_and_reason(collections: ServiceHarness) -> None:
    customer = await known_customer(collections)
    invoice = await create_invoice(collections, customer, amount="20000.00", due_date="2026-01-31")
    await sweep(collections, "2026-02-05")
    case = await case_of(collections, invoice["id"])
    assert case is not None
    url = f"/v1/cases/{case['id']}/actions"
    headers = collections.auth(*WRITE)
    held = await collections.client.post(url, json={"action": "hold", "reason": "talks"}, headers=headers)
    assert held.status_code == 201 and held.json()["status"] == "on_hold"
    await sweep(collections, "2026-04-15")
    assert (await case_of(collections, invoice["id"]) or {})["stage"] == "letter"
    await collections.client.post(url, json={"action": "release", "reason": "talks failed"}, headers=headers)
    escalated = await collections.client.post(url, json={"action": "escalate", "reason": "no answer"}, headers=headers)
    assert escalated.status_code == 201, escalated.text
    assert escalated.json()["stage"] in ("visit", "agency")
    assert escalated.json()["history"][-1]["actor"] == "tester"
    no_reason = await collections.client.post(url, json={"action": "write_off", "reason": ""}, headers=headers)
    assert no_reason.status_code == 422
    written = await collections.client.post(url, json={"action": "write_off", "reason": "insolvent"}, headers=headers)
    assert written.status_code == 201 and written.json()["status"] == "written_off"
    assert "creditflow.collections.case_written_off.v1" in await collections.outbox_types()
    again = await collections.client.post(url, json={"action": "hold", "reason": "x"}, headers=headers)
    assert again.status_code == 409


async def test_dispute_holds_only_the_disputed_part(collections: ServiceHarness) -> None:
    customer = await known_customer(collections)
    invoice = await create_invoice(collections, customer, amount="20000.00", due_date="2026-01-31")
    await sweep(collections, "2026-02-05")
    case = await case_of(collections, invoice["id"])
    assert case is not None
    too_much = await collections.client.post(
        f"/v1/cases/{case['id']}/disputes",
        json={"disputed_amount": "20000.01", "reason": "x"},
        headers=collections.auth(*WRITE),
    )
    assert too_much.status_code == 422
    disputed = await collections.client.post(
        f"/v1/cases/{case['id']}/disputes",
        json={"disputed_amount": "15000.00", "reason": "damaged goods"},
        headers=collections.auth(*WRITE),
    )
    assert disputed.status_code == 201, disputed.text
    await sweep(collections, "2026-04-05")  # 64 days, 5,000 undisputed: visit, not agency (10,000)
    assert (await case_of(collections, invoice["id"]) or {})["stage"] == "visit"


async def test_periodic_job_sweeps_as_of_today(collections: ServiceHarness) -> None:
    from services.collections.app import SPEC, periodic_sweep

    [job] = [job for job in SPEC.jobs if job.name == "sweep"]  # beside it: the invoice-imports worker
    assert job.interval_seconds(collections.settings) == 3600.0
    assert job.enabled(collections.settings) is False  # the fixture turns it off
    customer = await known_customer(collections)
    invoice = await create_invoice(collections, customer, due_date="2026-02-20")  # the clock says 2026-03-01
    await periodic_sweep(collections.runtime)
    case = await case_of(collections, invoice["id"])
    assert case is not None and case["stage"] == "letter" and case["history"][0]["as_of"] == "2026-03-01"
