"""Use cases of the survey service: load, apply the domain rule, save, add the event to the outbox."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.survey import repository
from services.survey.domain.answers import normalise_answers, validate_answers
from services.survey.domain.benchmarking import BenchmarkComparison, benchmark_from_dimension_gaps, compare_scores
from services.survey.domain.instrument import Dimension
from services.survey.domain.invitations import (
    InvalidInvitation,
    InvitationAlreadyUsed,
    InvitationExpired,
    issue_token,
    response_rate,
    verify_token,
)
from services.survey.domain.scoring import AggregateScore, Response, aggregate_scores, score_response
from services.survey.domain.verdicts import quality_alert_due, validate_tolerance
from services.survey.domain.weights import DEFAULT_WEIGHTS, validate_weights
from services.survey.models import Campaign, CampaignCustomer, Invitation, SurveyResponse
from services.survey.schemas import (
    AlphaRead,
    BenchmarkCreate,
    CampaignCreate,
    CampaignRead,
    ComparisonRead,
    ComparisonRowRead,
    DimensionScoreRead,
    InvitationRead,
    ItemScoreRead,
    ReminderBatch,
    ReminderRead,
    ResponseCreate,
    ResponseRead,
    ScoresRead,
    TrendChangeRead,
    TrendOrder,
    TrendPointRead,
    TrendRead,
)
from services.survey.settings import SurveySettings
from shared.auth import Principal
from shared.errors import Conflict, DomainRuleViolation, Forbidden, NotFound, Unauthorized
from shared.events.survey import QualityAlert, ResponseSubmitted
from shared.outbox import emit

WRITE_SCOPE = "survey:write"


def _weights_to_json(weights: Mapping[Dimension, Decimal]) -> dict[str, str]:
    return {dimension.value: str(points) for dimension, points in weights.items()}


def campaign_weights(campaign: Campaign) -> dict[Dimension, Decimal]:
    return {Dimension(name): Decimal(points) for name, points in campaign.weights.items()}


def _points(mapping: Mapping[str, Decimal] | None, field: str) -> dict[Dimension, Decimal] | None:
    return None if mapping is None else validate_weights(dict(mapping), field=field)


# --- campaigns --------------------------------------------------------------------------------


async def create_campaign(session: AsyncSession, data: CampaignCreate, actor: str, now: datetime) -> Campaign:
    """A campaign addressed to known customers (listed, or resolved from a segment/region filter)."""
    weights = _points(data.weights, "body.weights") or dict(DEFAULT_WEIGHTS)
    tolerance = validate_tolerance(data.tolerance, field="body.tolerance")
    if data.closes_at is not None and data.closes_at <= now:
        raise DomainRuleViolation(
            "the campaign would be closed already",
            errors=[{"field": "body.closes_at", "message": "must be in the future"}],
        )
    has_filter = data.segment is not None or data.region is not None
    if data.customer_ids is not None and has_filter:
        raise DomainRuleViolation(
            "give customer_ids or a segment/region filter, not both",
            errors=[{"field": "body.customer_ids", "message": "not with segment/region"}],
        )
    if data.customer_ids is not None:
        customer_ids = list(dict.fromkeys(data.customer_ids))
        known = await repository.known_customers(session, customer_ids)
        unknown = [
            {
                "field": f"body.customer_ids[{index}]",
                "message": f"customer {customer_id} is not known from the registry",
            }
            for index, customer_id in enumerate(data.customer_ids)
            if customer_id not in known
        ]
        if unknown:
            raise DomainRuleViolation("the campaign names customers the registry has not announced", errors=unknown)
    elif has_filter:
        customer_ids = await repository.matching_customers(session, data.segment, data.region)
        if not customer_ids:
            raise DomainRuleViolation(
                "no known customer matches the segment/region filter",
                errors=[
                    {"field": "body.segment" if data.segment else "body.region", "message": "matches no known customer"}
                ],
            )
    else:
        raise DomainRuleViolation(
            "a campaign needs customer_ids or a segment/region filter",
            errors=[{"field": "body.customer_ids", "message": "required without a filter"}],
        )
    campaign = Campaign(
        id=uuid.uuid4(),
        name=data.name,
        instrument_version=data.instrument_version.value,
        weights=_weights_to_json(weights),
        tolerance=tolerance,
        alert_threshold=data.alert_threshold,
        segment_filter=data.segment,
        region_filter=data.region,
        closes_at=data.closes_at,
        created_by=actor,
        version=1,
        created_at=now,
        updated_at=now,
    )
    session.add(campaign)
    await session.flush()
    session.add_all(
        [CampaignCustomer(campaign_id=campaign.id, customer_id=customer_id) for customer_id in customer_ids]
    )
    await session.flush()
    return campaign


async def get_campaign(session: AsyncSession, campaign_id: uuid.UUID) -> Campaign:
    campaign = await repository.get_campaign(session, campaign_id)
    if campaign is None:
        raise NotFound(f"no campaign {campaign_id}")
    return campaign


async def read_campaigns(session: AsyncSession, campaigns: list[Campaign]) -> list[CampaignRead]:
    """Campaigns with their counts and customers: three queries for the whole list, not three per campaign."""
    ids = [campaign.id for campaign in campaigns]
    counts = await repository.counts(session, ids)
    customers = await repository.campaign_customer_ids(session, ids)
    reads = []
    for campaign in campaigns:
        count = counts[campaign.id]
        invitations, used, responses = count.invitations, count.used, count.responses
        reads.append(
            CampaignRead(
                id=campaign.id,
                name=campaign.name,
                instrument_version=campaign.instrument_version,
                weights=campaign_weights(campaign),
                tolerance=campaign.tolerance,
                alert_threshold=campaign.alert_threshold,
                segment=campaign.segment_filter,
                region=campaign.region_filter,
                closes_at=campaign.closes_at,
                customer_ids=customers[campaign.id],
                invitations=invitations,
                responses=responses,
                invited_responses=used,
                response_rate=response_rate(used, invitations),
                reminders=count.reminders,
                last_reminded_at=count.last_reminded_at,
                created_by=campaign.created_by,
                version=campaign.version,
                created_at=campaign.created_at,
                updated_at=campaign.updated_at,
            )
        )
    return reads


async def read_campaign(session: AsyncSession, campaign: Campaign) -> CampaignRead:
    return (await read_campaigns(session, [campaign]))[0]


def _ensure_open(campaign: Campaign, now: datetime) -> None:
    if campaign.closes_at is not None and now >= campaign.closes_at:
        raise Conflict(f"campaign {campaign.id} closed at {campaign.closes_at.isoformat()}")


# --- invitations ------------------------------------------------------------------------------


def _secret(settings: SurveySettings) -> bytes:
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
    _ensure_open(campaign, now)
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
        token = issue_token(_secret(settings), invitation.id, campaign.id, customer_id, expires_at)
        issued.append(
            InvitationRead(
                id=invitation.id, campaign_id=campaign.id, customer_id=customer_id, token=token, expires_at=expires_at
            )
        )
    await session.flush()
    return issued


# --- reminders --------------------------------------------------------------------------------


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
                    _secret(settings),
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
    _ensure_open(campaign, now)
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


# --- responses --------------------------------------------------------------------------------


async def _respondent(
    session: AsyncSession, data: ResponseCreate, principal: Principal | None, settings: SurveySettings, now: datetime
) -> tuple[Campaign, uuid.UUID, Invitation | None]:
    """Who answers: the invitation's customer (token) or the customer staff name (survey:write)."""
    if data.invitation_token is not None:
        claims = verify_token(_secret(settings), data.invitation_token, now)
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
    _ensure_open(campaign, now)
    answers = validate_answers(data.expectations, data.perceptions)
    normalised = normalise_answers(campaign.instrument_version, answers)
    points = _points(data.weights, "body.weights")
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
        importance_points=None if points is None else _weights_to_json(points),
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


