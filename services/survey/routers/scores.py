"""SERVQUAL scores of a campaign, benchmarks and the score trend."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Query

from services.survey.routers.common import ROUNDING, Reader
from services.survey.schemas import (
    BenchmarkCreate,
    ScoresRead,
    TrendOrder,
    TrendRead,
)
from services.survey.service import campaigns, scores
from shared.app import Session
from shared.openapi import api_router

router = api_router(tags=["survey"])


@router.get(
    "/campaigns/{campaign_id}/scores",
    response_model=ScoresRead,
    summary="SERVQUAL gap scores",
    description=(
        "Per item and per dimension mean E, mean P and gap (P − E); unweighted SERVQUAL (mean of the five "
        "dimension gaps); weighted SERVQUAL (mean over respondents of Σ weight × dimension gap / 100, "
        "each respondent's own points where given, else the campaign's weights); verdicts "
        "(quality_surprise above +tolerance, satisfactory within ±tolerance, unacceptable below "
        "−tolerance; overall on the weighted score); Cronbach's alpha per dimension for E, P and gaps "
        "(null when undefined). Narrow to one `customer_id`, `segment` or `region`; `compare_with` "
        "another campaign for benchmarking (difference = this − other). " + ROUNDING
    ),
)
async def get_campaign_scores(
    campaign_id: uuid.UUID,
    session: Session,
    _principal: Reader,
    customer_id: uuid.UUID | None = None,
    segment: Annotated[str | None, Query(min_length=1, max_length=20)] = None,
    region: Annotated[str | None, Query(min_length=1, max_length=100)] = None,
    compare_with: Annotated[uuid.UUID | None, Query(description="another campaign to benchmark against")] = None,
) -> ScoresRead:
    campaign = await campaigns.get_campaign(session, campaign_id)
    read, _ = await scores.scores(
        session, campaign, customer_id=customer_id, segment=segment, region=region, compare_with=compare_with
    )
    return read


@router.post(
    "/campaigns/{campaign_id}/benchmark",
    response_model=ScoresRead,
    summary="Compare a campaign with entered benchmark scores (标杆管理)",
    description=(
        "The campaign's scores with a comparison against entered dimension gaps (e.g. a "
        "competitor's published SERVQUAL scores); the benchmark's weighted score uses the "
        "campaign's weights. Nothing is stored. " + ROUNDING
    ),
)
async def benchmark_campaign(
    campaign_id: uuid.UUID, body: BenchmarkCreate, session: Session, _principal: Reader
) -> ScoresRead:
    campaign = await campaigns.get_campaign(session, campaign_id)
    return await scores.benchmark(session, campaign, body)


@router.get(
    "/scores/trend",
    response_model=TrendRead,
    summary="SERVQUAL scores over time",
    description=(
        "One point per campaign with responses from the `customer_id` (or from the known customers of "
        "`segment` and/or `region`), ordered by the campaign's `created_at` (default) or `closes_at` "
        "(campaigns without one last): respondents, unweighted and weighted SERVQUAL, verdict, the five "
        "dimension gaps, and `change` = this point − the previous one (null for the first; positive = "
        "better). Give `customer_id` or `segment`/`region` (not both; one of them is required, else 422). " + ROUNDING
    ),
)
async def get_score_trend(
    session: Session,
    _principal: Reader,
    customer_id: uuid.UUID | None = None,
    segment: Annotated[str | None, Query(min_length=1, max_length=20)] = None,
    region: Annotated[str | None, Query(min_length=1, max_length=100)] = None,
    order_by: Annotated[TrendOrder, Query(description="order the campaigns by created_at or closes_at")] = "created_at",
) -> TrendRead:
    return await scores.trend(session, customer_id=customer_id, segment=segment, region=region, order_by=order_by)
