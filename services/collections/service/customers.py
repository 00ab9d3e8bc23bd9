"""Customer facts collections keeps: segment, dispute clause, profile refresh of open cases."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.collections.domain.segments import SegmentFacts, segment_for
from services.collections.domain.stages import ClauseKind, DisputeResolution, Segment
from services.collections.models import (
    Case,
    CustomerProfile,
    KnownCustomer,
)


def segment_facts(directory_segment: str | None, profile: CustomerProfile | None) -> SegmentFacts:
    """The facts the segment rule (domain/segments.py) reads, from the directory and credit's reports."""
    return SegmentFacts(
        directory_segment=directory_segment,
        credit_grade=profile.credit_grade if profile is not None else None,
        independent_hold=bool(profile is not None and profile.on_credit_hold and profile.credit_hold_independent),
    )


def customer_segment(directory_segment: str | None, profile: CustomerProfile | None) -> Segment:
    """The debtor's segment under the domain's rule (the sweep compiles the same rule to SQL)."""
    return segment_for(segment_facts(directory_segment, profile))


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
