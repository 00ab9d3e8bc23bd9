"""Reminders to invitees who have not answered: on request and the scheduled ones due."""

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
    ReminderBatch,
    ReminderRead,
)
from services.survey.service.campaigns import ensure_open
from services.survey.service.invitations import invitation_secret
from services.survey.settings import SurveySettings


def _record_reminders(invitations: list[Invitation], settings: SurveySettings, now: datetime) -> list[ReminderRead]:
    reminded = []
    for invitation in invitations:
        invitation.reminder_count = (invitation.reminder_count or 0) + 1
        invitation.last_reminded_at = now
        reminded.append(
            ReminderRead(
                invitation_id=invitation.id,
                customer_id=invitation.customer_id,
                reminder_number=invitation.reminder_count,
                expires_at=invitation.expires_at,
                token=issue_token(
                    invitation_secret(settings),
                    invitation.id,
                    invitation.campaign_id,
                    invitation.customer_id,
                    invitation.expires_at,
                ),
            )
        )
    return reminded


async def send_reminders(
    session: AsyncSession, campaign: Campaign, min_hours_since_last: int | None, settings: SurveySettings, now: datetime
) -> ReminderBatch:
    """Record a reminder for each unused, unexpired invitation (not reminded within the last N hours)."""
    ensure_open(campaign, now)
    cutoff = None if min_hours_since_last is None else now - timedelta(hours=min_hours_since_last)
    invitations = await repository.remindable_invitations(session, now, campaign_id=campaign.id, reminded_before=cutoff)
    items = _record_reminders(invitations, settings, now)
    await session.flush()
    return ReminderBatch(campaign_id=campaign.id, reminded_at=now, items=items)


async def send_due_reminders(session: AsyncSession, settings: SurveySettings, now: datetime) -> list[ReminderBatch]:
    """The periodic job: remind every open invitation of every open campaign whose last contact (its issue or
    its last reminder) is at least ``reminder_interval_hours`` old."""
    cutoff = now - timedelta(hours=settings.reminder_interval_hours)
    invitations = await repository.remindable_invitations(session, now, contacted_before=cutoff)
    by_campaign: dict[uuid.UUID, list[Invitation]] = {}
    for invitation in invitations:
        by_campaign.setdefault(invitation.campaign_id, []).append(invitation)
    batches = [
        ReminderBatch(campaign_id=campaign_id, reminded_at=now, items=_record_reminders(group, settings, now))
        for campaign_id, group in by_campaign.items()
    ]
    await session.flush()
    return batches
