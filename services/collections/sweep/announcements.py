"""The customers a sweep moved, recorded with each chunk and announced by its last transaction.

A chunk commits its moves with the customers they touch (``sweep_announcements``); the sweep's last
transaction takes every recorded customer out of the table and writes their ``receivables_changed`` (one
aggregate per customer, through ``service.receivables``, the one home of that event). A sweep stopped
between chunks leaves its customers recorded, so the next sweep announces them with its own.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

from sqlalchemy import delete, insert
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.collections.service.receivables import receivables_events
from services.collections.sweep.rules_sql import SweepOutcome, announcements, outbox_row
from shared.outbox import outbox_written
from shared.tables import outbox

# Customers announced per batch by a sweep's last transaction (see ``announce_recorded``).
ANNOUNCE_BATCH = 250


async def record_customers(session: AsyncSession, customer_ids: Iterable[uuid.UUID]) -> None:
    """Record ``customer_ids`` as owed an announcement, in the caller's transaction (the chunk's)."""
    rows = [{"customer_id": customer_id} for customer_id in sorted(set(customer_ids), key=str)]
    if not rows:
        return
    dialect_insert: Any = postgresql_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    await session.execute(dialect_insert(announcements).on_conflict_do_nothing(index_elements=["customer_id"]), rows)


async def announce_recorded(
    session: AsyncSession, outcome: SweepOutcome, as_of: date, now: datetime, headers: str
) -> None:
    """Write ``receivables_changed`` for every recorded customer (this sweep's and any stopped one's) and
    for ``outcome.customers``, and empty the record."""
    taken = (await session.execute(delete(announcements).returning(announcements.c.customer_id))).scalars()
    customers = sorted(outcome.customers | set(taken), key=str)
    # In batches: the events of every customer at once (1,000 in the bench) were 0.3-0.5 s of Python on a
    # loaded box with no await in between, which held every request of the process, a payment too. A batch
    # is a few ms of Python between its round trips; the events come out in the same (customer) order.
    for start in range(0, len(customers), ANNOUNCE_BATCH):
        changed = await receivables_events(session, set(customers[start : start + ANNOUNCE_BATCH]), as_of, now)
        if changed:
            await session.execute(insert(outbox), [outbox_row(event, now, headers) for event in changed])
            await outbox_written(session)
