"""Customer facts collections keeps: segment, dispute clause, profile refresh of open cases."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.collections.domain.stages import ClauseKind, DisputeResolution, Segment
from services.collections.models import (
    Case,
    CustomerProfile,
    KnownCustomer,
)


def customer_segment(directory_segment: str | None, profile: CustomerProfile | None) -> Segment:
    """Same rule as sweep.segment_sql: high risk (grade D, on hold) wins over key account."""
    if profile is not None and (profile.on_credit_hold or (profile.credit_grade or "").upper() == "D"):
        return Segment.HIGH_RISK
    if directory_segment in (Segment.HIGH_RISK, Segment.KEY_ACCOUNT):
        return Segment(directory_segment)
    return Segment.GENERAL


def clause_of(profile: CustomerProfile | None) -> DisputeResolution:
    if profile is None:
        return DisputeResolution()
    try:
        kind = ClauseKind(profile.clause_kind)
    except ValueError:
        kind = ClauseKind.UNKNOWN
    return DisputeResolution(kind, profile.commission)


async def profile_for(session: AsyncSession, customer_id: uuid.UUID, now: datetime) -> CustomerProfile:
    profile = await session.get(CustomerProfile, customer_id)
    if profile is None:
        profile = CustomerProfile(customer_id=customer_id, clause_kind="unknown", on_credit_hold=False, updated_at=now)
        session.add(profile)
    return profile


async def refresh_open_cases(session: AsyncSession, customer_id: uuid.UUID, now: datetime) -> None:
    """After a segment or contract change, the customer's open cases follow (the sweep reads their columns)."""
    directory = await session.get(KnownCustomer, customer_id)
    profile = await session.get(CustomerProfile, customer_id)
    segment = customer_segment(directory.segment if directory else None, profile)
    clause = clause_of(profile)
    for row in (
        await session.scalars(select(Case).where(Case.customer_id == customer_id, Case.status.in_(["open", "on_hold"])))
    ).all():
        row.segment, row.route = segment.value, clause.route.value
        row.clause_kind, row.commission = clause.kind.value, clause.commission
        row.updated_at = now
    await session.flush()
