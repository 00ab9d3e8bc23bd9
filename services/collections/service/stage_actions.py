"""Stage actions: what is carried out when a case enters a stage, each recorded with its cost.

``on_stage_entered`` (a batch handler of ``stage_entered``, registered in handlers.py) carries them out
for a run of events in order, so a new stage action is added here without touching the sweep. A case
closed meanwhile (paid between sweep and action) gets none. What the actions read besides their case
and invoice comes from a ``StageRun`` (stage_runs.py): grouped per run, kept current as the run writes.
"""

from __future__ import annotations

import uuid
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.collections import repository
from services.collections.domain.actions import (
    NOTHING_YET,
    action_costs,
    arbitration_filing,
    letter_tone,
    litigation_filing,
    reply_by,
)
from services.collections.domain.agencies import choose_agency
from services.collections.domain.contact import Channel
from services.collections.domain.limitation import LimitationBasis
from services.collections.letters import render_letter
from services.collections.models import Case, CaseAction, Invoice
from services.collections.service import contacts, invoices
from services.collections.service.receivables import announce_receivables
from services.collections.service.stage_runs import StageRun, contact_instant
from services.collections.settings import CollectionsSettings
from shared.consumer import EventContext, batch_handler
from shared.errors import DomainRuleViolation
from shared.events.base import Envelope
from shared.events.collections import StageEntered
from shared.stage import Stage


def _action_values(
    case: Case, stage: Stage, kind: str, cost: Decimal, details: dict[str, Any], now: datetime, status: str
) -> dict[str, Any]:
    return {
        "id": uuid.uuid4(),
        "case_id": case.id,
        "customer_id": case.customer_id,
        "stage": stage.value,
        "kind": kind,
        "status": status,
        "cost": cost,
        "details": details,
        "created_at": now,
        "updated_at": now,
    }


def _record(
    run: StageRun,
    case: Case,
    stage: Stage,
    kind: str,
    cost: Decimal,
    details: dict[str, Any],
    now: datetime,
    status: str = "done",
) -> uuid.UUID:
    """Record an action nothing changes later (written with the run's rows); its id."""
    values = _action_values(case, stage, kind, cost, details, now, status)
    run.add_action(values)
    action_id: uuid.UUID = values["id"]
    return action_id


def _record_assignment(
    session: AsyncSession, case: Case, cost: Decimal, details: dict[str, Any], now: datetime
) -> CaseAction:
    """An active agency assignment: an ORM object, since a later legal stage withdraws it (``_end_agency``)."""
    assignment = CaseAction(**_action_values(case, Stage.AGENCY, "agency_assignment", cost, details, now, "active"))
    session.add(assignment)
    return assignment


async def _contact_allowed(
    session: AsyncSession,
    run: StageRun,
    case: Case,
    stage: Stage,
    channel: Channel,
    day: date,
    event: StageEntered,
    settings: CollectionsSettings,
    now: datetime,
) -> bool:
    """Contact discipline (weekly cap, quiet hours, consent): when the contact is not allowed now, the
    action is recorded as deferred (or refused) with the reason and the earliest allowed time, and the
    sweep carries it out once that time has come (``retry_deferred_contacts``)."""
    decision = await run.contact_decision(case.customer_id, channel, contact_instant(event, now), settings)
    if decision.allowed:
        return True
    earliest = decision.earliest_at.isoformat() if decision.earliest_at else None
    _record(
        run,
        case,
        stage,
        "contact_deferred",
        Decimal("0"),
        {
            "action": stage.value,
            "channel": channel.value,
            "verdict": str(decision.verdict),
            "reason": decision.reason,
            "earliest_at": earliest,
            "event": event.model_dump(mode="json"),
        },
        now,
        status=str(decision.verdict),
    )
    run.add_history(
        repository.history_values(
            case,
            f"contact_{decision.verdict}",
            f"{stage} {decision.verdict}: {decision.reason}",
            "collections",
            now,
            from_stage=case.stage,
            to_stage=case.stage,
            as_of=day,
        )
    )
    return False