# --- scores -----------------------------------------------------------------------------------


def _as_response(row: SurveyResponse) -> Response:
    answers = normalise_answers(row.instrument_version, validate_answers(row.expectations, row.perceptions))
    points = (
        None
        if row.importance_points is None
        else {Dimension(name): Decimal(value) for name, value in row.importance_points.items()}
    )
    return Response(answers=answers, importance_points=points)


async def _aggregate(session: AsyncSession, campaign: Campaign, **filters: Any) -> AggregateScore | None:
    rows = await repository.responses(session, campaign.id, **filters)
    return aggregate_scores([_as_response(row) for row in rows], campaign_weights(campaign), campaign.tolerance)


def _row(comparison: Any) -> ComparisonRowRead:
    return ComparisonRowRead(
        subject=comparison.subject, benchmark=comparison.benchmark, difference=comparison.difference
    )


def _comparison(label: str, comparison: BenchmarkComparison) -> ComparisonRead:
    return ComparisonRead(
        benchmark=label,
        dimensions={d: _row(row) for d, row in comparison.dimensions.items()},
        unweighted=_row(comparison.unweighted),
        weighted=None if comparison.weighted is None else _row(comparison.weighted),
    )


async def scores(
    session: AsyncSession,
    campaign: Campaign,
    *,
    customer_id: uuid.UUID | None = None,
    segment: str | None = None,
    region: str | None = None,
    compare_with: uuid.UUID | None = None,
) -> tuple[ScoresRead, AggregateScore | None]:
    aggregate = await _aggregate(session, campaign, customer_id=customer_id, segment=segment, region=region)
    weights = campaign_weights(campaign)
    read = ScoresRead(
        campaign_id=campaign.id,
        customer_id=customer_id,
        segment=segment,
        region=region,
        respondents=aggregate.respondents if aggregate else 0,
        tolerance=campaign.tolerance,
        unweighted_servqual=aggregate.unweighted if aggregate else None,
        weighted_servqual=aggregate.weighted if aggregate else None,
        verdict=aggregate.verdict if aggregate else None,
        dimensions={}
        if aggregate is None
        else {
            dimension: DimensionScoreRead(
                mean_expectation=score.mean_expectation,
                mean_perception=score.mean_perception,
                gap=score.gap,
                verdict=score.verdict,
                weight=weights[dimension],
                cronbach_alpha=AlphaRead(
                    expectation=score.alpha.expectation, perception=score.alpha.perception, gap=score.alpha.gap
                ),
            )
            for dimension, score in aggregate.dimensions.items()
        },
        items=[]
        if aggregate is None
        else [
            ItemScoreRead(
                number=item.number,
                dimension=item.dimension,
                mean_expectation=item.mean_expectation,
                mean_perception=item.mean_perception,
                gap=item.gap,
            )
            for item in aggregate.items
        ],
    )
    if compare_with is not None:
        other = await repository.get_campaign(session, compare_with)
        if other is None:
            raise DomainRuleViolation(
                f"no campaign {compare_with} to compare with",
                errors=[{"field": "query.compare_with", "message": "unknown campaign"}],
            )
        benchmark = await _aggregate(session, other)
        if aggregate is None or benchmark is None:
            raise Conflict(
                "both campaigns need responses to be compared",
                errors=[{"field": "query.compare_with", "message": "a side has no responses"}],
            )
        read.comparison = _comparison(str(compare_with), compare_scores(aggregate, benchmark))
    return read, aggregate


