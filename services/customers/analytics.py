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
from services.customers.schemas import (
    AbcClassRead,
    AbcEntryRead,
    AbcRead,
    ClvGroupRead,
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

FOUR_PLACES = Decimal("0.0001")


def check_period(period_from: date, period_to: date) -> None:
    """422 unless the period runs forwards."""
    if period_to < period_from:
        raise DomainRuleViolation("The period ends before it starts",
                                  errors=[{"field": "query.to", "message": "must not be before from"}])


async def _revenues(session: AsyncSession, currency: str, period_from: date, period_to: date) -> list[CustomerRevenue]:
    check_period(period_from, period_to)
    by_customer = await repository.revenue_by_customer(session, currency=currency, period_from=period_from,
                                                       period_to=period_to)
    return [CustomerRevenue(str(customer_id), revenue) for customer_id, revenue in by_customer.items()]


def _query_fields(error: DomainRuleViolation) -> DomainRuleViolation:
    errors = [{**item, "field": f"query.{item['field']}"} for item in error.errors]
    return DomainRuleViolation(error.detail, errors=errors)


async def pyramid(session: AsyncSession, *, currency: str, period_from: date, period_to: date, top: Decimal,
                  major: Decimal, ordinary: Decimal) -> PyramidRead:
    """The customer pyramid of the period's revenue."""
    try:
        cuts = PyramidCuts(top=top, major=major, ordinary=ordinary)
    except DomainRuleViolation as error:
        raise _query_fields(error) from error
    result = customer_pyramid(await _revenues(session, currency, period_from, period_to), cuts)
    return PyramidRead(
        period_from=period_from, period_to=period_to, currency=currency,
        cuts={"top": top, "major": major, "ordinary": ordinary}, total_revenue=result.total_revenue,
        tiers=[PyramidTierRead(tier=str(t.tier), customers=t.customers, revenue=t.revenue, share=t.share)
               for t in result.tiers],
        entries=[PyramidEntryRead(rank=e.rank, customer_id=uuid.UUID(e.customer_id), revenue=e.revenue,
                                  share=e.share, tier=str(e.tier)) for e in result.entries])


async def abc(session: AsyncSession, *, currency: str, period_from: date, period_to: date, a_up_to: Decimal,
              b_up_to: Decimal) -> AbcRead:
    """The ABC classes of the period's revenue."""
    try:
        cuts = AbcCuts(a_up_to=a_up_to, b_up_to=b_up_to)
    except DomainRuleViolation as error:
        raise _query_fields(error) from error
    result = abc_analysis(await _revenues(session, currency, period_from, period_to), cuts)
    return AbcRead(
        period_from=period_from, period_to=period_to, currency=currency,
        cuts={"a_up_to": a_up_to, "b_up_to": b_up_to}, total_revenue=result.total_revenue,
        classes=[AbcClassRead(abc_class=str(t.abc_class), customers=t.customers, revenue=t.revenue, share=t.share)
                 for t in result.totals],
        entries=[AbcEntryRead(rank=e.rank, customer_id=uuid.UUID(e.customer_id), revenue=e.revenue, share=e.share,
                              cumulative_share=e.cumulative_share, abc_class=str(e.abc_class))
                 for e in result.entries])


async def value_matrix_of(session: AsyncSession, *, currency: str, as_of: date, cuts: dict[str, Decimal],
                          margin_rate: Decimal, growth_rate: Decimal, retention_rate: Decimal, years: int,
                          discount_rate: Decimal) -> ValueMatrixRead:
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
        rows = [CustomerValue(str(customer_id), margin.quantize(Decimal("0.01")),
                              future_value(margin, growth_rate, retention_rate, years, discount_rate))
                for customer_id, margin in margins.items()]
    except DomainRuleViolation as error:
        raise _query_fields(error) from error
    result = value_matrix(rows, matrix_cuts)
    return ValueMatrixRead(
        period_from=period_from, period_to=as_of, currency=currency, cuts=cuts,
        assumptions={"margin_rate": margin_rate, "growth_rate": growth_rate, "retention_rate": retention_rate,
                     "years": years, "discount_rate": discount_rate},
        counts={str(value_class): count for value_class, count in result.counts.items()},
        entries=[ValueMatrixEntryRead(
            customer_id=uuid.UUID(e.customer_id), current_value=e.current_value, future_value=e.future_value,
            current_level=str(e.placement.current_level), future_level=str(e.placement.future_level),
            value_class=str(e.placement.value_class), strategy=e.placement.strategy) for e in result.entries])


def clv(request: ClvRequest) -> ClvRead:
    """Dwyer's retention table per group."""
    groups = []
    for index, group in enumerate(request.groups):
        try:
            table = dwyer_clv(ClvGroupInput(
                group=group.group, initial_customers=group.initial_customers,
                revenue_per_customer=group.revenue_per_customer, cost_per_customer=group.cost_per_customer,
                retention_rate=group.retention_rate, discount_rate=group.discount_rate,
                horizon_years=group.horizon_years))
            multiple = (retention_multiple(group.retention_rate, group.discount_rate).quantize(FOUR_PLACES)
                        if isinstance(group.retention_rate, Decimal) and group.retention_rate < 1 + group.discount_rate
                        else None)
        except DomainRuleViolation as error:
            errors = [{**item, "field": f"body.groups[{index}].{item['field']}"} for item in error.errors]
            raise DomainRuleViolation(error.detail, errors=errors) from error
        groups.append(ClvGroupRead(
            group=table.group, initial_customers=table.initial_customers, clv_per_customer=table.clv_per_customer,
            retention_multiple=multiple,
            years=[ClvYearRead(**vars(year)) for year in table.years]))
    return ClvRead(currency=request.currency, groups=groups)


async def loyalty(session: AsyncSession, *, period_from: date, period_to: date, currency: str | None,
                  customer_id: uuid.UUID | None, kind: str | None, region: str | None) -> LoyaltyRead:
    """Loyalty figures of every matching customer who is past the prospect stage."""
    check_period(period_from, period_to)
    customers = [c for c in await repository.all_customers(session, kind=kind, region=region,
                                                            customer_id=customer_id)
                 if c.lifecycle != "prospect"]
    purchases: dict[uuid.UUID, list[Purchase]] = defaultdict(list)
    for sale in await repository.sales_in(session, currency=currency, period_to=period_to,
                                          customer_ids=[c.id for c in customers]):
        purchases[sale.customer_id].append(Purchase(sale.sold_on, sale.amount))
    entries = []
    for customer in customers:
        profile = loyalty_profile(purchases[customer.id], period_from, period_to)
        entries.append(LoyaltyEntryRead(customer_id=customer.id, lifecycle=customer.lifecycle, **vars(profile)))
    return LoyaltyRead(
        period_from=period_from, period_to=period_to, currency=currency or "*", customers=len(entries),
        repeat_purchase_rate=repeat_purchase_rate(entry.purchase_count for entry in entries), entries=entries)