async def send_letter(
    session: AsyncSession,
    case: Case,
    invoice: Invoice,
    run: StageRun,
    day: date,
    event: StageEntered,
    settings: CollectionsSettings,
    now: datetime,
) -> None:
    if not await _contact_allowed(session, run, case, Stage.LETTER, Channel.LETTER, day, event, settings, now):
        return
    policy = run.policy
    tone = letter_tone(await run.letters_sent(case.id) + 1)
    customer = await run.customer(case.customer_id)
    interest = invoices.interest_due(invoice, policy, day)
    letter = render_letter(
        tone,
        customer_name=customer.name if customer else str(case.customer_id),
        invoice_number=invoice.number,
        currency=invoice.currency,
        amount_due=Decimal(invoice.principal_outstanding),
        due_date=invoice.due_date,
        days_overdue=event.days_overdue,
        reply_by=reply_by(tone, day),
        letter_date=day,
        penalty_interest=interest,
        creditor_name=settings.creditor_name,
    )
    costs = action_costs(policy, Stage.LETTER, carried_out=True)
    action_id = _record(
        run,
        case,
        Stage.LETTER,
        "letter",
        costs.internal,
        {
            "tone": str(tone),
            "subject": letter.subject,
            "html": letter.html,
            "letter_date": day.isoformat(),
            "reply_by": reply_by(tone, day).isoformat(),
            "channel": "post",
        },
        now,
    )
    run.letter_recorded(case.id)
    _log_contact(run, case, Channel.LETTER, contact_instant(event, now), action_id)
    invoices.charge(invoice, costs, settings)
    # A dunning letter demands performance: the limitation period restarts (PRC Civil Code art. 195).
    repository.interrupt_limitation(case, day, LimitationBasis.DUNNING_LETTER, policy.limitation_years)


async def schedule_visit(
    session: AsyncSession,
    case: Case,
    invoice: Invoice,
    run: StageRun,
    day: date,
    event: StageEntered,
    settings: CollectionsSettings,
    now: datetime,
) -> None:
    if not await _contact_allowed(session, run, case, Stage.VISIT, Channel.VISIT, day, event, settings, now):
        return
    collectors = settings.collectors or ["unassigned"]
    collector = collectors[zlib.crc32(case.id.bytes) % len(collectors)]
    # Only scheduled: nothing is spent or billed until the visit is made (its outcome recorded).
    action_id = _record(
        run,
        case,
        Stage.VISIT,
        "visit",
        NOTHING_YET.internal,
        {"collector": collector, "visit_on": (day + timedelta(days=settings.visit_lead_days)).isoformat()},
        now,
        status="scheduled",
    )
    _log_contact(run, case, Channel.VISIT, contact_instant(event, now), action_id)


def _log_contact(run: StageRun, case: Case, channel: Channel, at: datetime, action_id: uuid.UUID) -> None:
    run.add_contact(contacts.contact_values(case.customer_id, channel, at, case_id=case.id, action_id=action_id))
    run.contact_logged(case.customer_id, channel, at)


async def place_with_agency(
    session: AsyncSession,
    case: Case,
    invoice: Invoice,
    run: StageRun,
    day: date,
    event: StageEntered,
    settings: CollectionsSettings,
    now: datetime,
) -> None:
    policy = run.policy
    registry = await run.agencies()
    choice = choose_agency(registry, event.amount) if event.amount > 0 else None
    cost = policy.action_cost(Stage.AGENCY)
    if choice is None:
        _record(
            run,
            case,
            Stage.AGENCY,
            "agency_assignment",
            cost,
            {"reason": f"no registered agency accepts a debt of {event.amount}"},
            now,
            status="unassigned",
        )
    else:
        assignment = _record_assignment(
            session,
            case,
            cost,
            {
                "agency_id": choice.agency.agency_id,
                "agency_name": choice.agency.name,
                "recovery_rate": str(choice.agency.recovery_rate),
                "commission_rate": str(choice.agency.commission_rate),
                "expected_net_recovery": str(choice.expected_net_recovery),
                "reason": choice.reason,
                "assigned_on": day.isoformat(),
                "report_deadline_days": choice.agency.report_deadline_days,
                "reports": [],
            },
            now,
        )
        run.assigned(assignment)
    invoices.charge(invoice, action_costs(policy, Stage.AGENCY, carried_out=choice is not None), settings)


