"""Invitations: signed, single-use tokens issued to a campaign's customers."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from services.survey import repository
from services.survey.domain.invitations import (
    issue_token,
)
from services.survey.models import Campaign, Invitation
from services.survey.schemas import (
    InvitationRead,
)
from services.survey.service.campaigns import ensure_open
from services.survey.settings import SurveySettings
from shared.errors import DomainRuleViolation


def invitation_secret(settings: SurveySettings) -> bytes:
    return settings.invitation_secret.get_secret_value().encode()


async def issue_invitations(
    session: AsyncSession,
    campaign: Campaign,
    customer_ids: list[uuid.UUID] | None,
    settings: SurveySettings,
    actor: str,
    now: datetime,
) -> list[InvitationRead]:
    """One single-use signed invitation per customer (default: every customer of the campaign)."""
    ensure_open(campaign, now)
    members = (await repository.campaign_customer_ids(session, [campaign.id]))[campaign.id]
    if customer_ids is None:
        targets = members
    else:
        member_set = set(members)
        strangers = [
            {"field": f"body.customer_ids[{index}]", "message": f"customer {customer_id} is not in this campaign"}
            for index, customer_id in enumerate(customer_ids)
            if customer_id not in member_set
        ]
        if strangers:
            raise DomainRuleViolation("invitations only go to the campaign's customers", errors=strangers)
        targets = list(dict.fromkeys(customer_ids))
    expires_at = now + timedelta(hours=settings.invitation_ttl_hours)
    if campaign.closes_at is not None:
        expires_at = min(expires_at, campaign.closes_at)
    issued: list[InvitationRead] = []
    for customer_id in targets:
        invitation = Invitation(
            id=uuid.uuid4(),
            campaign_id=campaign.id,
            customer_id=customer_id,
            expires_at=expires_at,
            created_by=actor,
            created_at=now,
        )
        session.add(invitation)
        token = issue_token(invitation_secret(settings), invitation.id, campaign.id, customer_id, expires_at)
        issued.append(
            InvitationRead(
                id=invitation.id, campaign_id=campaign.id, customer_id=customer_id, token=token, expires_at=expires_at
            )
        )
    await session.flush()
    return issued
