"""Customer analyses over the sales history: load the figures, apply the pure rules of ``domain``."""

from __future__ import annotations

import uuid
from collections import defaultdict
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession

from services.customers import repository
from services.customers.domain.abc_analysis import AbcCuts, abc_analysis
from services.customers.domain.clv import ClvGroupInput, dwyer_clv, retention_multiple
from services.customers.domain.loyalty import Purchase, loyalty_profile, repeat_purchase_rate
from services.customers.domain.pyramid import PyramidCuts, customer_pyramid
from services.customers.domain.ranking import CustomerRevenue
from services.customers.domain.value_matrix import CustomerValue, ValueMatrixCuts, future_value, value_matrix
from services.customers.schemas.analytics import (
    AbcClassRead,
    AbcEntryRead,
    AbcRead,
    ClvGroupBy,
    ClvGroupRead,
    ClvMeasuredRead,
    ClvRead,
    ClvRequest,
    ClvYearRead,
    LoyaltyEntryRead,
    LoyaltyRead,
    PyramidEntryRead,
    PyramidRead,
    PyramidTierRead,
    ValueMatrixEntryRead,
    ValueMatrixRead,
)
from shared.errors import DomainRuleViolation
from shared.money import to_cents

FOUR_PLACES = Decimal("0.0001")


def check_period(period_from: date, period_to: date) -> None:
    """422 unless the period runs forwards."""
    if period_to < period_from:
        raise DomainRuleViolation(
            "The period ends before it starts", errors=[{"field": "query.to", "message": "must not be before from"}]
        )


async def _revenues(session: AsyncSession, currency: str, period_from: date, period_to: date) -> list[CustomerRevenue]:
    check_period(period_from, period_to)
    by_customer = await repository.revenue_by_customer(
        session, currency=currency, period_from=period_from, period_to=period_to
    )
    return [CustomerRevenue(str(customer_id), revenue) for customer_id, revenue in by_customer.items()]


def _query_fields(error: DomainRuleViolation) -> DomainRuleViolation:
    errors = [{**item, "field": f"query.{item['field']}"} for item in error.errors]
    return DomainRuleViolation(error.detail, errors=errors)


async def pyramid(
    session: AsyncSession,
    *,
    currency: str,
    period_from: date,
    period_to: date,
    top: Decimal,
    major: Decimal,
    ordinary: Decimal,
) -> PyramidRead:
    """The customer pyramid of the period's revenue."""
    try:
        cuts = PyramidCuts(top=top, major=major, ordinary=ordinary)
    except DomainRuleViolation as error:
        raise _query_fields(error) from error
    result = customer_pyramid(await _revenues(session, currency, period_from, period_to), cuts)
    return PyramidRead(
        period_from=period_from,
        period_to=period_to,
        currency=currency,
        cuts={"top": top, "major": major, "ordinary": ordinary},
        total_revenue=result.total_revenue,
        tiers=[
            PyramidTierRead(tier=str(t.tier), customers=t.customers, revenue=t.revenue, share=t.share)
            for t in result.tiers
        ],
        entries=[
            PyramidEntryRead(
                rank=e.rank, customer_id=uuid.UUID(e.customer_id), revenue=e.revenue, share=e.share, tier=str(e.tier)
            )
            for e in result.entries
        ],
    )


async def abc(
    session: AsyncSession, *, currency: str, period_from: date, period_to: date, a_up_to: Decimal, b_up_to: Decimal
) -> AbcRead:
    """The ABC classes of the period's revenue."""
    try:
        cuts = AbcCuts(a_up_to=a_up_to, b_up_to=b_up_to)
    except DomainRuleViolation as error:
        raise _query_fields(error) from error
    result = abc_analysis(await _revenues(session, currency, period_from, period_to), cuts)
    return AbcRead(
        period_from=period_from,
        period_to=period_to,
        currency=currency,
        cuts={"a_up_to": a_up_to, "b_up_to": b_up_to},
        total_revenue=result.total_revenue,
        classes=[
            AbcClassRead(abc_class=str(t.abc_class), customers=t.customers, revenue=t.revenue, share=t.share)
            for t in result.totals
        ],
        entries=[
            AbcEntryRead(
                rank=e.rank,
                customer_id=uuid.UUID(e.customer_id),
                revenue=e.revenue,
                share=e.share,
                cumulative_share=e.cumulative_share,
                abc_class=str(e.abc_class),
            )
            for e in result.entries
        ],
    )


