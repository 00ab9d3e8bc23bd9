"""Reports: aging and collection performance."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, Date, Integer, and_, func, literal, or_, select, union_all
from sqlalchemy.ext.asyncio import AsyncSession

from services.collections.domain.aging import AgingRow, aging_report
from services.collections.domain.metrics import (
    ActionCost,
    collection_effectiveness_index,
    cost_per_stage,
    days_sales_outstanding,
    recovery_rate,
)
from services.collections.domain.periods import Interval, periods
from services.collections.domain.stages import CaseStatus
from services.collections.models import (
    Case,
    CaseAction,
    CaseHistory,
    Invoice,
    Payment,
)
from services.collections.schemas.reports import FunnelPeriodRead, StageFunnelRead
from services.collections.service.invoices import charged_interest
from services.collections.service.policy import current_policy
from services.collections.settings import CollectionsSettings
from shared.money import ZERO
from shared.stage import Stage


async def aging(
    session: AsyncSession, as_of: date, customer_id: uuid.UUID | None, settings: CollectionsSettings
) -> dict[str, Any]:
    policy = await current_policy(session)
    query = select(Invoice).where(Invoice.status == "open")
    if customer_id:
        query = query.where(Invoice.customer_id == customer_id)
    rows = [
        AgingRow(
            invoice.customer_id,
            invoice.due_date,
            Decimal(invoice.principal_outstanding)
            + charged_interest(invoice, policy, as_of, settings)
            + Decimal(invoice.costs_outstanding),
        )
        for invoice in (await session.scalars(query)).all()
    ]
    return aging_report(rows, as_of).to_dict()


async def performance(session: AsyncSession, start: date, end: date) -> dict[str, Any]:
    """DSO and CEI over [start, end], recovery rate of cases, cost per stage."""
    all_invoices = (await session.scalars(select(Invoice).where(Invoice.issue_date <= end))).all()
    paid_by_invoice: dict[uuid.UUID, list[Payment]] = {}
    # a bounced cheque never paid anything
    for payment in (
        await session.scalars(select(Payment).where(Payment.paid_on <= end, Payment.status == "applied"))
    ).all():
        paid_by_invoice.setdefault(payment.invoice_id, []).append(payment)

    def outstanding_at(invoice: Invoice, day: date) -> Decimal:
        if invoice.issue_date > day or (invoice.status == "written_off" and invoice.updated_at.date() <= day):
            return ZERO
        paid = sum(
            (
                Decimal(p.principal_applied) + Decimal(p.discount_granted)
                for p in paid_by_invoice.get(invoice.id, [])
                if p.paid_on <= day
            ),
            ZERO,
        )
        return max(Decimal(invoice.amount) - paid, ZERO)

    before = start - timedelta(days=1)
    begin = sum((outstanding_at(i, before) for i in all_invoices), ZERO)
    sales = sum((Decimal(i.amount) for i in all_invoices if start <= i.issue_date <= end), ZERO)
    end_total = sum((outstanding_at(i, end) for i in all_invoices), ZERO)
    end_current = sum((outstanding_at(i, end) for i in all_invoices if i.due_date >= end), ZERO)
    period = (end - start).days + 1
    dso = days_sales_outstanding(end_total, sales, period) if sales > 0 else None
    cei = (
        collection_effectiveness_index(begin, sales, end_total, end_current)
        if begin + sales - end_current > 0
        else None
    )
    placed, recovered, opened = await _placed_in_period(session, start, end, all_invoices, paid_by_invoice)
    # Actions carried out in the period only: the report is about [start, end], not the whole history.
    actions = (
        await session.scalars(
            select(CaseAction).where(
                CaseAction.created_at >= _start_of(start), CaseAction.created_at < _start_of(end + timedelta(days=1))
            )
        )
    ).all()
    costs = cost_per_stage(
        ActionCost(a.case_id, Stage(a.stage), Decimal(a.cost)) for a in actions if a.stage in Stage.__members__.values()
    )
    return {
        "from": start.isoformat(),
        "to": end.isoformat(),
        "dso_days": str(dso) if dso is not None else None,
        "collection_effectiveness_index": str(cei) if cei is not None else None,
        "recovery_rate": str(recovery_rate(recovered, placed)) if placed > 0 else None,
        "placed_in_collection": str(placed),
        "recovered": str(recovered),
        "cost_per_stage": costs.to_dict(),
        "cases": {status.value: sum(1 for c in opened if c.status == status) for status in CaseStatus},
    }


def _start_of(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


async def _placed_in_period(
    session: AsyncSession,
    start: date,
    end: date,
    invoices: Sequence[Invoice],
    paid_by_invoice: dict[uuid.UUID, list[Payment]],
) -> tuple[Decimal, Decimal, list[Case]]:
    """The cases placed in collection in [start, end], what was outstanding when placed, and what they recovered.

    A case is placed on its first history day (the sweep's business date), else the day it was opened. What
    was placed is the principal then unpaid; what was recovered, the principal paid from that day to ``end``.
    Both are about the same cases, so the recovery rate cannot pass 100 %.
    """
    first_day = dict(
        (
            await session.execute(
                select(CaseHistory.case_id, func.min(CaseHistory.as_of)).group_by(CaseHistory.case_id)
            )
        ).all()
    )
    opened = [
        case
        for case in (await session.scalars(select(Case))).all()
        if start <= (first_day.get(case.id) or case.opened_at.date()) <= end
    ]
    amounts = {invoice.id: Decimal(invoice.amount) for invoice in invoices}
    placed = recovered = ZERO
    for case in opened:
        placed_on = first_day.get(case.id) or case.opened_at.date()
        payments = paid_by_invoice.get(case.invoice_id, [])
        paid_before = sum(
            (Decimal(p.principal_applied) + Decimal(p.discount_granted) for p in payments if p.paid_on < placed_on),
            ZERO,
        )
        placed += max(amounts.get(case.invoice_id, ZERO) - paid_before, ZERO)
        recovered += sum((Decimal(p.principal_applied) for p in payments if placed_on <= p.paid_on <= end), ZERO)
    return placed, recovered, opened


CLOSING_EVENTS = (CaseStatus.RESOLVED.value, CaseStatus.WRITTEN_OFF.value)
REOPENED = "reopened"


async def stage_funnel(session: AsyncSession, start: date, end: date, interval: Interval) -> StageFunnelRead:
    """Open cases per stage at the end of each period, from case history, in one statement.

    A case's stage at a day is the last stage it entered on or before it (by the history's business date);
    it is open unless its last closing or reopening event by then closed it.
    """
    cut = periods(start, end, interval)
    ends = union_all(
        *(
            select(literal(index, Integer).label("period"), literal(period.end, Date).label("period_end"))
            for index, period in enumerate(cut)
        )
    ).cte("period_ends")

    def latest(events: ColumnElement[bool], name: str) -> Any:
        order = (CaseHistory.as_of.desc(), CaseHistory.id.desc())
        return (
            select(
                ends.c.period,
                CaseHistory.case_id,
                CaseHistory.event,
                CaseHistory.to_stage,
                func.row_number().over(partition_by=(ends.c.period, CaseHistory.case_id), order_by=order).label("rn"),
            )
            .select_from(ends.join(CaseHistory, and_(events, CaseHistory.as_of <= ends.c.period_end)))
            .subquery(name)
        )

    stage_at = latest(CaseHistory.event == "stage_entered", "stage_at")
    status_at = latest(CaseHistory.event.in_((*CLOSING_EVENTS, REOPENED)), "status_at")
    query = (
        select(stage_at.c.period, stage_at.c.to_stage, func.count())
        .select_from(
            stage_at.outerjoin(
                status_at,
                and_(
                    status_at.c.period == stage_at.c.period,
                    status_at.c.case_id == stage_at.c.case_id,
                    status_at.c.rn == 1,
                ),
            )
        )
        .where(stage_at.c.rn == 1, or_(status_at.c.event.is_(None), status_at.c.event == REOPENED))
        .group_by(stage_at.c.period, stage_at.c.to_stage)
    )
    counts: dict[int, dict[Stage, int]] = {index: dict.fromkeys(Stage, 0) for index in range(len(cut))}
    for period, stage, count in (await session.execute(query)).all():
        counts[int(period)][Stage(stage)] = int(count)
    return StageFunnelRead(
        start=start,
        end=end,
        interval=interval,
        periods=[
            FunnelPeriodRead(
                start=period.start, end=period.end, open_cases=counts[index], total=sum(counts[index].values())
            )
            for index, period in enumerate(cut)
        ],
    )
