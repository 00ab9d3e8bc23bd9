"""Reports: receivables aging and collection performance."""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from typing import Annotated, Any

from fastapi import Query

from services.collections.domain.periods import Interval, periods
from services.collections.routers.common import Reader, settings_of
from services.collections.schemas.reports import AgingReportRead, PerformanceReportRead, StageFunnelRead
from services.collections.service import reports
from shared.app import ClockDep, RuntimeDep, Session
from shared.errors import BadRequest
from shared.openapi import api_router

router = api_router(tags=["collections"])


@router.get("/reports/aging", response_model=AgingReportRead, summary="Receivables aging")
async def aging_report(
    session: Session,
    clock: ClockDep,
    runtime: RuntimeDep,
    _principal: Reader,
    as_of: date | None = None,
    customer_id: uuid.UUID | None = None,
) -> dict[str, Any]:
    """Buckets current, 1-30, 31-60, 61-90, 91-180, over 180 days, per customer and overall; decimal strings."""
    return await reports.aging(session, as_of or clock.now().date(), customer_id, settings_of(runtime))


@router.get(
    "/reports/performance",
    response_model=PerformanceReportRead,
    summary="Collection performance",
    responses={400: {"description": "`from` is after `to`"}},
)
async def performance_report(
    session: Session,
    clock: ClockDep,
    _principal: Reader,
    date_from: Annotated[date | None, Query(alias="from")] = None,
    date_to: Annotated[date | None, Query(alias="to")] = None,
) -> dict[str, Any]:
    """DSO and collection effectiveness index over the period (default: the last 90 days); the debts placed in
    collection in the period and their recovery rate; the cost per stage and channel of the period's actions."""
    end = date_to or clock.now().date()
    start = date_from or end - timedelta(days=89)
    if start > end:
        raise BadRequest("`from` is after `to`", errors=[{"field": "query.from", "message": "after to"}])
    return await reports.performance(session, start, end)


MAX_PERIODS = 400


@router.get(
    "/reports/stage-funnel",
    response_model=StageFunnelRead,
    summary="Escalation funnel over time",
    responses={400: {"description": "`from` is after `to`, or the period has too many intervals"}},
)
async def stage_funnel(
    session: Session,
    clock: ClockDep,
    _principal: Reader,
    date_from: Annotated[date | None, Query(alias="from", description="default: 11 months before `to`")] = None,
    date_to: Annotated[date | None, Query(alias="to", description="default: today")] = None,
    interval: Interval = Interval.MONTH,
) -> StageFunnelRead:
    """For each period (day, week or calendar month) of [from, to], the open cases per stage at its end,
    derived from case history."""
    end = date_to or clock.now().date()
    start = date_from or _months_before(end, 11)
    if start > end:
        raise BadRequest("`from` is after `to`", errors=[{"field": "query.from", "message": "after to"}])
    if len(periods(start, end, interval)) > MAX_PERIODS:
        raise BadRequest(
            f"more than {MAX_PERIODS} periods: choose a longer interval or a shorter range",
            errors=[{"field": "query.interval", "message": f"more than {MAX_PERIODS} periods"}],
        )
    return await reports.stage_funnel(session, start, end, interval)


def _months_before(day: date, months: int) -> date:
    """The first day of the month ``months`` calendar months before ``day``'s."""
    index = day.year * 12 + day.month - 1 - months
    return date(index // 12, index % 12 + 1, 1)