async def value_matrix_of(
    session: AsyncSession,
    *,
    currency: str,
    as_of: date,
    cuts: dict[str, Decimal],
    margin_rate: Decimal,
    growth_rate: Decimal,
    retention_rate: Decimal,
    years: int,
    discount_rate: Decimal,
) -> ValueMatrixRead:
    """Current value = margin of the 12 months to ``as_of``; future value = expected margin of the next years.

    A sale's margin is its recorded margin, or amount × ``margin_rate`` when the source gave none
    (invoices from collections carry no margin).
    """
    try:
        matrix_cuts = ValueMatrixCuts(**cuts)
    except DomainRuleViolation as error:
        raise _query_fields(error) from error
    period_from = as_of - timedelta(days=364)
    margins: dict[uuid.UUID, Decimal] = defaultdict(Decimal)
    for sale in await repository.sales_in(session, currency=currency, period_to=as_of):
        if sale.sold_on >= period_from:
            margins[sale.customer_id] += sale.margin if sale.margin is not None else sale.amount * margin_rate
    try:
        rows = [
            CustomerValue(
                str(customer_id),
                to_cents(margin),
                future_value(margin, growth_rate, retention_rate, years, discount_rate),
            )
            for customer_id, margin in margins.items()
        ]
    except DomainRuleViolation as error:
        raise _query_fields(error) from error
    result = value_matrix(rows, matrix_cuts)
    return ValueMatrixRead(
        period_from=period_from,
        period_to=as_of,
        currency=currency,
        cuts=cuts,
        assumptions={
            "margin_rate": margin_rate,
            "growth_rate": growth_rate,
            "retention_rate": retention_rate,
            "years": years,
            "discount_rate": discount_rate,
        },
        counts={str(value_class): count for value_class, count in result.counts.items()},
        entries=[
            ValueMatrixEntryRead(
                customer_id=uuid.UUID(e.customer_id),
                current_value=e.current_value,
                future_value=e.future_value,
                current_level=str(e.placement.current_level),
                future_level=str(e.placement.future_level),
                value_class=str(e.placement.value_class),
                strategy=e.placement.strategy,
            )
            for e in result.entries
        ],
    )


def clv(request: ClvRequest) -> ClvRead:
    """Dwyer's retention table per group."""
    groups = []
    for index, group in enumerate(request.groups):
        try:
            groups.append(
                _clv_group(
                    group.group,
                    ClvGroupInput(
                        group=group.group,
                        initial_customers=group.initial_customers,
                        revenue_per_customer=group.revenue_per_customer,
                        cost_per_customer=group.cost_per_customer,
                        retention_rate=group.retention_rate,
                        discount_rate=group.discount_rate,
                        horizon_years=group.horizon_years,
                    ),
                )
            )
        except DomainRuleViolation as error:
            errors = [{**item, "field": f"body.groups[{index}].{item['field']}"} for item in error.errors]
            raise DomainRuleViolation(error.detail, errors=errors) from error
    return ClvRead(currency=request.currency, groups=groups)


def _clv_group(name: str, group: ClvGroupInput) -> ClvGroupRead:
    table = dwyer_clv(group)
    rate = group.retention_rate
    multiple = (
        retention_multiple(rate, group.discount_rate).quantize(FOUR_PLACES)
        if isinstance(rate, Decimal) and rate < 1 + group.discount_rate
        else None
    )
    return ClvGroupRead(
        group=name,
        initial_customers=table.initial_customers,
        clv_per_customer=table.clv_per_customer,
        retention_multiple=multiple,
        years=[ClvYearRead(**vars(year)) for year in table.years],
    )


