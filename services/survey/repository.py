"""All SQL of the survey service."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from services.survey.models import Campaign, CampaignCustomer, Invitation, KnownCustomer, SurveyResponse
from shared.db import after_keyset


async def known_customer(session: AsyncSession, customer_id: uuid.UUID) -> KnownCustomer | None:
    """The customer as this service knows it from the registry, if its registration arrived."""
    return await session.get(KnownCustomer, customer_id)


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


async def page_campaigns(
    session: AsyncSession, *, limit: int, after: tuple[datetime, uuid.UUID] | None
) -> list[Campaign]:
    query = select(Campaign)
    if (keyset := after_keyset(Campaign.created_at, Campaign.id, after)) is not None:
        query = query.where(keyset)
    return list((await session.scalars(query.order_by(Campaign.created_at, Campaign.id).limit(limit))).all())


async def campaign_customer_ids(
    session: AsyncSession, campaign_ids: list[uuid.UUID]
) -> dict[uuid.UUID, list[uuid.UUID]]:
    """Customer ids of each campaign, for a whole page of campaigns in one query."""
    rows = await session.execute(
        select(CampaignCustomer.campaign_id, CampaignCustomer.customer_id)
        .where(CampaignCustomer.campaign_id.in_(campaign_ids))
        .order_by(CampaignCustomer.campaign_id, CampaignCustomer.customer_id)
    )
    result: dict[uuid.UUID, list[uuid.UUID]] = {campaign_id: [] for campaign_id in campaign_ids}
    for campaign_id, customer_id in rows:
        result[campaign_id].append(customer_id)
    return result


@dataclass(frozen=True)
class CampaignCounts:
    invitations: int = 0
    used: int = 0
    responses: int = 0
    reminders: int = 0
    last_reminded_at: datetime | None = None


async def counts(session: AsyncSession, campaign_ids: list[uuid.UUID]) -> dict[uuid.UUID, CampaignCounts]:
    """Invitations issued and used, reminders and responses of each campaign, in two grouped queries."""
    invitations = {
        campaign_id: (int(issued or 0), int(used or 0), int(reminders or 0), last)
        for campaign_id, issued, used, reminders, last in (
            await session.execute(
                select(
                    Invitation.campaign_id,
                    func.count(),
                    func.count(Invitation.used_at),
                    func.sum(Invitation.reminder_count),
                    func.max(Invitation.last_reminded_at),
                )
                .where(Invitation.campaign_id.in_(campaign_ids))
                .group_by(Invitation.campaign_id)
            )
        )
    }
    responses = {
        campaign_id: int(n or 0)
        for campaign_id, n in (
            await session.execute(
                select(SurveyResponse.campaign_id, func.count())
                .where(SurveyResponse.campaign_id.in_(campaign_ids))
                .group_by(SurveyResponse.campaign_id)
            )
        )
    }
    result = {}
    for campaign_id in campaign_ids:
        issued, used, reminders, last = invitations.get(campaign_id, (0, 0, 0, None))
        result[campaign_id] = CampaignCounts(
            invitations=issued,
            used=used,
            responses=responses.get(campaign_id, 0),
            reminders=reminders,
            last_reminded_at=last,
        )
    return result


async def get_invitation(session: AsyncSession, invitation_id: uuid.UUID) -> Invitation | None:
    return await session.get(Invitation, invitation_id)


async def mark_invitation_used(
    session: AsyncSession, invitation_id: uuid.UUID, response_id: uuid.UUID, now: datetime
) -> bool:
    """Set used_at if still unused (a conditional UPDATE: two concurrent submissions cannot both win)."""
    result = await session.execute(
        update(Invitation)
        .where(Invitation.id == invitation_id, Invitation.used_at.is_(None))
        .values(used_at=now, response_id=response_id)
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount) == 1  # type: ignore[attr-defined]


async def responses(
    session: AsyncSession,
    campaign_id: uuid.UUID,
    *,
    customer_id: uuid.UUID | None = None,
    segment: str | None = None,
    region: str | None = None,
) -> list[SurveyResponse]:
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


async def remindable_invitations(
    session: AsyncSession,
    now: datetime,
    *,
    campaign_id: uuid.UUID | None = None,
    reminded_before: datetime | None = None,
    contacted_before: datetime | None = None,
) -> list[Invitation]:
    """Unused, unexpired invitations of open campaigns (of one campaign, or of all), in a stable order.

    ``reminded_before``: only those never reminded or last reminded at or before it;
    ``contacted_before``: only those whose last contact (last reminder, else the invitation) is at or before it.
    """
    query = (
        select(Invitation)
        .join(Campaign, Campaign.id == Invitation.campaign_id)
        .where(
            Invitation.used_at.is_(None),
            Invitation.expires_at > now,
            or_(Campaign.closes_at.is_(None), Campaign.closes_at > now),
        )
    )
    if campaign_id is not None:
        query = query.where(Invitation.campaign_id == campaign_id)
    if reminded_before is not None:
        query = query.where(or_(Invitation.last_reminded_at.is_(None), Invitation.last_reminded_at <= reminded_before))
    if contacted_before is not None:
        query = query.where(func.coalesce(Invitation.last_reminded_at, Invitation.created_at) <= contacted_before)
    query = query.order_by(Invitation.campaign_id, Invitation.created_at, Invitation.customer_id, Invitation.id)
    return list((await session.scalars(query)).all())


async def campaigns_by_id(session: AsyncSession, ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, Campaign]:
    if not ids:
        return {}
    return {row.id: row for row in await session.scalars(select(Campaign).where(Campaign.id.in_(list(ids))))}


async def responses_of(
    session: AsyncSession,
    *,
    customer_id: uuid.UUID | None = None,
    segment: str | None = None,
    region: str | None = None,
) -> list[SurveyResponse]:
    """Responses of every campaign from one customer, or from the known customers of a segment and/or region."""
    query = select(SurveyResponse)
    if customer_id is not None:
        query = query.where(SurveyResponse.customer_id == customer_id)
    if segment is not None or region is not None:
        query = query.join(KnownCustomer, KnownCustomer.id == SurveyResponse.customer_id)
        if segment is not None:
            query = query.where(KnownCustomer.segment == segment)
        if region is not None:
            query = query.where(KnownCustomer.region == region)
    return list((await session.scalars(query.order_by(SurveyResponse.created_at, SurveyResponse.id))).all())


async def has_response(session: AsyncSession, campaign_id: uuid.UUID, customer_id: uuid.UUID) -> bool:
    """Whether the customer already answered the campaign (one response each)."""
    found = await session.scalar(
        select(SurveyResponse.id)
        .where(SurveyResponse.campaign_id == campaign_id, SurveyResponse.customer_id == customer_id)
        .limit(1)
    )
    return found is not None
