"""Snapshots applied in order: an older receivables_changed republished after a newer one changes nothing.

The relay publishes collections' outbox in order, but after a broker loss it republishes what the broker
lost, possibly after newer events already went out (or ``creditflow replay`` does). Credit and the
registry must keep the newest figures.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select, update

from shared.clock import SystemClock
from shared.db import Database
from shared.events.base import Envelope
from shared.events.collections import ReceivablesChanged
from shared.outbox import OutboxRelay, emit, mark_for_replay
from shared.registry import settings_class
from shared.snapshots import newer_snapshot
from shared.tables import outbox
from tests.support.databases import DatabaseFactory
from tests.support.harness import ServiceHarness, running_service
from tests.support.waiting import eventually

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


def _envelope(sequence: int | None) -> Envelope:
    event = ReceivablesChanged(
        customer_id=uuid.uuid4(), currency="EUR", open_receivables=Decimal(1), overdue_amount=Decimal(0), as_of=T0
    )
    return Envelope(
        id="e", type=event.event_type, source="/x", time=None, subject=None, data=event, topic="t", partition=0,
        offset=0, sequence=sequence,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("applied", "sequence", "expected"),
    [
        (None, 5, {"receivables:EUR": 5}),
        ({"receivables:EUR": 4}, 5, {"receivables:EUR": 5}),
        ({"receivables:EUR": 5}, 5, None),  # the same snapshot again
        ({"receivables:EUR": 7}, 5, None),  # older
        ({"receivables:USD": 9}, 5, {"receivables:USD": 9, "receivables:EUR": 5}),  # another stream
        ({"receivables:EUR": 7}, None, {"receivables:EUR": 7}),  # a producer without sequences: applied
    ],
)
def test_newer_snapshot(applied: dict[str, int] | None, sequence: int | None, expected: dict[str, int] | None) -> None:
    assert newer_snapshot(applied, "receivables:EUR", _envelope(sequence)) == expected


def receivables(customer_id: uuid.UUID, open_receivables: str, overdue: str, stage: str | None) -> ReceivablesChanged:
    return ReceivablesChanged(
        customer_id=customer_id,
        currency="CNY",
        open_receivables=Decimal(open_receivables),
        overdue_amount=Decimal(overdue),
        oldest_overdue_days=10 if stage else 0,
        highest_open_stage=stage,
        as_of=T0,
    )


async def _credit_figures(credit: ServiceHarness, customer_id: uuid.UUID) -> tuple[Decimal, Decimal | None] | None:
    from services.credit.models import CreditProfile

    async with credit.runtime.db.transaction() as session:
        profile = await session.get(CreditProfile, customer_id)
        return (profile.open_receivables, profile.overdue_amount) if profile is not None else None


async def _registry_figures(
    customers: ServiceHarness, customer_id: uuid.UUID
) -> tuple[Decimal | None, Decimal | None] | None:
    from services.customers.models import CustomerOverview

    async with customers.runtime.db.transaction() as session:
        row = await session.get(CustomerOverview, customer_id)
        return (row.open_receivables, row.overdue_amount) if row is not None else None


async def test_older_snapshots_republished_after_the_newest_leave_the_newest_figures(
    databases: DatabaseFactory, broker: object
) -> None:
    bootstrap = broker.bootstrap  # type: ignore[attr-defined]
    collections_settings = settings_class("collections")(
        database_url=await databases.create("collections"), kafka_bootstrap_servers=bootstrap
    )
    producer_db = Database(collections_settings.effective_database_url)
    customer_id = uuid.uuid4()
    try:
        async with producer_db.transaction() as session:
            await emit(session, receivables(customer_id, "1000.00", "0.00", None), at=T0)
            await emit(session, receivables(customer_id, "1500.00", "500.00", "letter"), at=T0 + timedelta(days=1))
            await emit(session, receivables(customer_id, "900.00", "400.00", "visit"), at=T0 + timedelta(days=2))
        # The broker lost the first two: the relay believes they went out, only the newest is published.
        async with producer_db.transaction() as session:
            rows = (await session.execute(select(outbox.c.seq, outbox.c.event_id).order_by(outbox.c.seq))).all()
            seqs, event_ids = [row.seq for row in rows], {str(row.event_id) for row in rows}
            await session.execute(update(outbox).where(outbox.c.seq.in_(seqs[:2])).values(published_at=T0))
        async with (
            running_service("credit", await databases.create("credit"), bootstrap=bootstrap) as credit,
            running_service("customers", await databases.create("customers"), bootstrap=bootstrap) as customers,
        ):
            relay = OutboxRelay(producer_db, collections_settings, SystemClock())
            try:
                assert await relay.relay_once() == 1
                newest = (Decimal("900.00"), Decimal("400.00"))
                await eventually(lambda: _is(_credit_figures(credit, customer_id), newest), what="credit: newest")
                await eventually(lambda: _is(_registry_figures(customers, customer_id), newest), what="registry")

                # Found lost: republished, older after newer.
                assert await mark_for_replay(producer_db, T0, T0 + timedelta(days=2)) == 2
                assert await relay.relay_once() == 2
                await eventually(lambda: _consumed_all(credit, event_ids), what="credit consumed the republished ones")
                await eventually(lambda: _consumed_all(customers, event_ids), what="the registry consumed them")
            finally:
                await relay.stop()
            assert await _credit_figures(credit, customer_id) == newest
            assert await _registry_figures(customers, customer_id) == newest
    finally:
        await producer_db.dispose()


async def _is(probe: object, expected: object) -> bool:
    return await probe == expected  # type: ignore[misc]


async def _consumed_all(harness: ServiceHarness, event_ids: set[str]) -> bool:
    from shared.tables import inbox

    async with harness.runtime.db.transaction() as session:
        applied = set(
            (await session.execute(select(inbox.c.event_id).where(inbox.c.event_id.in_(event_ids)))).scalars()
        )
    return applied == event_ids