async def _end_agency(run: StageRun, row: Case, day: date, now: datetime) -> None:
    for assignment in await run.active_assignments(row.id):
        run.withdrawn(assignment)
        assignment.status = "withdrawn"
        assignment.details = {
            **assignment.details,
            "withdrawn_on": day.isoformat(),
            "reason": "the case went to its legal stage",
        }
        assignment.updated_at = now


async def file_arbitration(
    session: AsyncSession,
    case: Case,
    invoice: Invoice,
    run: StageRun,
    day: date,
    event: StageEntered,
    settings: CollectionsSettings,
    now: datetime,
) -> None:
    await _legal(session, case, invoice, run, day, now, Stage.ARBITRATION, settings)


async def file_litigation(
    session: AsyncSession,
    case: Case,
    invoice: Invoice,
    run: StageRun,
    day: date,
    event: StageEntered,
    settings: CollectionsSettings,
    now: datetime,
) -> None:
    await _legal(session, case, invoice, run, day, now, Stage.LITIGATION, settings)


async def _legal(
    session: AsyncSession,
    case: Case,
    invoice: Invoice,
    run: StageRun,
    day: date,
    now: datetime,
    stage: Stage,
    settings: CollectionsSettings,
) -> None:
    policy = run.policy
    clause = repository.case_facts(case).dispute_resolution
    principal = Decimal(invoice.principal_outstanding)
    interest = invoices.interest_due(invoice, policy, day)
    costs = Decimal(invoice.costs_outstanding)
    try:
        if stage is Stage.ARBITRATION:
            filing = arbitration_filing(clause, principal, interest, costs, day, policy)
        else:
            filing = litigation_filing(
                clause,
                case.due_date,
                principal,
                interest,
                costs,
                day,
                policy,
                court=settings.court_name,
                limitation=repository.limitation_of(case),
            )
    except DomainRuleViolation as exc:
        _record(run, case, stage, f"{stage}_filing", Decimal("0"), {"refused": exc.detail}, now, status="refused")
        case.write_off_review = True
        run.add_history(
            repository.history_values(
                case,
                "filing_refused",
                exc.detail or "filing refused",
                "collections",
                now,
                from_stage=case.stage,
                to_stage=case.stage,
                as_of=day,
            )
        )
        return
    await _end_agency(run, case, day, now)
    _record(
        run,
        case,
        stage,
        f"{stage}_filing",
        filing.filing_cost,
        {
            "forum": filing.forum,
            "filed_on": day.isoformat(),
            "claim_principal": str(filing.claim_principal),
            "claim_penalty_interest": str(filing.claim_penalty_interest),
            "claim_costs": str(filing.claim_costs),
            "claim_total": str(filing.claim_total),
        },
        now,
    )
    invoices.charge(invoice, action_costs(policy, stage, carried_out=True), settings)
    repository.interrupt_limitation(case, day, LimitationBasis.FILING, policy.limitation_years)


STAGE_ACTIONS = {
    Stage.LETTER: send_letter,
    Stage.VISIT: schedule_visit,
    Stage.AGENCY: place_with_agency,
    Stage.ARBITRATION: file_arbitration,
    Stage.LITIGATION: file_litigation,
}


@batch_handler
async def on_stage_entered(ctx: EventContext, envelopes: list[Envelope]) -> None:
    """Carry out the action of the stage each case entered, in order, for a run of events."""
    settings = ctx.settings
    assert isinstance(settings, CollectionsSettings)
    events = [envelope.data for envelope in envelopes if isinstance(envelope.data, StageEntered)]
    await apply_stage_events(ctx.session, events, settings, ctx.clock.now())