async def measured_clv(
    session: AsyncSession,
    *,
    group_by: str,
    currency: str,
    as_of: date,
    discount_rate: Decimal,
    horizon_years: int,
    margin_rate: Decimal,
) -> ClvMeasuredRead:
    """Dwyer's table per group of registry customers, with the inputs measured from the sales history.

    Per group: this year = the 365 days to ``as_of``, last year = the 365 before. Initial customers are
    this year's buyers; revenue and cost per customer are this year's (cost = amount − margin, or
    amount × (1 − ``margin_rate``) without a recorded margin); retention = share of last year's buyers
    who bought again this year. Groups with no buyer last year have no measurable retention: skipped.
    """
    this_year_from = as_of - timedelta(days=364)
    last_year_from = this_year_from - timedelta(days=365)
    group_of = {c.id: getattr(c, group_by) or "(none)" for c in await repository.all_customers(session)}
    buyers_this: dict[str, set[uuid.UUID]] = defaultdict(set)
    buyers_last: dict[str, set[uuid.UUID]] = defaultdict(set)
    revenue: dict[str, Decimal] = defaultdict(Decimal)
    cost: dict[str, Decimal] = defaultdict(Decimal)
    for sale in await repository.sales_in(session, currency=currency, period_to=as_of):
        group = group_of.get(sale.customer_id)
        if group is None or sale.sold_on < last_year_from:
            continue
        if sale.sold_on < this_year_from:
            buyers_last[group].add(sale.customer_id)
            continue
        buyers_this[group].add(sale.customer_id)
        revenue[group] += sale.amount
        cost[group] += sale.amount - sale.margin if sale.margin is not None else sale.amount * (1 - margin_rate)
    groups, skipped = [], []
    for name in sorted(set(buyers_this) | set(buyers_last)):
        if not buyers_last[name] or not buyers_this[name]:
            skipped.append(name)
            continue
        count = len(buyers_this[name])
        retention = Decimal(len(buyers_last[name] & buyers_this[name])) / len(buyers_last[name])
        inputs = ClvGroupInput(
            group=name,
            initial_customers=count,
            revenue_per_customer=revenue[name] / count,
            cost_per_customer=cost[name] / count,
            retention_rate=retention,
            discount_rate=discount_rate,
            horizon_years=horizon_years,
        )
        read = _clv_group(name, inputs)
        read.measured = {
            "buyers_this_year": count,
            "buyers_last_year": len(buyers_last[name]),
            "retention_rate": str(retention.quantize(FOUR_PLACES)),
            "revenue_per_customer": str(to_cents(revenue[name] / count)),
            "cost_per_customer": str(to_cents(cost[name] / count)),
        }
        groups.append(read)
    return ClvMeasuredRead(
        currency=currency, groups=groups, group_by=ClvGroupBy(group_by), as_of=as_of, skipped=skipped
    )


async def loyalty(
    session: AsyncSession,
    *,
    period_from: date,
    period_to: date,
    currency: str | None,
    customer_id: uuid.UUID | None,
    kind: str | None,
    region: str | None,
) -> LoyaltyRead:
    """Loyalty figures of every matching customer who is past the prospect stage."""
    check_period(period_from, period_to)
    customers = [
        c
        for c in await repository.all_customers(session, kind=kind, region=region, customer_id=customer_id)
        if c.lifecycle != "prospect"
    ]
    purchases: dict[uuid.UUID, list[Purchase]] = defaultdict(list)
    for sale in await repository.sales_in(
        session, currency=currency, period_to=period_to, customer_ids=[c.id for c in customers]
    ):
        purchases[sale.customer_id].append(Purchase(sale.sold_on, sale.amount))
    entries = []
    for customer in customers:
        profile = loyalty_profile(purchases[customer.id], period_from, period_to)
        entries.append(LoyaltyEntryRead(customer_id=customer.id, lifecycle=customer.lifecycle, **vars(profile)))
    return LoyaltyRead(
        period_from=period_from,
        period_to=period_to,
        currency=currency or "*",
        customers=len(entries),
        repeat_purchase_rate=repeat_purchase_rate(entry.purchase_count for entry in entries),
        entries=entries,
    )
