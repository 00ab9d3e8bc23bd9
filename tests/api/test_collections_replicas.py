"""Two replicas sweeping the same database at the same time never act twice (on PostgreSQL the sweeps
take turns on an advisory lock and wait for row locks; SQLite has a single writer): each case enters
each stage once, with one event each."""

from __future__ import annotations

import asyncio
import json
from collections import Counter

from sqlalchemy import func, select

from shared.tables import outbox
from tests.support.collections import create_invoice, known_customer, sweep
from tests.support.databases import DatabaseFactory
from tests.support.harness import running_service


async def test_concurrent_sweeps_from_two_replicas_move_each_case_once(databases: DatabaseFactory) -> None:
    url = await databases.create("collections")
    async with (
        running_service("collections", url, sweep_enabled=False) as first,
        running_service("collections", url, sweep_enabled=False) as second,
    ):
        customer = await known_customer(first)
        for n in range(12):
            await create_invoice(first, customer, number=f"INV-R{n}", due_date=f"2026-01-{10 + n:02d}")
        results = await asyncio.gather(
            sweep(first, "2026-04-15"),
            sweep(second, "2026-04-15"),
            sweep(first, "2026-04-15"),
            sweep(second, "2026-04-15"),
        )
        async with first.runtime.db.transaction() as session:
            entered = [
                json.loads(data)
                for data in (
                    await session.execute(
                        select(outbox.c.data).where(outbox.c.event_type == "creditflow.collections.stage_entered.v1")
                    )
                ).scalars()
            ]
            opened = await session.scalar(
                select(func.count())
                .select_from(outbox)
                .where(outbox.c.event_type == "creditflow.collections.case_opened.v1")
            )
        assert opened == 12, results
        # No case entered a stage twice: each (case, stage) has exactly one event.
        pairs = [(event["case_id"], event["stage"]) for event in entered]
        assert len(pairs) == len(set(pairs)), results
        # Due 10–21 January, swept on 15 April: 84–95 days overdue, 60,000 under a court clause — every case
        # passes letter, visit and agency; the six at 90+ days go on to litigation.
        stages = Counter(stage for _, stage in pairs)
        assert stages == {"letter": 12, "visit": 12, "agency": 12, "litigation": 6}, results
