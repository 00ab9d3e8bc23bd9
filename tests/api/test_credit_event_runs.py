"""A run of collections' events applied in bulk (``collection_events.apply_run``, what the consumer calls for
a batch) leaves exactly what applying them one at a time (``apply_one``, one transaction each) leaves:
profiles, holds, limit history and outbox rows, in the same order. Table-driven; each scenario is run in
two worlds of the same database (one customer set per way of applying), then the worlds are compared."""

from __future__ import annotations

import dataclasses
import json
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import func, select, text

from services.credit.service import collection_events
from shared.events.base import Envelope, Event
from shared.events.collections import ArrearsMarkedMalicious, ReceivablesChanged, StageEntered
from shared.tables import outbox
from tests.support.credit import NOW, assess, envelope_of, known_customer
from tests.support.databases import DatabaseFactory
from tests.support.harness import ServiceHarness, running_service

CASE_ID = uuid.UUID("00000000-0000-4000-8000-0000000000ca")
ROLES = ("graded", "graded_too", "known", "fresh")
"""graded, graded_too: assessed (grade A, limit 300,000); known: in the directory, no profile; fresh: neither."""


@pytest.fixture
async def credit(databases: DatabaseFactory) -> AsyncIterator[ServiceHarness]:
    async with running_service("credit", await databases.create("credit")) as harness:
        yield harness


@dataclass(frozen=True)
class Step:
    """One event of a scenario: for a role, built by ``make`` from the customer id; ``sequence`` as sent."""

    role: str
    make: Callable[[uuid.UUID], Event]
    sequence: int | None = None


def stage(name: str, *, stop_supply: bool = False, keep_supplying: bool = False) -> Callable[[uuid.UUID], Event]:
    def make(customer_id: uuid.UUID) -> Event:
        return StageEntered(
            customer_id=customer_id,
            case_id=CASE_ID,  # the same in both worlds: it is in a cancellation's reason
            invoice_id=uuid.uuid4(),
            stage=name,
            rule="test",
            reason="overdue",
            policy_version=1,
            days_overdue=60,
            currency="CNY",
            amount=Decimal("50000.00"),
            stop_supply=stop_supply,
            keep_supplying=keep_supplying,
            entered_at=NOW,
        )

    return make


def totals(open_amount: str, overdue: str, *, currency: str = "CNY", highest: str | None = None) -> Any:
    def make(customer_id: uuid.UUID) -> Event:
        return ReceivablesChanged(
            customer_id=customer_id,
            currency=currency,
            open_receivables=Decimal(open_amount),
            overdue_amount=Decimal(overdue),
            oldest_overdue_days=40 if Decimal(overdue) else 0,
            highest_open_stage=highest,
            as_of=NOW,
        )

    return make


def malicious(stop_supply: bool = True) -> Callable[[uuid.UUID], Event]:
    def make(customer_id: uuid.UUID) -> Event:
        return ArrearsMarkedMalicious(
            customer_id=customer_id,
            case_id=uuid.uuid4(),
            invoice_id=uuid.uuid4(),
            reason="assets moved to a related company",
            actor="head-of-credit",
            stop_supply=stop_supply,
            marked_at=NOW,
        )

    return make


