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
    customers = outcome.customers | set(taken)
    changed = await receivables_events(session, customers, as_of, now)
    if changed:
        await session.execute(insert(outbox), [outbox_row(event, now, headers) for event in changed])
        await outbox_written(session)
