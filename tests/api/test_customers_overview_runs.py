"""The registry's overview handlers applied to a run of events in one transaction (what the inbox consumer does
with a fetch) leave exactly what applying each event in its own transaction leaves: every overview row, column
by column. The run mixes customers with and without an overview row, stale snapshots, cases entering stages,
moving on and closing, receivables and credit decisions; runs write the rows they changed in bulk."""

from __future__ import annotations

import dataclasses
import json
import uuid
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import text

from services.customers.handlers import EVENT_HANDLERS, _overview_run, on_stage_entered
from shared.consumer import EventContext, HandlerMap
from shared.events.base import Envelope, Event
from shared.events.collections import CaseResolved, ReceivablesChanged, StageEntered
from shared.events.credit import CreditHoldPlaced
from tests.support.credit import envelope_of
from tests.support.databases import DatabaseFactory
from tests.support.harness import ServiceHarness, running_service

NOW = datetime(2026, 3, 2, 9, tzinfo=UTC)
CASES = {name: uuid.UUID(int=n + 1) for n, name in enumerate(("x", "y", "z"))}
ROLES = ("first", "second", "third")


@pytest.fixture
async def customers(databases: DatabaseFactory) -> AsyncIterator[ServiceHarness]:
    async with running_service("customers", await databases.create("customers")) as harness:
        yield harness


def stage(case: str, name: str) -> Callable[[uuid.UUID], Event]:
    def make(customer_id: uuid.UUID) -> Event:
        return StageEntered(
            customer_id=customer_id,
            case_id=CASES[case],
            invoice_id=CASES[case],
            stage=name,
            rule="test",
            reason="overdue",
            policy_version=1,
            days_overdue=40,
            currency="CNY",
            amount=Decimal("5000.00"),
            entered_at=NOW,
        )

    return make


def totals(open_amount: str, overdue: str) -> Callable[[uuid.UUID], Event]:
    def make(customer_id: uuid.UUID) -> Event:
        return ReceivablesChanged(
            customer_id=customer_id,
            currency="CNY",
            open_receivables=Decimal(open_amount),
            overdue_amount=Decimal(overdue),
            oldest_overdue_days=40,
            highest_open_stage="visit",
            as_of=NOW,
        )

    return make


def resolved(case: str) -> Callable[[uuid.UUID], Event]:
    def make(customer_id: uuid.UUID) -> Event:
        return CaseResolved(
            customer_id=customer_id,
            case_id=CASES[case],
            invoice_id=CASES[case],
            resolution="paid",
        )

    return make


def held(customer_id: uuid.UUID) -> Event:
    return CreditHoldPlaced(customer_id=customer_id, reasons=["collection_stage_reached"])


# (role, event, sequence as sent): in order; consecutive events of one type form a run.
STEPS: list[tuple[str, Callable[[uuid.UUID], Event], int | None]] = [
    ("first", stage("x", "letter"), 1),
    ("second", stage("y", "letter"), 2),
    ("first", stage("z", "letter"), 3),
    ("first", stage("x", "visit"), 4),
    ("first", stage("x", "letter"), 2),  # stale: the case is at visit already
    ("third", stage("y", "agency"), None),  # no sequence: applied
    ("first", totals("5000.00", "5000.00"), 5),
    ("second", totals("300.00", "0.00"), 6),
    ("first", totals("1.00", "1.00"), 4),  # stale
    ("first", held, None),
    ("first", resolved("x"), 7),
    ("second", resolved("y"), 8),
    ("first", stage("z", "visit"), 9),
    ("second", stage("y", "visit"), 3),  # stale: the case closed after this
    ("third", stage("z", "letter"), 10),
    ("third", stage("z", "agency"), 9),  # stale, yet the row's updated_at is its time (as one at a time)
]


def envelopes_for(ids: dict[str, uuid.UUID]) -> list[Envelope]:
    # Each event a second after the one before: a row's updated_at tells which event touched it last.
    return [
        dataclasses.replace(envelope_of(make(ids[role])), sequence=seq, time=NOW + timedelta(seconds=n))
        for n, (role, make, seq) in enumerate(STEPS)
    ]


