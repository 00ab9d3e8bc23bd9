"""A run of ``stage_entered`` events applied as one batch leaves exactly what applying them one at a time
leaves: case actions, contact log, history, invoice charges, cases and outbox rows.

The batch mixes several customers; several visits of one customer past the weekly contact cap (and one of a
customer who was already contacted twice this week, one at night); an agency whose capacity fills up within
the batch and frees up again when a case goes to arbitration; letters sent twice to one case (the tone
escalates); a refused filing; a paid invoice (its case closed) and an unknown case.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator, Mapping, Sequence
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import RowMapping, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.collections.handlers import EVENT_HANDLERS
from services.collections.models import Case, CaseAction, CaseHistory, ContactLog, Invoice
from services.collections.service.stage_actions import apply_stage_events
from services.collections.settings import CollectionsSettings
from shared.clock import FixedClock
from shared.consumer import EventContext
from shared.events.base import Envelope
from shared.events.collections import ReceivablesChanged, StageEntered
from shared.tables import outbox
from tests.support.collections import ADMIN, WRITE, case_of, create_invoice, known_customer, sweep
from tests.support.databases import DatabaseFactory
from tests.support.harness import ServiceHarness, running_service

NOW = datetime(2026, 2, 2, 9, 0, tzinfo=UTC)  # 17:00 in Shanghai
NIGHT = datetime(2026, 2, 2, 14, 0, tzinfo=UTC)  # 22:00 in Shanghai: quiet hours

# (invoice label, stage, amount escalating, the sweep's instant): the batch, in order.
BATCH: list[tuple[str, str, str, datetime]] = [
    ("a1", "letter", "1000.00", NOW),
    ("a1", "letter", "1000.00", NOW),  # the second letter to a case: the next tone
    ("a1", "visit", "1000.00", NOW),
    ("b1", "agency", "60000.00", NOW),
    ("a2", "visit", "1000.00", NOW),
    ("c1", "visit", "1000.00", NOW),  # c was contacted twice already: this visit is the third
    ("b2", "agency", "60000.00", NOW),  # the better agency is now full (2 cases)
    ("a3", "visit", "1000.00", NOW),
    ("b3", "agency", "60000.00", NOW),  # -> the other agency
    ("a4", "visit", "1000.00", NOW),  # weekly cap reached: deferred
    ("c2", "visit", "1000.00", NOW),  # deferred
    ("b1", "arbitration", "60000.00", NOW),  # withdraws b1 from its agency: a place frees up
    ("b4", "agency", "60000.00", NOW),  # -> the better agency again
    ("a5", "visit", "1000.00", NOW),  # deferred
    ("d1", "letter", "1000.00", NOW),  # paid: its case is closed, nothing happens
    ("e1", "visit", "1000.00", NIGHT),  # quiet hours: deferred to the morning
    ("c1", "litigation", "1000.00", NOW),
    ("b2", "litigation", "60000.00", NOW),  # an arbitration clause: the court filing is refused
    ("zz", "letter", "1000.00", NOW),  # no such case
    ("e1", "letter", "1000.00", NIGHT),  # letters are not subject to quiet hours
]


@pytest.fixture
async def collections(databases: DatabaseFactory) -> AsyncIterator[ServiceHarness]:
    async with running_service(
        "collections",
        await databases.create("collections"),
        sweep_enabled=False,
        clock=FixedClock(NOW),
        contact_weekly_cap=3,
        charge_action_costs=True,
    ) as h:
        yield h


async def _scenario(h: ServiceHarness) -> list[StageEntered]:
    for name, recovery, cap in (("Best Recovery", "0.6", 2), ("Other Recovery", "0.5", None)):
        body = {"name": name, "recovery_rate": recovery, "commission_rate": "0.2", "max_open_cases": cap}
        created = await h.client.post("/v1/agencies", json=body, headers=h.auth(*ADMIN))
        assert created.status_code == 201, created.text
    customers = {
        "a": await known_customer(h, segment="key_account"),
        "b": await known_customer(h, clause="arbitration", commission="Shanghai International Arbitration Centre"),
        "c": await known_customer(h),
        "d": await known_customer(h),
        "e": await known_customer(h),
    }
    for _ in range(2):
        made = await h.client.post(
            f"/v1/customers/{customers['c']}/contacts", json={"channel": "sms"}, headers=h.auth(*WRITE)
        )
        assert made.status_code == 201, made.text
    labels = sorted({label for label, *_ in BATCH if label != "zz"})
    invoices = {
        label: await create_invoice(h, customers[label[0]], amount="60000.00" if label[0] == "b" else "1000.00")
        for label in labels
    }
    await sweep(h, "2026-02-02")
    due = (await h.client.get(f"/v1/invoices/{invoices['d1']['id']}", headers=h.auth(*WRITE))).json()["amount_due"]
    paid = await h.client.post(
        f"/v1/invoices/{invoices['d1']['id']}/payments",
        json={"amount": due, "paid_on": "2026-02-02"},
        headers=h.auth(*WRITE),
    )
    assert paid.status_code == 201, paid.text
    assert (await case_of(h, invoices["d1"]["id"]) or {})["status"] == "resolved"
    cases = {label: await case_of(h, invoice["id"]) for label, invoice in invoices.items()}
    events = []
    for label, stage, amount, at in BATCH:
        case = cases.get(label) or {"id": str(uuid.uuid4()), "invoice_id": str(uuid.uuid4())}
        events.append(
            StageEntered(
                customer_id=uuid.UUID(customers.get(label[0], customers["a"])),
                case_id=uuid.UUID(case["id"]),
                invoice_id=uuid.UUID(case["invoice_id"]),
                stage=stage,
                rule="test",
                reason="test",
                policy_version=1,
                days_overdue=2,
                currency="CNY",
                amount=Decimal(amount),
                entered_at=at,
                as_of=date(2026, 2, 2),
                as_of_at=at,
            )
        )
    return events


def _envelope(event: StageEntered, offset: int) -> Envelope:
    return Envelope(
        id=str(uuid.uuid4()),
        type=event.event_type,
        source="/test",
        time=NOW,
        subject=str(event.customer_id),
        data=event,
        topic=event.topic(),
        partition=0,
        offset=offset,
    )


async def _snapshot(session: AsyncSession) -> dict[str, list[str]]:
    """Every row the stage actions may write, without the generated keys, in a canonical order."""
    tables: dict[str, Any] = {
        "case_actions": CaseAction.__table__,
        "contact_log": ContactLog.__table__,
        "case_history": CaseHistory.__table__,
        "invoices": Invoice.__table__,
        "cases": Case.__table__,
        "outbox": outbox,
    }
    snapshot = {}
    for name, table in tables.items():
        found = (await session.execute(select(table).order_by(*table.primary_key.columns))).mappings().all()
        rows = _last_receivables(found) if name == "outbox" else list(found)
        snapshot[name] = sorted(
            json.dumps(
                {k: v for k, v in row.items() if k not in ("id", "action_id", "seq")}, sort_keys=True, default=str
            )
            for row in rows
        )
    return snapshot


def _last_receivables(rows: Sequence[RowMapping]) -> list[Mapping[str, Any]]:
    """The outbox with only the last ``receivables_changed`` of each customer and currency: a run announces
    the receivables of the customers it billed once, where event after event announces after each one."""
    last: dict[tuple[str, str], Mapping[str, Any]] = {}
    others: list[Mapping[str, Any]] = []
    for row in rows:  # in outbox order
        if row["event_type"] == ReceivablesChanged.event_type:
            data = row["data"] if isinstance(row["data"], dict) else json.loads(row["data"])
            last[(row["key"], data["currency"])] = {k: v for k, v in row.items() if k != "event_id"}  # a new id
        else:
            others.append(dict(row))
    return others + list(last.values())


class _Rollback(Exception):
    def __init__(self, snapshot: dict[str, list[str]]) -> None:
        self.snapshot = snapshot


async def _outcome(h: ServiceHarness, events: list[StageEntered], how: str) -> dict[str, list[str]]:
    """Apply the events ``how``, take the snapshot, and roll back (every way starts from the same state)."""
    settings = h.settings
    assert isinstance(settings, CollectionsSettings)
    [handler] = EVENT_HANDLERS[StageEntered]
    try:
        async with h.runtime.db.transaction() as session:
            if how == "one at a time":  # the reference: every read its own query, a flush per event
                for event in events:
                    await apply_stage_events(session, [event], settings, h.clock.now(), preload=False)
            else:
                size = {"whole batch": len(events), "runs of one": 1, "runs of seven": 7}[how]
                envelopes = [_envelope(event, offset) for offset, event in enumerate(events)]
                for start in range(0, len(envelopes), size):
                    run = envelopes[start : start + size]
                    context = EventContext(session=session, envelope=run[-1], clock=h.clock, settings=settings)
                    await handler(context, run)
            raise _Rollback(await _snapshot(session))
    except _Rollback as done:
        return done.snapshot


@pytest.mark.parametrize("how", ["whole batch", "runs of seven", "runs of one"])
async def test_a_batch_leaves_what_one_at_a_time_leaves(collections: ServiceHarness, how: str) -> None:
    events = await _scenario(collections)
    reference = await _outcome(collections, events, "one at a time")
    batched = await _outcome(collections, events, how)
    for table in reference:
        assert batched[table] == reference[table], table

    # The scenario does reach the cases it is about (else the comparison proves little).
    actions = [json.loads(row) for row in reference["case_actions"]]
    kinds = sorted((a["kind"], a["status"]) for a in actions)
    assert kinds.count(("visit", "scheduled")) == 3 + 1  # a's first three, c's third
    assert kinds.count(("contact_deferred", "deferred")) == 2 + 1 + 1  # a4 a5, c2, e1 at night
    assert kinds.count(("letter", "done")) == 3  # a1 twice, e1; not the paid d1
    tones = sorted(a["details"]["tone"] for a in actions if a["kind"] == "letter")
    assert len(set(tones)) == 2
    agencies = [a for a in actions if a["kind"] == "agency_assignment"]
    by_status = sorted((a["status"], a["details"].get("agency_name")) for a in agencies)
    assert by_status == [
        ("active", "Best Recovery"),
        ("active", "Best Recovery"),
        ("active", "Other Recovery"),
        ("withdrawn", "Best Recovery"),
    ]
    assert sorted((a["kind"], a["status"]) for a in actions if a["kind"].endswith("_filing")) == [
        ("arbitration_filing", "done"),
        ("litigation_filing", "done"),
        ("litigation_filing", "refused"),
    ]
    assert any(json.loads(row)["costs_outstanding"] not in ("0", "0.00") for row in reference["invoices"])


async def test_a_case_and_invoice_the_transaction_already_holds_are_read_fresh_after_a_run(
    collections: ServiceHarness,
) -> None:
    """A run reads its cases and invoices as plain rows and writes their changes around the ORM: ORM objects of
    them the transaction loaded before the run show what the run wrote (a letter bills its cost to the invoice
    and restarts the case's limitation period)."""
    settings = collections.settings
    assert isinstance(settings, CollectionsSettings)
    events = await _scenario(collections)
    letter = events[0]  # a1's first letter
    [handler] = EVENT_HANDLERS[StageEntered]
    async with collections.runtime.db.transaction() as session:
        case = await session.get(Case, letter.case_id)
        invoice = await session.get(Invoice, letter.invoice_id)
        assert case is not None and invoice is not None
        costs_before, limitation_before = Decimal(invoice.costs_outstanding), case.limitation_from
        run = [_envelope(letter, 0)]
        await handler(EventContext(session=session, envelope=run[-1], clock=collections.clock, settings=settings), run)
        written = (
            await session.execute(
                select(Invoice.__table__.c.costs_outstanding).where(Invoice.__table__.c.id == letter.invoice_id)
            )
        ).scalar_one()
        assert Decimal(written) > costs_before
        assert Decimal((await session.get(Invoice, letter.invoice_id)).costs_outstanding) == Decimal(written)  # type: ignore[union-attr]
        held_case = await session.get(Case, letter.case_id)
        assert held_case is case and held_case.limitation_from == date(2026, 2, 2) != limitation_before