async def apply_stage_events(
    session: AsyncSession,
    events: list[StageEntered],
    settings: CollectionsSettings,
    now: datetime,
    *,
    preload: bool = True,
) -> None:
    """Exactly as event after event; with ``preload`` (the consumer's way) the run's reads are grouped
    (``StageRun.preload``) and its writes flushed once, without it each read is its own query."""
    run = await StageRun.preload(session, events, now) if preload else await StageRun.single(session)
    charged = Charged()
    for event in events:
        row = await run.case(event.case_id)
        if row is None or row.status not in ("open", "on_hold"):
            continue  # paid or written off since: nothing to carry out
        invoice = await run.invoice(event.invoice_id)
        if invoice is None or invoice.status != "open":
            continue
        day = event.as_of or event.entered_at.date()
        with charged.watch(invoice, day):
            await STAGE_ACTIONS[Stage(event.stage)](session, row, invoice, run, day, event, settings, now)
        if not preload:
            await run.write()
    await run.write()
    await charged.announce(session, now)


class Charged:
    """The customers whose invoices the actions billed a cost to, with the latest day they were billed: the
    receivables they owe changed, so credit and the registry are told (``announce_receivables``), once per
    customer per run, after the sweep's own announcement of the move."""

    def __init__(self) -> None:
        self.days: dict[uuid.UUID, date] = {}

    @contextmanager
    def watch(self, invoice: Invoice, day: date) -> Iterator[None]:
        before = Decimal(invoice.costs_outstanding)
        yield
        if Decimal(invoice.costs_outstanding) != before:
            self.days[invoice.customer_id] = max(day, self.days.get(invoice.customer_id, day))

    async def announce(self, session: AsyncSession, now: datetime) -> None:
        by_day: dict[date, set[uuid.UUID]] = {}
        for customer_id, day in self.days.items():
            by_day.setdefault(day, set()).add(customer_id)
        for day, customers in sorted(by_day.items()):
            await announce_receivables(session, customers, now, day)


async def retry_deferred_contacts(
    session: AsyncSession, day: date, settings: CollectionsSettings, now: datetime
) -> int:
    """Carry out the deferred letters and visits whose earliest allowed time has come (in deferral order);
    each is checked again (still not allowed: it stays deferred with the new earliest time) and the deferral is
    marked ``carried_out``. Cases closed meanwhile
    or moved past the deferred stage drop it (``superseded``)."""
    done, charged = 0, Charged()
    deferred = (
        await session.scalars(
            select(CaseAction)
            .where(CaseAction.kind == "contact_deferred", CaseAction.status == "deferred")
            .order_by(CaseAction.created_at, CaseAction.id)
        )
    ).all()
    for action in deferred:
        earliest = action.details.get("earliest_at")
        if earliest is None or datetime.fromisoformat(earliest) > now:
            continue
        case = await session.get(Case, action.case_id)
        invoice = await session.get(Invoice, case.invoice_id) if case else None
        event = StageEntered.model_validate(action.details["event"])
        if (
            case is None
            or invoice is None
            or case.status not in ("open", "on_hold")
            or invoice.status != "open"
            or case.stage != event.stage
        ):
            action.status, action.updated_at = "superseded", now
            continue
        decision = await contacts.contact_decision(
            session, case.customer_id, Channel(action.details["channel"]), now, settings
        )
        if not decision.allowed:  # still not allowed (the window filled up again): stays deferred, later
            action.details = {
                **action.details,
                "reason": decision.reason,
                "verdict": str(decision.verdict),
                "earliest_at": decision.earliest_at.isoformat() if decision.earliest_at else None,
            }
            action.status, action.updated_at = str(decision.verdict), now
            continue
        action.status, action.updated_at = "carried_out", now
        run = await StageRun.single(session)
        with charged.watch(invoice, day):
            await STAGE_ACTIONS[Stage(event.stage)](session, case, invoice, run, day, event, settings, now)
        await run.write()
        done += 1
    await charged.announce(session, now)
    return done