SCENARIOS: dict[str, list[Step]] = {
    "stages rise, fall back, hold once, cancel the limit once": [
        Step("graded", stage("visit")),
        Step("fresh", stage("letter")),
        Step("graded", stage("agency")),  # places the hold (grade A stops at agency)
        Step("known", stage("visit", stop_supply=True)),  # asked to stop supply
        Step("graded", stage("arbitration")),  # cancels the limit
        Step("graded", stage("litigation")),  # already cancelled, already on hold
        Step("graded", stage("visit")),  # lower: the furthest stage stays
        Step("fresh", stage("mediation")),  # unknown stage
        Step("graded_too", stage("litigation")),  # hold and cancellation in one event
    ],
    "receivables settle, keep, release, another currency, stale snapshots": [
        Step("graded", stage("agency")),
        Step("graded", totals("50000.00", "20000.00", highest="agency"), sequence=10),  # kept
        Step("graded", totals("40000.00", "0.00", highest="agency"), sequence=8),  # stale: skipped
        Step("graded", totals("40000.00", "0.00"), sequence=12),  # settled: released
        Step("known", totals("300.00", "300.00", currency="USD", highest="agency")),  # other currency: held
        Step("known", totals("100.00", "0.00", currency="USD")),  # cannot release in another currency
        Step("fresh", totals("0.00", "0.00"), sequence=3),
        Step("fresh", totals("9.00", "9.00", highest="litigation"), sequence=3),  # same sequence: stale
        Step("graded_too", totals("10.00", "10.00", highest="visit"), sequence=1),
        Step("graded_too", stage("agency")),
        Step("graded_too", totals("0.00", "0.00", highest="agency"), sequence=2),  # released
    ],
    "key accounts until arrears turn malicious, mixed with everything": [
        Step("graded", stage("agency", keep_supplying=True)),  # kept supplying: no hold
        Step("graded", totals("50000.00", "50000.00", highest="agency")),
        Step("graded", malicious(stop_supply=False)),  # changes nothing, creates nothing
        Step("fresh", malicious(stop_supply=False)),
        Step("graded_too", malicious()),  # held for malicious arrears
        Step("graded", malicious()),  # held: malicious arrears and the stage
        Step("graded", stage("arbitration", keep_supplying=True)),  # cancels the limit; stays held
        Step("known", malicious()),
        Step("known", totals("0.00", "0.00")),  # settled: released
        Step("graded_too", totals("5.00", "0.00", highest="letter")),  # released
        Step("graded_too", stage("agency", stop_supply=True, keep_supplying=True)),  # asked: placed again
    ],
}


async def world(h: ServiceHarness, tag: str) -> dict[str, uuid.UUID]:
    """A fresh set of customers, one per role, with the setup each role names."""
    ids = {}
    for role in ROLES:
        if role == "fresh":
            ids[role] = uuid.uuid4()
            continue
        customer_id = await known_customer(h, f"{role} {tag}")
        if role.startswith("graded"):
            await assess(h, customer_id)
        ids[role] = uuid.UUID(customer_id)
    return ids


def envelopes_for(steps: list[Step], ids: dict[str, uuid.UUID]) -> list[Envelope]:
    return [dataclasses.replace(envelope_of(step.make(ids[step.role])), sequence=step.sequence) for step in steps]


async def last_seq(h: ServiceHarness) -> int:
    async with h.runtime.db.transaction() as session:
        return int(await session.scalar(select(func.coalesce(func.max(outbox.c.seq), 0))) or 0)


def _plain(value: Any) -> Any:
    """Rows compare across databases and worlds: JSON text parsed, decimals and dates as strings."""
    if isinstance(value, str) and value[:1] in "[{":
        return json.loads(value)
    if value is None or isinstance(value, bool | int | str | list | dict):
        return value
    return str(value)


async def outcome(h: ServiceHarness, ids: dict[str, uuid.UUID], since: int) -> dict[str, Any]:
    """Everything the events left, with customer ids replaced by roles (row ids and event ids dropped)."""
    role_of = {str(customer_id): role for role, customer_id in ids.items()}
    async with h.runtime.db.transaction() as session:
        assessments = (await session.execute(text("SELECT id, customer_id FROM assessments"))).all()
    names = {**{key: f"<{role}>" for key, role in role_of.items()}}
    names |= {
        str(a.id): f"<assessment of {role_of[str(a.customer_id)]}>"
        for a in assessments
        if str(a.customer_id) in role_of
    }

    def anonymous(value: Any) -> Any:
        text_value = json.dumps(_plain(value), default=str)
        for key, name in names.items():
            text_value = text_value.replace(key, name)
        return json.loads(text_value)

    async with h.runtime.db.transaction() as session:
        profiles = (await session.execute(text("SELECT * FROM credit_profiles"))).mappings().all()
        changes = (await session.execute(text("SELECT * FROM limit_changes ORDER BY created_at, id"))).mappings().all()
        events = (
            await session.execute(
                select(outbox.c.event_type, outbox.c.key, outbox.c.subject, outbox.c.data)
                .where(outbox.c.seq > since)
                .order_by(outbox.c.seq)
            )
        ).all()
    mine = set(role_of)
    return {
        "profiles": {
            role_of[str(row["customer_id"])]: {key: anonymous(value) for key, value in row.items()}
            for row in profiles
            if str(row["customer_id"]) in mine
        },
        "limit_changes": sorted(
            (json.dumps({key: anonymous(value) for key, value in row.items() if key != "id"}, sort_keys=True))
            for row in changes
            if str(row["customer_id"]) in mine
        ),
        "outbox": [anonymous([row.event_type, row.key, row.subject, _plain(row.data)]) for row in events],
    }


