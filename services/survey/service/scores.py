"""SERVQUAL scores of a campaign, benchmarks against a segment or region, and trends over time."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.survey import repository
from services.survey.domain.answers import normalise_answers, validate_answers
from services.survey.domain.benchmarking import BenchmarkComparison, benchmark_from_dimension_gaps, compare_scores
from services.survey.domain.instrument import Dimension
from services.survey.domain.scoring import AggregateScore, Response, aggregate_scores
from services.survey.models import Campaign, SurveyResponse
from services.survey.schemas import (
    AlphaRead,
    BenchmarkCreate,
    ComparisonRead,
    ComparisonRowRead,
    DimensionScoreRead,
    ItemScoreRead,
    ScoresRead,
    TrendChangeRead,
    TrendOrder,
    TrendPointRead,
    TrendRead,
)
from services.survey.service.campaigns import campaign_weights
from shared.errors import Conflict, DomainRuleViolation


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
