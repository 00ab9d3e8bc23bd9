"""Reports: aging and collection performance."""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.collections.domain.aging import AgingRow, aging_report
from services.collections.domain.metrics import (
    ActionCost,
    collection_effectiveness_index,
    cost_per_stage,
    days_sales_outstanding,
    recovery_rate,
)
from services.collections.domain.stages import CaseStatus
from services.collections.models import (
    Case,
    CaseAction,
    Invoice,
    Payment,
)
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
    case_rows = (await session.scalars(select(Case))).all()
    cased = {c.invoice_id for c in case_rows}
    placed = sum((Decimal(i.amount) for i in all_invoices if i.id in cased), ZERO)
    recovered = sum(
        (
            Decimal(p.principal_applied)
            for invoice_id, payments in paid_by_invoice.items()
            if invoice_id in cased
            for p in payments
        ),
        ZERO,
    )
    actions = (await session.scalars(select(CaseAction))).all()
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
        "cases": {status.value: sum(1 for c in case_rows if c.status == status) for status in CaseStatus},
    }