# One event at a time, ``stage_entered`` goes through the per-event rule (``on_stage_entered``) the folded run
# handler (``on_stages_entered``) must equal.
ONE_AT_A_TIME: HandlerMap = {**EVENT_HANDLERS, StageEntered: [_overview_run(on_stage_entered)]}


async def apply_runs(h: ServiceHarness, runs: list[list[Envelope]], handlers: HandlerMap = EVENT_HANDLERS) -> None:
    """Each run through the type's handlers, the runs in ONE transaction (the consumer's fetch)."""
    async with h.runtime.db.transaction() as session:
        for run in runs:
            ctx = EventContext(session=session, envelope=run[-1], clock=h.clock, settings=h.settings)
            for handler in handlers[type(run[0].data)]:
                assert getattr(handler, "batch", False)
                await handler(ctx, run)


def runs_of(envelopes: list[Envelope]) -> list[list[Envelope]]:
    runs: list[list[Envelope]] = []
    for envelope in envelopes:
        if runs and runs[-1][-1].type == envelope.type:
            runs[-1].append(envelope)
        else:
            runs.append([envelope])
    return runs


async def overviews(h: ServiceHarness, ids: dict[str, uuid.UUID]) -> dict[str, Any]:
    role_of = {str(customer_id): role for role, customer_id in ids.items()}
    async with h.runtime.db.transaction() as session:
        rows = (await session.execute(text("SELECT * FROM customer_overview"))).mappings().all()

    def plain(value: Any) -> Any:
        if isinstance(value, str) and value[:1] in "[{":
            return json.loads(value)
        return value if value is None or isinstance(value, bool | int | str | list | dict) else str(value)

    return {
        role_of[str(row["customer_id"])]: {key: plain(value) for key, value in row.items() if key != "customer_id"}
        for row in rows
        if str(row["customer_id"]) in role_of
    }


async def test_runs_in_one_transaction_leave_what_one_event_per_transaction_leaves(customers: ServiceHarness) -> None:
    one_ids = {role: uuid.uuid4() for role in ROLES}
    run_ids = {role: uuid.uuid4() for role in ROLES}
    # An existing overview row for one customer of each world (the others' rows are created by the run).
    await apply_runs(customers, [[envelope_of(held(one_ids["second"]))]])
    await apply_runs(customers, [[envelope_of(held(run_ids["second"]))]])

    for envelope in envelopes_for(one_ids):
        await apply_runs(customers, [[envelope]], ONE_AT_A_TIME)
    one_by_one = await overviews(customers, one_ids)

    await apply_runs(customers, runs_of(envelopes_for(run_ids)))
    as_runs = await overviews(customers, run_ids)

    assert as_runs == one_by_one
    assert one_by_one["first"]["open_case_stages"] == {str(CASES["z"]): "visit"}
    assert one_by_one["second"]["open_case_stages"] == {}
    assert bool(one_by_one["first"]["credit_hold"])
    assert Decimal(str(one_by_one["first"]["open_receivables"])) == Decimal("5000.00")


async def test_a_row_the_transaction_already_holds_is_read_fresh_after_a_run(customers: ServiceHarness) -> None:
    """A run writes the rows it changed in bulk, around the ORM: a later read in the same transaction sees them."""
    from services.customers import repository

    customer_id = uuid.uuid4()
    await apply_runs(customers, [[envelope_of(held(customer_id))]])
    async with customers.runtime.db.transaction() as session:
        before = await repository.get_overview(session, customer_id)
        assert before is not None and before.open_case_stages == {}
        run = [envelope_of(stage("x", "letter")(customer_id))]
        ctx = EventContext(session=session, envelope=run[-1], clock=customers.clock, settings=customers.settings)
        [handler] = EVENT_HANDLERS[StageEntered]
        await handler(ctx, run)
        after = await repository.get_overview(session, customer_id)
        assert after is not None and after.open_case_stages == {str(CASES["x"]): "letter"}
