"""The daily run: the overdue sweep, agency recalls and the deferred contacts now allowed."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from services.collections import sweep as sweeps
from services.collections.service.agencies import recall_late_agencies
from services.collections.service.policy import current_policy
from services.collections.service.stage_actions import retry_deferred_contacts
from services.collections.settings import CollectionsSettings
from shared.db import Database


async def run_sweep(
    session: AsyncSession,
    as_of: date,
    now: datetime,
    settings: CollectionsSettings | None = None,
    *,
    as_of_at: datetime | None = None,
) -> sweeps.SweepOutcome:
    """The overdue sweep, agency recalls and (with ``settings``) the deferred contacts now allowed."""
    policy = await current_policy(session)
    outcome = await sweeps.run_sweep(session, policy, as_of, now, as_of_at=as_of_at)
    await recall_late_agencies(session, as_of, now)
    if settings is not None:
        await retry_deferred_contacts(session, as_of, settings, now)
    return outcome


async def run_sweep_in_chunks(
    db: Database, as_of: date, now: datetime, settings: CollectionsSettings, *, as_of_at: datetime | None = None
) -> sweeps.SweepOutcome:
    """The daily run with the sweep in keyset chunks (``sweep_chunk_size`` cases a transaction): what the
    periodic job and ``POST /v1/sweeps`` run, so payments never wait for a whole sweep."""
    async with db.transaction(read_only=True) as session:
        policy = await current_policy(session)

    async def finish(session: AsyncSession) -> None:
        await recall_late_agencies(session, as_of, now)
        await retry_deferred_contacts(session, as_of, settings, now)

    return await sweeps.run_sweep_in_chunks(
        db,
        policy,
        as_of,
        now,
        chunk_size=settings.sweep_chunk_size,
        as_of_at=as_of_at,
        finish=finish,
        pipelined=settings.sweep_pipelined,
    )