async def benchmark(session: AsyncSession, campaign: Campaign, data: BenchmarkCreate) -> ScoresRead:
    """The campaign's scores compared with entered benchmark dimension gaps (标杆管理)."""
    entered = benchmark_from_dimension_gaps(
        dict(data.dimension_gaps), weights=campaign_weights(campaign), field="body.dimension_gaps"
    )
    read, aggregate = await scores(session, campaign)
    if aggregate is None:
        raise Conflict("the campaign has no responses to compare yet")
    read.comparison = _comparison(data.label, compare_scores(aggregate, entered))
    return read


# --- scores over time ------------------------------------------------------------------------


def _trend_key(order_by: TrendOrder) -> Any:
    def key(campaign: Campaign) -> tuple[Any, ...]:
        if order_by == "closes_at":  # still-open campaigns (no closes_at) last
            return (
                campaign.closes_at is None,
                campaign.closes_at or campaign.created_at,
                campaign.created_at,
                str(campaign.id),
            )
        return (campaign.created_at, str(campaign.id))

    return key


async def trend(
    session: AsyncSession,
    *,
    customer_id: uuid.UUID | None,
    segment: str | None,
    region: str | None,
    order_by: TrendOrder = "created_at",
) -> TrendRead:
    """Per campaign with responses from the customer (or segment/region): its scores and the change from the
    previous campaign. Two queries whatever the number of campaigns."""
    if customer_id is None and segment is None and region is None:
        raise DomainRuleViolation(
            "say whose scores: customer_id, or segment and/or region",
            errors=[{"field": "query.customer_id", "message": "or segment/region, required"}],
        )
    if customer_id is not None and (segment is not None or region is not None):
        raise DomainRuleViolation(
            "give customer_id or segment/region, not both",
            errors=[{"field": "query.customer_id", "message": "not with segment/region"}],
        )
    rows = await repository.responses_of(session, customer_id=customer_id, segment=segment, region=region)
    by_campaign: dict[uuid.UUID, list[SurveyResponse]] = {}
    for row in rows:
        by_campaign.setdefault(row.campaign_id, []).append(row)
    campaigns = await repository.campaigns_by_id(session, list(by_campaign))
    points: list[TrendPointRead] = []
    previous: TrendPointRead | None = None
    for campaign in sorted(campaigns.values(), key=_trend_key(order_by)):
        aggregate = aggregate_scores(
            [_as_response(row) for row in by_campaign[campaign.id]], campaign_weights(campaign), campaign.tolerance
        )
        assert aggregate is not None  # every campaign here has responses
        gaps = aggregate.dimension_gaps
        change = (
            None
            if previous is None
            else TrendChangeRead(
                unweighted_servqual=aggregate.unweighted - previous.unweighted_servqual,
                weighted_servqual=aggregate.weighted - previous.weighted_servqual,
                dimension_gaps={d: gaps[d] - previous.dimension_gaps[d] for d in Dimension},
            )
        )
        point = TrendPointRead(
            campaign_id=campaign.id,
            campaign_name=campaign.name,
            campaign_created_at=campaign.created_at,
            closes_at=campaign.closes_at,
            respondents=aggregate.respondents,
            unweighted_servqual=aggregate.unweighted,
            weighted_servqual=aggregate.weighted,
            verdict=aggregate.verdict,
            dimension_gaps=gaps,
            change=change,
        )
        points.append(point)
        previous = point
    return TrendRead(customer_id=customer_id, segment=segment, region=region, order_by=order_by, points=points)