@pytest.mark.parametrize("scenario", list(SCENARIOS))
async def test_a_mixed_run_in_bulk_leaves_what_one_event_at_a_time_leaves(
    credit: ServiceHarness, scenario: str
) -> None:
    steps = SCENARIOS[scenario]
    one_ids, run_ids = await world(credit, "one by one"), await world(credit, "as a run")
    now = credit.clock.now()

    since = await last_seq(credit)
    for envelope in envelopes_for(steps, one_ids):
        async with credit.runtime.db.transaction() as session:
            await collection_events.apply_one(session, envelope, credit.settings, now)
    one_by_one = await outcome(credit, one_ids, since)

    since = await last_seq(credit)
    with credit.statements() as statements:
        async with credit.runtime.db.transaction() as session:
            await collection_events.apply_run(session, envelopes_for(steps, run_ids), credit.settings, now)
    as_a_run = await outcome(credit, run_ids, since)

    assert as_a_run == one_by_one
    assert one_by_one["outbox"], "the scenario places or releases something"
    # Load, policy, insert new, update changed, limit history, outbox (+ pg_notify): not one chain per event.
    writes = [s for s in statements if not s.lstrip().upper().startswith(("SAVEPOINT", "RELEASE", "BEGIN"))]
    assert len(writes) <= 8, writes


async def test_a_run_of_thousands_for_hundreds_of_customers_is_a_handful_of_statements(
    credit: ServiceHarness,
) -> None:
    """A sweep-sized run: statements do not grow with the events; every stage is decided as one by one would."""
    customers = [uuid.UUID(await known_customer(credit, f"Customer {n}")) for n in range(3)]
    customers += [uuid.uuid4() for _ in range(297)]
    names = ("letter", "visit", "agency", "arbitration", "litigation")
    envelopes = [envelope_of(stage(names[(n // 300) % 5])(customers[n % 300])) for n in range(1500)]
    envelopes += [envelope_of(totals("10.00", "0.00")(customer)) for customer in customers[:100]]
    with credit.statements() as statements:
        async with credit.runtime.db.transaction() as session:
            await collection_events.apply_run(session, envelopes, credit.settings, credit.clock.now())
    assert len(statements) <= 10, statements
    async with credit.runtime.db.transaction() as session:
        held = int(await session.scalar(text("SELECT count(*) FROM credit_profiles WHERE on_hold")) or 0)
        stages = set((await session.execute(text("SELECT DISTINCT collection_stage FROM credit_profiles"))).scalars())
    # Ungraded customers stop at agency: held unless their receivables (overdue 0) released them again.
    assert held == 200 and stages == {None, "litigation"}


async def test_a_profile_the_transaction_already_holds_is_read_fresh_after_a_run(credit: ServiceHarness) -> None:
    """The run writes profiles in bulk, around the ORM: a profile an earlier handler of the same transaction
    loaded is forgotten, so a later read in that transaction sees the run's writes (not the object it held)."""
    from services.credit import repository

    customer = await known_customer(credit, "Held earlier")
    await assess(credit, customer)
    customer_id = uuid.UUID(customer)
    async with credit.runtime.db.transaction() as session:
        before = await repository.profile(session, customer_id)
        assert before is not None and not before.on_hold
        await collection_events.apply_run(
            session, [envelope_of(stage("litigation")(customer_id))], credit.settings, credit.clock.now()
        )
        after = await repository.profile(session, customer_id)
        assert after is not None
        assert (after.on_hold, after.collection_stage, after.limit_method) == (True, "litigation", "cancelled")
