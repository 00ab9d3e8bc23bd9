"""Collection agencies: register, settlement report, recall of agencies past their deadline."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.collections.domain.agencies import Agency as DomainAgency
from services.collections.domain.agencies import agency_settlement, recall_decision
from services.collections.models import (
    Agency,
    Case,
    CaseAction,
)
from services.collections.repository import add_history, get_invoice
from services.collections.schemas.agencies import AgencyCreate, AgencyReportCreate
from services.collections.schemas.payments import PaymentCreate
from services.collections.service.payments import record_payment
from services.collections.settings import CollectionsSettings
from shared.errors import Conflict, DomainRuleViolation, in_body


async def create_agency(session: AsyncSession, data: AgencyCreate, now: datetime) -> Agency:
    try:
        DomainAgency(
            agency_id="new",
            name=data.name,
            recovery_rate=data.recovery_rate,
            commission_rate=data.commission_rate,
            min_debt=data.min_debt,
            max_debt=data.max_debt,
            max_open_cases=data.max_open_cases,
            report_deadline_days=data.report_deadline_days,
        )
    except DomainRuleViolation as exc:
        raise in_body(exc) from exc
    if await session.scalar(select(Agency.id).where(Agency.name == data.name)) is not None:
        raise Conflict(
            f"an agency named {data.name} is already registered",
            errors=[{"field": "body.name", "message": "duplicate"}],
        )
    agency = Agency(id=uuid.uuid4(), **data.model_dump(), created_at=now)
    session.add(agency)
    await session.flush()
    return agency


async def agency_report(
    session: AsyncSession, row: Case, data: AgencyReportCreate, now: datetime, actor: str, settings: CollectionsSettings
) -> CaseAction:
    """A progress report of the agency holding the case; money recovered is paid in, net of commission."""
    assignment = await session.scalar(
        select(CaseAction).where(
            CaseAction.case_id == row.id, CaseAction.kind == "agency_assignment", CaseAction.status == "active"
        )
    )
    if assignment is None:
        raise Conflict(f"case {row.id} is not with an agency")
    reported_on = data.reported_on or now.date()
    details = dict(assignment.details)
    reports = list(details.get("reports", []))
    entry: dict[str, Any] = {
        "reported_on": reported_on.isoformat(),
        "recovered": str(data.recovered),
        "note": data.note,
        "by": actor,
    }
    if data.recovered > 0:
        settlement = agency_settlement(data.recovered, Decimal(details["commission_rate"]))
        entry.update(commission=str(settlement.commission), net=str(settlement.net))
        assignment.cost = Decimal(assignment.cost) + settlement.commission
        invoice = await get_invoice(session, row.invoice_id, lock=True)
        await record_payment(
            session,
            invoice,
            PaymentCreate(amount=data.recovered, paid_on=reported_on, reference=f"agency {details['agency_name']}"),
            now,
            settings,
            actor=actor,
        )
    reports.append(entry)
    details["reports"], details["last_report_on"] = reports, reported_on.isoformat()
    assignment.details = details
    assignment.updated_at = now
    add_history(
        session,
        row,
        "agency_report",
        f"{details['agency_name']}: recovered {data.recovered}. {data.note}",
        actor,
        now,
        from_stage=row.stage,
        to_stage=row.stage,
    )
    await session.flush()
    return assignment


async def recall_late_agencies(session: AsyncSession, as_of: date, now: datetime) -> int:
    """Recall cases whose agency's progress report is late (the active assignments only)."""
    recalled = 0
    for assignment in (
        await session.scalars(
            select(CaseAction).where(CaseAction.kind == "agency_assignment", CaseAction.status == "active")
        )
    ).all():
        details = assignment.details
        last = details.get("last_report_on")
        decision = recall_decision(
            date.fromisoformat(details["assigned_on"]),
            date.fromisoformat(last) if last else None,
            int(details.get("report_deadline_days", 30)),
            as_of,
        )
        if decision.recall:
            assignment.status = "recalled"
            assignment.details = {**details, "recalled_on": as_of.isoformat(), "recall_reason": decision.reason}
            assignment.updated_at = now
            case = await session.get(Case, assignment.case_id)
            if case is not None:
                add_history(
                    session,
                    case,
                    "agency_recalled",
                    decision.reason,
                    "sweep",
                    now,
                    from_stage=case.stage,
                    to_stage=case.stage,
                    as_of=as_of,
                )
            recalled += 1
    await session.flush()
    return recalled
