"""Survey campaigns: create (with weights and sample), get, read with counts; open for answers?"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession

from services.survey import repository
from services.survey.domain.instrument import Dimension
from services.survey.domain.invitations import (
    response_rate,
)
from services.survey.domain.verdicts import validate_tolerance
from services.survey.domain.weights import DEFAULT_WEIGHTS, validate_weights
from services.survey.models import Campaign, CampaignCustomer
from services.survey.schemas import (
    CampaignCreate,
    CampaignRead,
)
from shared.errors import Conflict, DomainRuleViolation, NotFound

WRITE_SCOPE = "survey:write"


def weights_to_json(weights: Mapping[Dimension, Decimal]) -> dict[str, str]:
    return {dimension.value: str(points) for dimension, points in weights.items()}


def campaign_weights(campaign: Campaign) -> dict[Dimension, Decimal]:
    return {Dimension(name): Decimal(points) for name, points in campaign.weights.items()}


def points_by_dimension(mapping: Mapping[str, Decimal] | None, field: str) -> dict[Dimension, Decimal] | None:
    return None if mapping is None else validate_weights(dict(mapping), field=field)


async def create_campaign(session: AsyncSession, data: CampaignCreate, actor: str, now: datetime) -> Campaign:
    """A campaign addressed to known customers (listed, or resolved from a segment/region filter)."""
    weights = points_by_dimension(data.weights, "body.weights") or dict(DEFAULT_WEIGHTS)
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
        weights=weights_to_json(weights),
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


def ensure_open(campaign: Campaign, now: datetime) -> None:
    if campaign.closes_at is not None and now >= campaign.closes_at:
        raise Conflict(f"campaign {campaign.id} closed at {campaign.closes_at.isoformat()}")
