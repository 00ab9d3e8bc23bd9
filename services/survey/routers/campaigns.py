"""Survey campaigns: create, list, get, issue invitations, send reminders."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Query, Response

from services.survey import repository
from services.survey.routers.common import Reader, SettingsDep, Writer
from services.survey.schemas import (
    CampaignCreate,
    CampaignRead,
    InvitationBatch,
    InvitationCreate,
    ReminderBatch,
    ReminderCreate,
)
from services.survey.service import campaigns, invitations, reminders
from shared.app import ClockDep, Session
from shared.http import IdempotencyDep, Page, etag, keyset_position, next_keyset_cursor
from shared.openapi import api_router

router = api_router(tags=["survey"])


@router.post(
    "/campaigns",
    status_code=201,
    response_model=CampaignRead,
    summary="Create a survey campaign",
    responses={201: {"headers": {"Location": {"schema": {"type": "string"}}, "ETag": {"schema": {"type": "string"}}}}},
)
async def create_campaign(
    body: CampaignCreate, session: Session, clock: ClockDep, principal: Writer, idempotency: IdempotencyDep
) -> Response:
    """A campaign for customers known from the registry's events: `customer_ids`, or every known customer
    matching `segment` and/or `region`. Weights default to reliability 32, responsiveness 22, assurance 19,
    empathy 16, tangibles 11 and must be the five dimensions summing to 100 (else 422)."""
    now = clock.now()

    async def create() -> CampaignRead:
        campaign = await campaigns.create_campaign(session, body, principal.subject, now)
        return await campaigns.read_campaign(session, campaign)

    return await idempotency.run(session, now, create, location=lambda read: f"/v1/campaigns/{read.id}")  # type: ignore[attr-defined]


@router.get("/campaigns", response_model=Page[CampaignRead], summary="List campaigns")
async def list_campaigns(
    session: Session,
    _principal: Reader,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: Annotated[str | None, Query(max_length=500, description="next_cursor of the previous page")] = None,
) -> Page[CampaignRead]:
    """Campaigns in creation order, with their response rates."""
    rows = await repository.page_campaigns(session, limit=limit + 1, after=keyset_position(cursor))
    items = await campaigns.read_campaigns(session, list(rows[:limit]))
    return Page[CampaignRead](items=items, next_cursor=next_keyset_cursor(list(rows), limit))


@router.get(
    "/campaigns/{campaign_id}",
    response_model=CampaignRead,
    summary="Get a campaign",
    responses={200: {"headers": {"ETag": {"schema": {"type": "string"}}}}},
)
async def get_campaign(
    campaign_id: uuid.UUID, session: Session, _principal: Reader, response: Response
) -> CampaignRead:
    """The campaign, its customers, invitations issued, responses and response rate (used / issued)."""
    campaign = await campaigns.get_campaign(session, campaign_id)
    response.headers["ETag"] = etag(campaign.version)
    return await campaigns.read_campaign(session, campaign)


@router.post(
    "/campaigns/{campaign_id}/invitations",
    status_code=201,
    response_model=InvitationBatch,
    summary="Issue single-use invitation tokens",
)
async def issue_invitations(
    campaign_id: uuid.UUID,
    body: InvitationCreate,
    session: Session,
    clock: ClockDep,
    principal: Writer,
    settings: SettingsDep,
    idempotency: IdempotencyDep,
) -> Response:
    """One invitation per customer (all of the campaign's by default): an HMAC-signed token valid for
    `invitation_ttl_hours` (never past the campaign's `closes_at`). A token answers once (409 after),
    a forged one is 401, an expired one 410. Tokens are not stored (except as the replay of an Idempotency-Key)."""
    now = clock.now()

    async def create() -> InvitationBatch:
        campaign = await campaigns.get_campaign(session, campaign_id)
        items = await invitations.issue_invitations(
            session, campaign, body.customer_ids, settings, principal.subject, now
        )
        return InvitationBatch(campaign_id=campaign.id, items=items)

    return await idempotency.run(session, now, create)


@router.post(
    "/campaigns/{campaign_id}/reminders",
    status_code=201,
    response_model=ReminderBatch,
    summary="Remind the customers who have not answered yet",
)
async def send_reminders(
    campaign_id: uuid.UUID,
    body: ReminderCreate,
    session: Session,
    clock: ClockDep,
    _principal: Writer,
    settings: SettingsDep,
    idempotency: IdempotencyDep,
) -> Response:
    """Records a reminder (count and time) on every invitation still unused and unexpired, optionally only
    on those not reminded within `min_hours_since_last` hours (never-reminded ones always qualify), and
    returns them with their reminder number and their (unchanged) token to send again. An empty list when
    nobody is due. A closed campaign is 409. The periodic reminder job (`reminders_enabled`) does the same
    every `reminder_interval_hours` for all open campaigns."""
    now = clock.now()

    async def create() -> ReminderBatch:
        campaign = await campaigns.get_campaign(session, campaign_id)
        return await reminders.send_reminders(session, campaign, body.min_hours_since_last, settings, now)

    return await idempotency.run(session, now, create)
