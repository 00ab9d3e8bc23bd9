"""Reports: receivables aging and collection performance."""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Query

from services.collections.routers.common import Reader, settings_of
from services.collections.service import reports
from shared.app import ClockDep, RuntimeDep, Session
from shared.errors import BadRequest
from shared.problems import PROBLEM_RESPONSES

router = APIRouter(prefix="/v1", tags=["collections"], responses=PROBLEM_RESPONSES)


@router.get("/reports/aging", response_model=dict[str, Any], summary="Receivables aging")
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


@router.get("/reports/performance", response_model=dict[str, Any], summary="Collection performance")
async def performance_report(
    session: Session,
    clock: ClockDep,
    _principal: Reader,
    date_from: Annotated[date | None, Query(alias="from")] = None,
    date_to: Annotated[date | None, Query(alias="to")] = None,
) -> dict[str, Any]:
    """DSO and collection effectiveness index over the period (default: the last 90 days), recovery rate of
    the debts placed in collection, and cost per stage and channel."""
    end = date_to or clock.now().date()
    start = date_from or end - timedelta(days=89)
    if start > end:
        raise BadRequest("`from` is after `to`", errors=[{"field": "query.from", "message": "after to"}])
    return await reports.performance(session, start, end)
