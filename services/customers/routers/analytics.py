"""HTTP API of the customer analyses of product.md section 3."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Annotated

from fastapi import Query, Request

from services.customers import analytics, service
from services.customers.domain.customer import CustomerKind
from services.customers.routers.common import Admin, Reader
from services.customers.schemas.analytics import (
    AbcRead,
    ClvGroupBy,
    ClvMeasuredRead,
    ClvRead,
    ClvRequest,
    LapseSweep,
    LapseSweepResult,
    LoyaltyRead,
    PyramidRead,
    ValueMatrixRead,
)
from services.customers.settings import CustomersSettings
from shared.app import ClockDep, Session
from shared.currency import is_currency
from shared.errors import DomainRuleViolation
from shared.inputs import BusinessDate
from shared.openapi import api_router

router = api_router(tags=["analytics"], prefix="/v1/analytics")

CurrencyQuery = Annotated[
    str | None,
    Query(
        min_length=3,
        max_length=3,
        pattern="^[A-Z]{3}$",
        description="ISO 4217; default: the service's default currency",
    ),
]
PeriodFrom = Annotated[BusinessDate, Query(alias="from", description="first day of the period (inclusive)")]
PeriodTo = Annotated[BusinessDate, Query(alias="to", description="last day of the period (inclusive)")]
Cut = Annotated[Decimal, Query(gt=0, le=1, max_digits=9, decimal_places=6)]
Amount = Annotated[Decimal | None, Query(gt=0, max_digits=18, decimal_places=2)]


def _settings(request: Request) -> CustomersSettings:
    settings: CustomersSettings = request.app.state.settings
    return settings


def _currency(value: str | None, request: Request) -> str:
    currency = value or _settings(request).default_currency
    if not is_currency(currency):
        raise DomainRuleViolation(
            "Unknown currency",
            errors=[{"field": "query.currency", "message": f"not a known ISO 4217 code: {currency}"}],
        )
    return currency


@router.get("/pyramid", response_model=PyramidRead, summary="Customer pyramid")
async def get_customer_pyramid(
    request: Request,
    session: Session,
    _principal: Reader,
    period_from: PeriodFrom,
    period_to: PeriodTo,
    currency: CurrencyQuery = None,
    top: Annotated[Decimal, Cut] = Decimal("0.01"),
    major: Annotated[Decimal, Cut] = Decimal("0.04"),
    ordinary: Annotated[Decimal, Cut] = Decimal("0.15"),
) -> PyramidRead:
    """Customers ranked by the period's revenue: top (first 1 %), major (next 4 %), ordinary (next 15 %),
    small (the rest); cut points are fractions of the customer count."""
    return await analytics.pyramid(
        session,
        currency=_currency(currency, request),
        period_from=period_from,
        period_to=period_to,
        top=top,
        major=major,
        ordinary=ordinary,
    )


@router.get("/abc", response_model=AbcRead, summary="ABC analysis")
async def get_abc_analysis(
    request: Request,
    session: Session,
    _principal: Reader,
    period_from: PeriodFrom,
    period_to: PeriodTo,
    currency: CurrencyQuery = None,
    a_up_to: Annotated[Decimal, Cut] = Decimal("0.80"),
    b_up_to: Annotated[Decimal, Cut] = Decimal("0.95"),
) -> AbcRead:
    """Customers by cumulative share of the period's revenue: A up to 80 %, B up to 95 %, C the rest."""
    return await analytics.abc(
        session,
        currency=_currency(currency, request),
        period_from=period_from,
        period_to=period_to,
        a_up_to=a_up_to,
        b_up_to=b_up_to,
    )


