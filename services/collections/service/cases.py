"""Collection cases: history, actions, decisions, promises, disputes, manual actions, write-offs, visits."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession

from services.collections.domain.actions import action_costs
from services.collections.domain.cases import (
    CaseEffect,
    validate_dispute,
    validate_manual_action,
    validate_promise,
    visit_effect,
)
from services.collections.domain.escalation import (
    StageDecision,
    escalate_now,
    keeps_supplying,
    supply_must_stop,
)
from services.collections.domain.limitation import LimitationBasis
from services.collections.domain.policy import Policy
from services.collections.domain.stages import CaseStatus, Segment
from services.collections.models import (
    Case,
    CaseAction,
    Invoice,
)
from services.collections.repository import add_history, case_facts, close_case, get_invoice, interrupt_limitation
from services.collections.schemas.cases import (
    AcknowledgementCreate,
    CaseActionCreate,
    PromiseCreate,
    VisitOutcomeCreate,
)
from services.collections.schemas.payments import PaymentCreate
from services.collections.service.invoices import charge, charged_interest
from services.collections.service.payments import record_payment
from services.collections.service.policy import current_policy
from services.collections.service.receivables import announce_receivables
from services.collections.settings import CollectionsSettings
from shared.errors import Conflict, DomainRuleViolation, NotFound, in_body
from shared.events.collections import (
    ArrearsMarkedMalicious,
    CaseWrittenOff,
    PromiseRecorded,
    StageEntered,
)
from shared.money import ZERO
from shared.outbox import emit
from shared.stage import Stage, stage_rank


async def apply_decision(
    session: AsyncSession, case: Case, decision: StageDecision, policy: Policy, actor: str, now: datetime, as_of: date
) -> None:
    """Enter every stage of ``decision`` (history + stage_entered each), as the sweep does."""
    invoice = await session.get(Invoice, case.invoice_id)
    assert invoice is not None
    previous = case.stage
    for step in decision.steps:
        add_history(
            session,
            case,
            "stage_entered",
            step.reason,
            actor,
            now,
            from_stage=previous,
            to_stage=step.stage.value,
            rule=step.rule,
            policy_version=policy.version,
            as_of=as_of,
        )
        await emit(
            session,
            StageEntered(
                customer_id=case.customer_id,
                case_id=case.id,
                invoice_id=case.invoice_id,
                stage=step.stage.value,
                previous_stage=previous,
                rule=step.rule,
                reason=step.reason,
                policy_version=policy.version,
                days_overdue=decision.days_overdue,
                currency=case.currency,
                amount=decision.escalating_amount,
                stop_supply=supply_must_stop(policy, Segment(case.segment), step.stage, malicious=case.malicious),
                entered_at=now,
                as_of=as_of,
                keep_supplying=keeps_supplying(policy, Segment(case.segment), malicious=case.malicious),
            ),
            at=now,
        )
        previous = step.stage.value
    if decision.steps:
        case.previous_stage, case.stage = case.stage, decision.steps[-1].stage.value
        case.stage_rank = stage_rank(decision.steps[-1].stage)
    if decision.promise_broken:
        case.last_broken_promise, case.promise_to_pay = case.promise_to_pay, None
    if decision.write_off_review:
        case.write_off_review = True
    case.version += 1
    case.updated_at = now
    await session.flush()


async def record_promise(session: AsyncSession, case: Case, data: PromiseCreate, now: datetime, actor: str) -> Case:
    try:
        validate_promise(CaseStatus(case.status), data.promised_on, now.date())
    except DomainRuleViolation as exc:
        raise in_body(exc) from exc
    case.promise_to_pay = data.promised_on
    # The debtor's promise acknowledges the debt: the limitation period restarts (PRC Civil Code art. 195).
    policy = await current_policy(session)
    interrupt_limitation(case, now.date(), LimitationBasis.PROMISE_TO_PAY, policy.limitation_years)
    case.version += 1
    case.updated_at = now
    add_history(
        session,
        case,
        "promise_recorded",
        f"promise to pay by {data.promised_on}",
        actor,
        now,
        from_stage=case.stage,
        to_stage=case.stage,
    )
    await session.flush()
    await emit(
        session,
        PromiseRecorded(
            customer_id=case.customer_id,
            case_id=case.id,
            invoice_id=case.invoice_id,
            promised_on=data.promised_on,
            currency=case.currency,
            amount=data.amount or case.outstanding,
        ),
        at=now,
    )
    return case


async def record_acknowledgement(
    session: AsyncSession, case: Case, data: AcknowledgementCreate, now: datetime, actor: str
) -> Case:
    """The debtor acknowledged the debt: recorded, and the limitation period restarts from that day."""
    acknowledged_on = data.acknowledged_on or now.date()
    problems = []
    if acknowledged_on > now.date():
        problems.append({"field": "body.acknowledged_on", "message": f"{acknowledged_on} is in the future"})
    if acknowledged_on < case.due_date:
        problems.append({"field": "body.acknowledged_on", "message": f"{acknowledged_on} is before the due date"})
    if problems:
        raise DomainRuleViolation("the acknowledgement date is not possible", errors=problems)
    if case.status not in ("open", "on_hold"):
        raise Conflict(f"case is {case.status}: nothing to acknowledge")
    policy = await current_policy(session)
    interrupt_limitation(case, acknowledged_on, LimitationBasis.ACKNOWLEDGEMENT, policy.limitation_years)
    add_history(
        session,
        case,
        "acknowledged",
        f"debt acknowledged on {acknowledged_on}: {data.note}",
        actor,
        now,
        from_stage=case.stage,
        to_stage=case.stage,
    )
    case.version += 1
    case.updated_at = now
    await session.flush()
    return case


async def record_dispute(
    session: AsyncSession, case: Case, amount: Decimal, reason: str, now: datetime, actor: str
) -> Case:
    try:
        validate_dispute(CaseStatus(case.status), amount, Decimal(case.outstanding))
    except DomainRuleViolation as exc:
        raise in_body(exc) from exc
    case.disputed_amount = amount
    case.version += 1
    case.updated_at = now
    add_history(
        session,
        case,
        "dispute_recorded",
        f"{amount} disputed: {reason}",
        actor,
        now,
        from_stage=case.stage,
        to_stage=case.stage,
    )
    await session.flush()
    return case


async def lift_dispute(session: AsyncSession, case: Case, reason: str, now: datetime, actor: str) -> None:
    if case.disputed_amount == 0:
        return
    case.disputed_amount = ZERO
    case.version += 1
    case.updated_at = now
    add_history(session, case, "dispute_lifted", reason, actor, now, from_stage=case.stage, to_stage=case.stage)
    await session.flush()


async def manual_action(
    session: AsyncSession, row: Case, data: CaseActionCreate, now: datetime, actor: str, settings: CollectionsSettings
) -> Case:
    try:
        validate_manual_action(CaseStatus(row.status), data.action, data.reason, actor)
    except DomainRuleViolation as exc:
        raise in_body(exc) from exc
    if data.action == "hold":
        if row.status == CaseStatus.ON_HOLD:
            raise Conflict("case is already on hold")
        row.status = CaseStatus.ON_HOLD.value
        add_history(session, row, "hold", data.reason, actor, now, from_stage=row.stage, to_stage=row.stage)
    elif data.action == "release":
        if row.status != CaseStatus.ON_HOLD:
            raise Conflict("case is not on hold")
        row.status = CaseStatus.OPEN.value
        add_history(session, row, "release", data.reason, actor, now, from_stage=row.stage, to_stage=row.stage)
    elif data.action == "escalate":
        policy = await current_policy(session)
        decision = escalate_now(
            case_facts(row),
            policy,
            now.date(),
            f"manual escalation by {actor}: {data.reason}",
            override_amount=data.override_amount,
        )
        if not decision.moved:
            raise Conflict(f"case cannot be escalated: {decision.reason}")
        await apply_decision(session, row, decision, policy, actor, now, now.date())
        return row
    elif data.action == "mark_malicious":
        await mark_malicious(session, row, data.reason, actor, now)
    else:
        await write_off(session, row, data.reason, actor, now, settings)
        return row
    row.version += 1
    row.updated_at = now
    await session.flush()
    return row


async def mark_malicious(session: AsyncSession, case: Case, reason: str, actor: str, now: datetime) -> None:
    """Mark the arrears malicious (恶性拖欠); for a key account supply now stops (credit hears of it)."""
    if case.malicious:
        raise Conflict("the arrears of this case are already marked malicious")
    case.malicious = True
    add_history(session, case, "marked_malicious", reason, actor, now, from_stage=case.stage, to_stage=case.stage)
    policy = await current_policy(session)
    stage = Stage(case.stage) if case.stage else None
    await emit(
        session,
        ArrearsMarkedMalicious(
            customer_id=case.customer_id,
            case_id=case.id,
            invoice_id=case.invoice_id,
            reason=reason,
            actor=actor,
            stop_supply=supply_must_stop(policy, Segment(case.segment), stage, malicious=True),
            marked_at=now,
        ),
        at=now,
    )


async def write_off(
    session: AsyncSession, case: Case, reason: str, actor: str, now: datetime, settings: CollectionsSettings
) -> None:
    invoice = await get_invoice(session, case.invoice_id)
    policy = await current_policy(session)
    amount = (
        Decimal(invoice.principal_outstanding)
        + charged_interest(invoice, policy, now.date(), settings)
        + Decimal(invoice.costs_outstanding)
    )
    invoice.status, invoice.updated_at, invoice.version = "written_off", now, invoice.version + 1
    await close_case(session, case, CaseStatus.WRITTEN_OFF, "written_off", reason, actor, now)
    case.version += 1
    await emit(
        session,
        CaseWrittenOff(
            customer_id=case.customer_id,
            case_id=case.id,
            invoice_id=case.invoice_id,
            currency=case.currency,
            amount=amount,
            reason=reason,
            actor=actor,
        ),
        at=now,
    )
    await announce_receivables(session, {case.customer_id}, now)


async def visit_outcome(
    session: AsyncSession,
    row: Case,
    visit_id: uuid.UUID,
    data: VisitOutcomeCreate,
    now: datetime,
    actor: str,
    settings: CollectionsSettings,
) -> Case:
    visit = await session.get(CaseAction, visit_id)
    if visit is None or visit.case_id != row.id or visit.kind != "visit":
        raise NotFound(f"no visit {visit_id} on case {row.id}")
    if visit.status != "scheduled":
        raise Conflict(f"the outcome of visit {visit_id} is already recorded")
    visited_on = data.visited_on or now.date()
    try:
        effect = visit_effect(
            data.outcome,
            visited_on=visited_on,
            outstanding=Decimal(row.outstanding),
            promised_on=data.promised_on,
            disputed_amount=data.disputed_amount,
        )
    except DomainRuleViolation as exc:
        raise in_body(exc) from exc
    if row.status not in ("open", "on_hold"):
        raise Conflict(f"case is {row.status}: the visit outcome cannot change it")
    visit.status = "done"
    visit.details = {
        **visit.details,
        "outcome": str(data.outcome),
        "visited_on": visited_on.isoformat(),
        "effect": str(effect.effect),
        "recorded_by": actor,
    }
    visit.updated_at = now
    # The visit was made: its cost is spent (and billed when recoverable), its demand interrupts limitation.
    visit_policy = await current_policy(session)
    costs = action_costs(visit_policy, Stage.VISIT, carried_out=True)
    visit.cost = costs.internal
    visit.details = {**visit.details, "recoverable_cost": str(costs.recoverable)}
    charge(await get_invoice(session, row.invoice_id, lock=True), costs, settings)
    interrupt_limitation(row, visited_on, LimitationBasis.VISIT_DEMAND, visit_policy.limitation_years)
    add_history(session, row, "visit_outcome", effect.reason, actor, now, from_stage=row.stage, to_stage=row.stage)
    if effect.effect is CaseEffect.RECORD_PAYMENT:
        invoice = await get_invoice(session, row.invoice_id, lock=True)
        policy = await current_policy(session)
        amount = data.amount_paid or (
            Decimal(invoice.principal_outstanding)
            + charged_interest(invoice, policy, visited_on, settings)
            + Decimal(invoice.costs_outstanding)
        )
        await record_payment(
            session,
            invoice,
            PaymentCreate(amount=amount, paid_on=visited_on, reference=f"visit {visit_id}"),
            now,
            settings,
            actor=actor,
        )
    elif effect.effect is CaseEffect.PAUSE_UNTIL_PROMISE:
        assert effect.promised_on is not None
        await record_promise(session, row, PromiseCreate(promised_on=effect.promised_on), now, actor)
    elif effect.effect is CaseEffect.HOLD_DISPUTED_AMOUNT:
        assert effect.disputed_amount is not None
        await record_dispute(session, row, effect.disputed_amount, effect.reason, now, actor)
    else:
        policy = await current_policy(session)
        decision = escalate_now(case_facts(row), policy, visited_on, effect.reason)
        await apply_decision(session, row, decision, policy, actor, now, visited_on)
    await session.flush()
    return row
