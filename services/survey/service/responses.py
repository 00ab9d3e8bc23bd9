"""Respondents' answers: the token checked and used up, the answer scored and stored."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from services.survey import repository
from services.survey.domain.answers import normalise_answers, validate_answers
from services.survey.domain.invitations import (
    InvalidInvitation,
    InvitationAlreadyUsed,
    InvitationExpired,
    verify_token,
)
from services.survey.domain.scoring import Response, score_response
from services.survey.domain.verdicts import quality_alert_due
from services.survey.models import Campaign, Invitation, SurveyResponse
from services.survey.schemas import (
    ResponseCreate,
    ResponseRead,
)
from services.survey.service.campaigns import (
    WRITE_SCOPE,
    campaign_weights,
    ensure_open,
    get_campaign,
    points_by_dimension,
    weights_to_json,
)
from services.survey.service.invitations import invitation_secret
from services.survey.settings import SurveySettings
from shared.auth import Principal
from shared.errors import Conflict, DomainRuleViolation, Forbidden, Unauthorized
from shared.events.survey import QualityAlert, ResponseSubmitted
from shared.outbox import emit


async def _respondent(
    session: AsyncSession, data: ResponseCreate, principal: Principal | None, settings: SurveySettings, now: datetime
) -> tuple[Campaign, uuid.UUID, Invitation | None]:
    """Who answers: the invitation's customer (token) or the customer staff name (survey:write)."""
    if data.invitation_token is not None:
        claims = verify_token(invitation_secret(settings), data.invitation_token, now)
        invitation = await repository.get_invitation(session, claims.invitation_id)
        if (
            invitation is None
            or invitation.campaign_id != claims.campaign_id
            or invitation.customer_id != claims.customer_id
        ):
            raise InvalidInvitation("the invitation token is not valid")
        mismatched = [
            {"field": f"body.{name}", "message": "differs from the invitation"}
            for name, value in (("campaign_id", data.campaign_id), ("customer_id", data.customer_id))
            if value is not None and value != getattr(claims, name)
        ]
        if mismatched:
            raise DomainRuleViolation("the body contradicts the invitation", errors=mismatched)
        if invitation.used_at is not None:
            raise InvitationAlreadyUsed("this invitation has already been answered")
        if now >= invitation.expires_at:
            # The row decides, not the token's own claim: an invitation cut short stays cut short.
            raise InvitationExpired("this invitation has expired")
        return await get_campaign(session, invitation.campaign_id), invitation.customer_id, invitation
    if principal is None:
        raise Unauthorized(
            "send an invitation_token, or a staff Bearer token with survey:write",
            headers={"WWW-Authenticate": 'Bearer realm="creditflow"'},
        )
    if not principal.has(WRITE_SCOPE):
        raise Forbidden(f"this operation needs the scope {WRITE_SCOPE} (or an invitation_token)")
    missing = [
        {"field": f"body.{name}", "message": "required for staff entry (no invitation_token)"}
        for name in ("campaign_id", "customer_id")
        if getattr(data, name) is None
    ]
    if missing:
        raise DomainRuleViolation("staff entry names the campaign and the customer", errors=missing)
    assert data.campaign_id is not None and data.customer_id is not None
    campaign = await get_campaign(session, data.campaign_id)
    if data.customer_id not in set((await repository.campaign_customer_ids(session, [campaign.id]))[campaign.id]):
        raise DomainRuleViolation(
            "the customer is not in this campaign",
            errors=[{"field": "body.customer_id", "message": "not in the campaign"}],
        )
    return campaign, data.customer_id, None


async def submit_response(
    session: AsyncSession, data: ResponseCreate, principal: Principal | None, settings: SurveySettings, now: datetime
) -> ResponseRead:
    """Score a response, store it, use up the invitation, emit response_submitted (and quality_alert)."""
    campaign, customer_id, invitation = await _respondent(session, data, principal, settings, now)
    ensure_open(campaign, now)
    answers = validate_answers(data.expectations, data.perceptions)
    normalised = normalise_answers(campaign.instrument_version, answers)
    points = points_by_dimension(data.weights, "body.weights")
    score = score_response(Response(answers=normalised, importance_points=points), campaign_weights(campaign))
    response_id = uuid.uuid4()
    if await repository.has_response(session, campaign.id, customer_id):
        raise Conflict(
            "this customer has already answered this campaign",
            errors=[{"field": "body.customer_id", "message": "one response per customer and campaign"}],
        )
    if invitation is not None and not await repository.mark_invitation_used(session, invitation.id, response_id, now):
        raise InvitationAlreadyUsed("this invitation has already been answered")
    alert = quality_alert_due(score.weighted, campaign.alert_threshold)
    row = SurveyResponse(
        id=response_id,
        campaign_id=campaign.id,
        customer_id=customer_id,
        invitation_id=invitation.id if invitation else None,
        instrument_version=campaign.instrument_version,
        expectations=list(answers.expectations),
        perceptions=list(answers.perceptions),
        importance_points=None if points is None else weights_to_json(points),
        dimension_gaps={dimension.value: str(gap) for dimension, gap in score.dimension_gaps.items()},
        unweighted_gap=score.unweighted,
        weighted_gap=score.weighted,
        submitted_by="invitation" if invitation else principal.subject if principal else "unknown",
        created_at=now,
    )
    session.add(row)
    await session.flush()
    await emit(
        session,
        ResponseSubmitted(
            customer_id=customer_id,
            campaign_id=campaign.id,
            response_id=response_id,
            weighted_gap=score.weighted,
            unweighted_gap=score.unweighted,
            dimension_gaps={d.value: gap for d, gap in score.dimension_gaps.items()},
        ),
        at=now,
    )
    if alert:
        await emit(
            session,
            QualityAlert(
                customer_id=customer_id,
                campaign_id=campaign.id,
                response_id=response_id,
                weighted_gap=score.weighted,
                threshold=campaign.alert_threshold,
            ),
            at=now,
        )
    return ResponseRead(
        id=response_id,
        campaign_id=campaign.id,
        customer_id=customer_id,
        invitation_id=row.invitation_id,
        instrument_version=campaign.instrument_version,
        dimension_gaps=score.dimension_gaps,
        unweighted_gap=score.unweighted,
        weighted_gap=score.weighted,
        weights=score.weights,
        own_weights=score.own_weights,
        quality_alert=alert,
        created_at=now,
    )