@router.get("/value-matrix", response_model=ValueMatrixRead, summary="Customer value matrix")
async def get_value_matrix(
    request: Request,
    session: Session,
    clock: ClockDep,
    _principal: Reader,
    currency: CurrencyQuery = None,
    as_of: Annotated[BusinessDate | None, Query(description="end of the 12 months measured; default today")] = None,
    current_high_from: Amount = None,
    future_high_from: Amount = None,
    future_medium_from: Amount = None,
    margin_rate: Annotated[Decimal | None, Query(ge=0, le=1, description="margin of sales without one")] = None,
    growth_rate: Annotated[Decimal, Query(gt=-1, le=10, description="yearly margin growth")] = Decimal("0"),
    retention_rate: Annotated[Decimal, Query(ge=0, le=1)] = Decimal("0.8"),
    years: Annotated[int, Query(ge=1, le=100, description="future years counted")] = 3,
    discount_rate: Annotated[Decimal, Query(ge=0, le=10)] = Decimal("0"),
) -> ValueMatrixRead:
    """Current value (12 months' margin) × future value (expected margin from growth and retention) →
    classes A–F. Cut points are money in the currency: give them here or set the service's defaults."""
    settings = _settings(request)
    cuts = {
        "current_high_from": current_high_from or settings.value_matrix_current_high_from,
        "future_high_from": future_high_from or settings.value_matrix_future_high_from,
        "future_medium_from": future_medium_from or settings.value_matrix_future_medium_from,
    }
    missing = [
        {"field": f"query.{name}", "message": "required (no default is configured)"}
        for name, value in cuts.items()
        if value is None
    ]
    if missing:
        raise DomainRuleViolation("The value matrix needs its cut points", errors=missing)
    return await analytics.value_matrix_of(
        session,
        currency=_currency(currency, request),
        as_of=as_of or clock.now().date(),
        cuts={name: Decimal(value) for name, value in cuts.items() if value is not None},
        margin_rate=settings.value_matrix_margin_rate if margin_rate is None else margin_rate,
        growth_rate=growth_rate,
        retention_rate=retention_rate,
        years=years,
        discount_rate=discount_rate,
    )


@router.post("/clv", response_model=ClvRead, summary="Customer lifetime value (Dwyer)")
async def calculate_clv(body: ClvRequest, _principal: Reader) -> ClvRead:
    """Dwyer's retention model per customer group: each year's customers, revenue, cost, profit and NPV,
    and the cumulative CLV per initial customer. A calculation: nothing is stored."""
    return analytics.clv(body)


@router.get("/clv", response_model=ClvMeasuredRead, summary="Customer lifetime value of registry groups")
async def get_measured_clv(
    request: Request,
    session: Session,
    clock: ClockDep,
    _principal: Reader,
    group_by: Annotated[ClvGroupBy, Query(description="the customer attribute that forms the groups")],
    currency: CurrencyQuery = None,
    as_of: Annotated[BusinessDate | None, Query(description="end of the measured year; default today")] = None,
    discount_rate: Annotated[Decimal, Query(ge=0, le=10)] = Decimal("0.1"),
    horizon_years: Annotated[int, Query(ge=1, le=100)] = 5,
    margin_rate: Annotated[Decimal | None, Query(ge=0, le=1, description="margin of sales without one")] = None,
) -> ClvMeasuredRead:
    """Dwyer's table per group of registry customers (by kind, region, ...), with this year's buyers, revenue
    and cost per customer and last year → this year retention measured from the sales history."""
    settings = _settings(request)
    return await analytics.measured_clv(
        session,
        group_by=str(group_by),
        currency=_currency(currency, request),
        as_of=as_of or clock.now().date(),
        discount_rate=discount_rate,
        horizon_years=horizon_years,
        margin_rate=settings.value_matrix_margin_rate if margin_rate is None else margin_rate,
    )


@router.get("/loyalty", response_model=LoyaltyRead, summary="Loyalty figures")
async def get_loyalty(
    request: Request,
    session: Session,
    _principal: Reader,
    period_from: PeriodFrom,
    period_to: PeriodTo,
    currency: CurrencyQuery = None,
    customer_id: uuid.UUID | None = None,
    kind: CustomerKind | None = None,
    region: Annotated[str | None, Query(max_length=100)] = None,
) -> LoyaltyRead:
    """Per customer (past the prospect stage): purchases in the period, frequency per year, days since the
    last purchase (at the period's end); and the group's repeat-purchase rate."""
    return await analytics.loyalty(
        session,
        period_from=period_from,
        period_to=period_to,
        currency=_currency(currency, request),
        customer_id=customer_id,
        kind=kind,
        region=region,
    )


@router.post("/lapse-sweep", response_model=LapseSweepResult, summary="Detect lapsed customers")
async def run_lapse_sweep(body: LapseSweep, session: Session, clock: ClockDep, _principal: Admin) -> LapseSweepResult:
    """Move every active customer whose last purchase is more than `days` days before `as_of` to `lapsed`
    (admin); each emits `customer_updated`. Customers without any purchase are not judged."""
    lapsed = await service.sweep_lapsed(session, body.as_of, body.days, clock.now())
    return LapseSweepResult(as_of=body.as_of, days=body.days, lapsed=lapsed)
