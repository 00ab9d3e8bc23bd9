"""The daily run: the overdue sweep, agency recalls and the deferred contacts now allowed."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from services.collections import sweep as sweeps
from services.collections.service.agencies import recall_late_agencies
from services.collections.service.policy import current_policy
from services.collections.service.stage_actions import retry_deferred_contacts
from services.collections.settings import CollectionsSettings


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
