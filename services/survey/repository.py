"""All SQL of the survey service."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from services.survey.models import Campaign, CampaignCustomer, Invitation, KnownCustomer, SurveyResponse
from shared.db import after_keyset


async def known_customers(session: AsyncSession, ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, KnownCustomer]:
    if not ids:
        return {}
    rows = await session.scalars(select(KnownCustomer).where(KnownCustomer.id.in_(list(ids))))
    return {row.id: row for row in rows}


async def matching_customers(session: AsyncSession, segment: str | None, region: str | None) -> list[uuid.UUID]:
    query = select(KnownCustomer.id)
    if segment is not None:
        query = query.where(KnownCustomer.segment == segment)
    if region is not None:
        query = query.where(KnownCustomer.region == region)
    return list((await session.scalars(query.order_by(KnownCustomer.registered_at, KnownCustomer.id))).all())


async def get_campaign(session: AsyncSession, campaign_id: uuid.UUID) -> Campaign | None:
    return await session.get(Campaign, campaign_id)


async def page_campaigns(session: AsyncSession, *, limit: int,
                         after: tuple[datetime, uuid.UUID] | None) -> list[Campaign]:
    query = select(Campaign)
    if (keyset := after_keyset(Campaign.created_at, Campaign.id, after)) is not None:
        query = query.where(keyset)
    return list((await session.scalars(query.order_by(Campaign.created_at, Campaign.id).limit(limit))).all())


async def campaign_customer_ids(session: AsyncSession, campaign_id: uuid.UUID) -> list[uuid.UUID]:
    rows = await session.scalars(select(CampaignCustomer.customer_id)
                                 .where(CampaignCustomer.campaign_id == campaign_id)
                                 .order_by(CampaignCustomer.customer_id))
    return list(rows.all())


async def counts(session: AsyncSession, campaign_id: uuid.UUID) -> tuple[int, int, int]:
    """(invitations issued, invitations used, responses) of a campaign."""
    invitations = await session.scalar(select(func.count()).select_from(Invitation)
                                       .where(Invitation.campaign_id == campaign_id))
    used = await session.scalar(select(func.count()).select_from(Invitation)
                                .where(Invitation.campaign_id == campaign_id, Invitation.used_at.is_not(None)))
    responses = await session.scalar(select(func.count()).select_from(SurveyResponse)
                                     .where(SurveyResponse.campaign_id == campaign_id))
    return int(invitations or 0), int(used or 0), int(responses or 0)


async def get_invitation(session: AsyncSession, invitation_id: uuid.UUID) -> Invitation | None:
    return await session.get(Invitation, invitation_id)


async def mark_invitation_used(session: AsyncSession, invitation_id: uuid.UUID, response_id: uuid.UUID,
                               now: datetime) -> bool:
    """Set used_at if still unused (a conditional UPDATE: two concurrent submissions cannot both win)."""
    result = await session.execute(
        update(Invitation).where(Invitation.id == invitation_id, Invitation.used_at.is_(None))
        .values(used_at=now, response_id=response_id).execution_options(synchronize_session=False))
    return int(result.rowcount) == 1  # type: ignore[attr-defined]


async def responses(session: AsyncSession, campaign_id: uuid.UUID, *, customer_id: uuid.UUID | None = None,
                    segment: str | None = None, region: str | None = None) -> list[SurveyResponse]:
    query = select(SurveyResponse).where(SurveyResponse.campaign_id == campaign_id)
    if customer_id is not None:
        query = query.where(SurveyResponse.customer_id == customer_id)
    if segment is not None or region is not None:
        query = query.join(KnownCustomer, KnownCustomer.id == SurveyResponse.customer_id)
        if segment is not None:
            query = query.where(KnownCustomer.segment == segment)
        if region is not None:
            query = query.where(KnownCustomer.region == region)
    return list((await session.scalars(query.order_by(SurveyResponse.created_at, SurveyResponse.id))).all())
