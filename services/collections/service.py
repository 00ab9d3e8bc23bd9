"""Use cases of the collections service: load, apply the domain rule, save, add the events to the outbox."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.collections import sweep as sweeps
from services.collections.domain.aging import AgingRow, aging_report
from services.collections.domain.allocation import allocate_payment, settle_with_discount
from services.collections.domain.cases import (
    CaseEffect,
    validate_dispute,
    validate_manual_action,
    validate_promise,
    visit_effect,
)
from services.collections.domain.contact import (
    WINDOW,
    Channel,
    ContactDecision,
    ContactPreferences,
    ContactRules,
    check_contact,
    zone,
)
from services.collections.domain.escalation import (
    CaseFacts,
    StageDecision,
    decide,
    escalate_now,
    simulate,
    supply_must_stop,
)
from services.collections.domain.interest import penalty_interest
from services.collections.domain.metrics import (
    ActionCost,
    collection_effectiveness_index,
    cost_per_stage,
    days_sales_outstanding,
    recovery_rate,
)
from services.collections.domain.money import ZERO
from services.collections.domain.policy import Policy, default_policy, revise
from services.collections.domain.stages import CaseStatus, ClauseKind, DisputeResolution, Segment, Stage, stage_rank
from services.collections.models import (
    Agency,
    Case,
    CaseAction,
    CaseHistory,
    ContactLog,
    ContactPreference,
    CustomerProfile,
    Invoice,
    KnownCustomer,
    Payment,
    PolicyVersion,
)
from services.collections.schemas import (
    AgencyCreate,
    AgencyReportCreate,
    BounceCreate,
    CaseActionCreate,
    ContactCreate,
    ContactPreferencesUpdate,
    InvoiceCreate,
    PaymentCreate,
    PromiseCreate,
    VisitOutcomeCreate,
)
from services.collections.settings import CollectionsSettings
from shared.db import after_keyset
from shared.errors import Conflict, DomainRuleViolation, NotFound
from shared.events.collections import (
    CaseResolved,
    CaseWrittenOff,
    InvoiceIssued,
    PaymentReceived,
    PaymentReversed,
    PromiseRecorded,
    StageEntered,
)
from shared.outbox import emit
from shared.terms import parse_terms

CENT = Decimal("0.01")


def _body(exc: DomainRuleViolation, prefix: str = "body") -> DomainRuleViolation:
    """The domain's problem with its fields named where the client sent them (``body.amount``)."""
    errors = [{**error, "field": f"{prefix}.{error.get('field', '')}".rstrip(".")} for error in exc.errors or []]
    return DomainRuleViolation(exc.detail, errors=errors or None)


# --- policy ---------------------------------------------------------------------------------------------


async def current_policy(session: AsyncSession) -> Policy:
    """The highest stored version, or the default table (version 1) when none was ever stored."""
    row = await session.scalar(select(PolicyVersion).order_by(PolicyVersion.version.desc()).limit(1))
    return default_policy() if row is None else Policy.from_dict(row.document)


async def replace_policy(session: AsyncSession, data: dict[str, Any], actor: str, now: datetime) -> Policy:
    current = await current_policy(session)
    try:
        policy = revise(current, data)
    except DomainRuleViolation as exc:
        raise _body(exc) from exc
    if await session.get(PolicyVersion, policy.version) is not None:
        raise Conflict(f"policy version {policy.version} was stored concurrently; reload and retry")
    session.add(PolicyVersion(version=policy.version, document=policy.to_dict(), created_by=actor, created_at=now))
    await session.flush()
    return policy


async def simulate_policy(session: AsyncSession, data: dict[str, Any], as_of: date) -> list[dict[str, Any]]:
    """Which open cases (and overdue invoices without a case) a draft policy would move; changes nothing."""
    try:
        draft = Policy.from_dict({key: value for key, value in data.items() if key != "version"})
    except DomainRuleViolation as exc:
        raise _body(exc, "body.policy") from exc
    facts: list[CaseFacts] = []
    invoice_of: dict[Any, uuid.UUID] = {}
    for row in (await session.scalars(select(Case).where(Case.status.in_(["open", "on_hold"])))).all():
        facts.append(case_facts(row))
        invoice_of[row.id] = row.invoice_id
    uncased = (
        await session.execute(
            select(Invoice, KnownCustomer.segment, CustomerProfile)
            .outerjoin(KnownCustomer, KnownCustomer.id == Invoice.customer_id)
            .outerjoin(CustomerProfile, CustomerProfile.customer_id == Invoice.customer_id)
            .where(
                Invoice.status == "open",
                Invoice.due_date < as_of,
                ~select(Case.id).where(Case.invoice_id == Invoice.id).exists(),
            )
        )
    ).all()
    for invoice, segment, profile in uncased:
        facts.append(
            CaseFacts(
                due_date=invoice.due_date,
                outstanding=invoice.principal_outstanding,
                segment=customer_segment(segment, profile),
                dispute_resolution=clause_of(profile),
                case_id=f"invoice:{invoice.id}",
            )
        )
    moves = []
    for move in simulate(facts, draft, as_of):
        case_id = move.case_id
        invoice_id = invoice_of.get(case_id)
        if isinstance(case_id, str) and case_id.startswith("invoice:"):
            invoice_id, case_id = uuid.UUID(case_id.removeprefix("invoice:")), None
        moves.append(
            {
                "case_id": case_id,
                "invoice_id": invoice_id,
                "from_stage": move.from_stage,
                "to_stage": move.to_stage,
                "stages_passed": list(move.stages_passed),
                "write_off_review": move.write_off_review,
                "reason": move.reason,
            }
        )
    return moves


# --- customers ------------------------------------------------------------------------------------------


def customer_segment(directory_segment: str | None, profile: CustomerProfile | None) -> Segment:
    """Same rule as sweep.segment_sql: high risk (grade D, on hold) wins over key account."""
    if profile is not None and (profile.on_credit_hold or (profile.credit_grade or "").upper() == "D"):
        return Segment.HIGH_RISK
    if directory_segment in (Segment.HIGH_RISK, Segment.KEY_ACCOUNT):
        return Segment(directory_segment)
    return Segment.GENERAL


def clause_of(profile: CustomerProfile | None) -> DisputeResolution:
    if profile is None:
        return DisputeResolution()
    try:
        kind = ClauseKind(profile.clause_kind)
    except ValueError:
        kind = ClauseKind.UNKNOWN
    return DisputeResolution(kind, profile.commission)


async def profile_for(session: AsyncSession, customer_id: uuid.UUID, now: datetime) -> CustomerProfile:
    profile = await session.get(CustomerProfile, customer_id)
    if profile is None:
        profile = CustomerProfile(customer_id=customer_id, clause_kind="unknown", on_credit_hold=False, updated_at=now)
        session.add(profile)
    return profile


async def refresh_open_cases(session: AsyncSession, customer_id: uuid.UUID, now: datetime) -> None:
    """After a segment or contract change, the customer's open cases follow (the sweep reads their columns)."""
    directory = await session.get(KnownCustomer, customer_id)
    profile = await session.get(CustomerProfile, customer_id)
    segment = customer_segment(directory.segment if directory else None, profile)
    clause = clause_of(profile)
    for row in (
        await session.scalars(select(Case).where(Case.customer_id == customer_id, Case.status.in_(["open", "on_hold"])))
    ).all():
        row.segment, row.route = segment.value, clause.route.value
        row.clause_kind, row.commission = clause.kind.value, clause.commission
        row.updated_at = now
    await session.flush()


# --- contact discipline ---------------------------------------------------------------------------------


async def known_customer_or_404(session: AsyncSession, customer_id: uuid.UUID, settings: CollectionsSettings) -> None:
    if settings.require_known_customer and await session.get(KnownCustomer, customer_id) is None:
        raise NotFound(f"customer {customer_id} is not known to the registry")


def preferences_view(
    customer_id: uuid.UUID, row: ContactPreference | None, settings: CollectionsSettings
) -> dict[str, Any]:
    """The stored preferences, or the defaults (every channel consented, the service's time zone, version 0)."""
    if row is None:
        return {
            "customer_id": customer_id,
            "consent": {},
            "time_zone": settings.contact_default_time_zone,
            "version": 0,
            "updated_at": None,
        }
    return {
        "customer_id": customer_id,
        "consent": dict(row.consent),
        "time_zone": row.time_zone,
        "version": row.version,
        "updated_at": row.updated_at,
    }


async def get_contact_preferences(
    session: AsyncSession, customer_id: uuid.UUID, settings: CollectionsSettings
) -> dict[str, Any]:
    await known_customer_or_404(session, customer_id, settings)
    return preferences_view(customer_id, await session.get(ContactPreference, customer_id), settings)


async def put_contact_preferences(
    session: AsyncSession,
    customer_id: uuid.UUID,
    data: ContactPreferencesUpdate,
    if_match: str | None,
    settings: CollectionsSettings,
    now: datetime,
) -> dict[str, Any]:
    """Replace the preferences; If-Match is required once they are stored (428/412), optional before."""
    from shared.http import check_if_match

    await known_customer_or_404(session, customer_id, settings)
    row = await session.get(ContactPreference, customer_id, with_for_update=True)
    check_if_match(if_match, row.version if row else 0, required=row is not None)
    try:
        zone(data.time_zone)
    except DomainRuleViolation as exc:
        raise _body(exc) from exc
    consent = data.consent.model_dump()
    if row is None:
        row = ContactPreference(
            customer_id=customer_id,
            consent=consent,
            time_zone=data.time_zone,
            version=1,
            created_at=now,
            updated_at=now,
        )
        session.add(row)
    else:
        row.consent, row.time_zone = consent, data.time_zone
        row.version += 1
        row.updated_at = now
    await session.flush()
    return preferences_view(customer_id, row, settings)


def contact_rules(settings: CollectionsSettings) -> ContactRules:
    return ContactRules(
        weekly_cap=settings.contact_weekly_cap,
        quiet_start=settings.contact_quiet_start,
        quiet_end=settings.contact_quiet_end,
    )


async def contact_decision(
    session: AsyncSession,
    customer_id: uuid.UUID,
    channel: Channel,
    at: datetime,
    settings: CollectionsSettings,
    *,
    legally_required: bool = False,
) -> ContactDecision:
    """Apply the contact rule to the customer's preferences and the contacts logged in the last 7 days."""
    row = await session.get(ContactPreference, customer_id)
    preferences = ContactPreferences(
        consent=dict(row.consent) if row else {}, time_zone=row.time_zone if row else settings.contact_default_time_zone
    )
    recent = (
        await session.scalars(
            select(ContactLog.at).where(
                ContactLog.customer_id == customer_id, ContactLog.at > at - WINDOW, ContactLog.at <= at
            )
        )
    ).all()
    return check_contact(
        channel, at, preferences, list(recent), contact_rules(settings), legally_required=legally_required
    )


def log_contact(
    session: AsyncSession,
    customer_id: uuid.UUID,
    channel: Channel,
    at: datetime,
    *,
    case_id: uuid.UUID | None = None,
    action_id: uuid.UUID | None = None,
) -> None:
    session.add(
        ContactLog(
            id=uuid.uuid4(),
            customer_id=customer_id,
            case_id=case_id,
            action_id=action_id,
            channel=channel.value,
            at=at,
            created_at=at,
        )
    )


async def record_contact(
    session: AsyncSession,
    customer_id: uuid.UUID,
    data: ContactCreate,
    actor: str,
    settings: CollectionsSettings,
    now: datetime,
) -> ContactLog:
    """Log a contact made now, if the contact rules allow it: 409 with the reason and the earliest allowed
    time when not (weekly cap, quiet hours), or when the customer withdrew consent for the channel."""
    await known_customer_or_404(session, customer_id, settings)
    case_row = None
    if data.case_id is not None:
        case_row = await session.get(Case, data.case_id)
        if case_row is None or case_row.customer_id != customer_id:
            raise DomainRuleViolation(
                f"no case {data.case_id} of customer {customer_id}",
                errors=[{"field": "body.case_id", "message": "not a case of this customer"}],
            )
    decision = await contact_decision(
        session, customer_id, data.channel, now, settings, legally_required=data.legally_required
    )
    if not decision.allowed:
        raise Conflict(
            f"contact by {data.channel} is not allowed now: {decision.reason}",
            errors=[{"field": "body.channel", "message": decision.reason}],
        )
    row = ContactLog(
        id=uuid.uuid4(),
        customer_id=customer_id,
        case_id=data.case_id,
        action_id=None,
        channel=data.channel.value,
        at=now,
        created_at=now,
    )
    session.add(row)
    if case_row is not None:
        add_history(
            session,
            case_row,
            "contact_made",
            f"{data.channel} contact",
            actor,
            now,
            from_stage=case_row.stage,
            to_stage=case_row.stage,
        )
    await session.flush()
    return row


async def list_contacts(
    session: AsyncSession,
    customer_id: uuid.UUID,
    *,
    limit: int,
    after: tuple[datetime, uuid.UUID] | None,
    settings: CollectionsSettings,
) -> list[ContactLog]:
    await known_customer_or_404(session, customer_id, settings)
    query = select(ContactLog).where(ContactLog.customer_id == customer_id)
    if (keyset := after_keyset(ContactLog.created_at, ContactLog.id, after)) is not None:
        query = query.where(keyset)
    return list((await session.scalars(query.order_by(ContactLog.created_at, ContactLog.id).limit(limit))).all())


# --- invoices -------------------------------------------------------------------------------------------


async def _invoice_problems(
    session: AsyncSession, data: InvoiceCreate, settings: CollectionsSettings, where: str
) -> tuple[list[dict[str, str]], str, date]:
    problems: list[dict[str, str]] = []
    profile = await session.get(CustomerProfile, data.customer_id)
    if settings.require_known_customer and await session.get(KnownCustomer, data.customer_id) is None:
        problems.append(
            {"field": f"{where}.customer_id", "message": f"customer {data.customer_id} is not known to the registry"}
        )
    terms_text = (
        data.credit_terms
        or (profile.credit_terms if profile and profile.credit_terms else None)
        or settings.default_credit_terms
    )
    due_date = data.due_date or data.issue_date
    try:
        terms = parse_terms(terms_text)
        terms_text = str(terms)
        due_date = data.due_date or terms.due_date(data.issue_date)
    except DomainRuleViolation as exc:
        problems.append({"field": f"{where}.credit_terms", "message": exc.detail or "malformed credit terms"})
    if due_date < data.issue_date:
        problems.append(
            {"field": f"{where}.due_date", "message": f"due date {due_date} is before the issue date {data.issue_date}"}
        )
    return problems, terms_text, due_date


async def create_invoices(
    session: AsyncSession, items: Sequence[InvoiceCreate], settings: CollectionsSettings, now: datetime, *, bulk: bool
) -> list[Invoice]:
    """Record invoices (all or nothing), announce each and the customers' receivables."""
    problems: list[dict[str, str]] = []
    prepared = []
    seen: set[tuple[uuid.UUID, str]] = set()
    for index, data in enumerate(items):
        where = f"body.invoices.{index}" if bulk else "body"
        item_problems, terms, due_date = await _invoice_problems(session, data, settings, where)
        key = (data.customer_id, data.number)
        if key in seen:
            item_problems.append({"field": f"{where}.number", "message": f"duplicate number {data.number}"})
        seen.add(key)
        problems += item_problems
        prepared.append((data, terms, due_date))
    if problems:
        raise DomainRuleViolation(
            f"{len(problems)} problem(s) in the invoice data; nothing was recorded", errors=problems
        )
    taken = (
        await session.execute(
            select(Invoice.customer_id, Invoice.number).where(
                or_(*(and_(Invoice.customer_id == data.customer_id, Invoice.number == data.number) for data in items))
            )
        )
    ).all()
    if taken:
        raise Conflict(
            "invoice numbers already recorded for these customers",
            errors=[{"field": "body.number", "message": f"{row.number} already recorded"} for row in taken],
        )
    invoices = []
    for data, terms, due_date in prepared:
        invoice = Invoice(
            id=uuid.uuid4(),
            customer_id=data.customer_id,
            number=data.number,
            issue_date=data.issue_date,
            due_date=due_date,
            currency=data.currency,
            amount=data.amount,
            credit_terms=terms,
            principal_outstanding=data.amount,
            interest_outstanding=ZERO,
            costs_outstanding=ZERO,
            discount_granted=ZERO,
            status="open",
            version=1,
            created_at=now,
            updated_at=now,
        )
        session.add(invoice)
        invoices.append(invoice)
    await session.flush()
    for invoice in invoices:
        await emit(
            session,
            InvoiceIssued(
                customer_id=invoice.customer_id,
                invoice_id=invoice.id,
                number=invoice.number,
                issue_date=invoice.issue_date,
                due_date=invoice.due_date,
                currency=invoice.currency,
                amount=invoice.amount,
                credit_terms=invoice.credit_terms,
            ),
            at=now,
        )
    await announce_receivables(session, {invoice.customer_id for invoice in invoices}, now)
    return invoices


async def announce_receivables(
    session: AsyncSession, customers: set[uuid.UUID], now: datetime, as_of: date | None = None
) -> None:
    for event in await sweeps.receivables_events(session, customers, as_of or now.date(), now):
        await emit(session, event, at=now)


async def get_invoice(session: AsyncSession, invoice_id: uuid.UUID, *, lock: bool = False) -> Invoice:
    invoice = await session.get(Invoice, invoice_id, with_for_update=lock)
    if invoice is None:
        raise NotFound(f"no invoice {invoice_id}")
    return invoice


async def list_invoices(
    session: AsyncSession,
    *,
    limit: int,
    after: tuple[datetime, uuid.UUID] | None,
    customer_id: uuid.UUID | None,
    status: str | None,
) -> list[Invoice]:
    query = select(Invoice)
    if customer_id:
        query = query.where(Invoice.customer_id == customer_id)
    if status:
        query = query.where(Invoice.status == status)
    if (keyset := after_keyset(Invoice.created_at, Invoice.id, after)) is not None:
        query = query.where(keyset)
    return list((await session.scalars(query.order_by(Invoice.created_at, Invoice.id).limit(limit))).all())


def interest_due(invoice: Invoice, policy: Policy, as_of: date) -> Decimal:
    """Penalty interest outstanding as of ``as_of``: accrued so far plus daily interest since on the principal."""
    if invoice.status != "open" or as_of <= invoice.due_date:
        return Decimal(invoice.interest_outstanding)
    start = max(invoice.interest_accrued_to or invoice.due_date, invoice.due_date)
    if as_of <= start:
        return Decimal(invoice.interest_outstanding)
    return Decimal(invoice.interest_outstanding) + penalty_interest(
        Decimal(invoice.principal_outstanding), policy.penalty_interest_annual_rate, start, as_of
    )


def charged_interest(invoice: Invoice, policy: Policy, as_of: date, settings: CollectionsSettings) -> Decimal:
    """The penalty interest the debtor owes as of ``as_of``: accrued daily when charged, else what was billed."""
    if settings.charge_penalty_interest:
        return interest_due(invoice, policy, as_of)
    return Decimal(invoice.interest_outstanding)


def invoice_view(invoice: Invoice, policy: Policy, as_of: date, settings: CollectionsSettings) -> dict[str, Any]:
    interest = charged_interest(invoice, policy, as_of, settings)
    values = {
        name: getattr(invoice, name)
        for name in (
            "id",
            "customer_id",
            "number",
            "issue_date",
            "due_date",
            "currency",
            "amount",
            "credit_terms",
            "status",
            "principal_outstanding",
            "costs_outstanding",
            "discount_granted",
            "paid_on",
            "version",
            "created_at",
        )
    }
    values["interest_outstanding"] = interest
    values["penalty_interest_accrued"] = interest_due(invoice, policy, as_of) if invoice.status == "open" else interest
    values["amount_due"] = Decimal(invoice.principal_outstanding) + interest + Decimal(invoice.costs_outstanding)
    return values


async def record_payment(
    session: AsyncSession,
    invoice: Invoice,
    data: PaymentCreate,
    now: datetime,
    settings: CollectionsSettings,
    *,
    actor: str = "api",
) -> tuple[Payment, Policy]:
    """Apply a payment: inside a discount window it may settle at the discounted amount; else costs →
    penalty interest → principal (policy order). Paid invoices refuse payments (409), overpayment is 422."""
    if invoice.status != "open":
        raise Conflict(f"invoice {invoice.number} is {invoice.status}: no payment can be applied")
    policy = await current_policy(session)
    paid_on = data.paid_on or now.date()
    terms = parse_terms(invoice.credit_terms)
    discount = ZERO
    try:
        if (
            terms.discount_percent_for(invoice.issue_date, paid_on) > 0
            and invoice.costs_outstanding == 0
            and invoice.interest_outstanding == 0
        ):
            settlement = settle_with_discount(
                invoice.amount, invoice.principal_outstanding, data.amount, terms, invoice.issue_date, paid_on
            )
            costs_applied, interest_applied, principal_applied = ZERO, ZERO, settlement.principal_applied
            discount = settlement.discount_granted
            invoice.principal_outstanding = settlement.principal_remaining
        else:
            interest = charged_interest(invoice, policy, paid_on, settings)
            invoice.interest_outstanding = interest
            invoice.interest_accrued_to = max(paid_on, invoice.interest_accrued_to or paid_on)
            allocation = allocate_payment(
                data.amount, invoice.costs_outstanding, interest, invoice.principal_outstanding, policy.allocation_order
            )
            costs_applied, interest_applied = allocation.costs, allocation.penalty_interest
            principal_applied = allocation.principal
            invoice.costs_outstanding -= costs_applied
            invoice.interest_outstanding -= interest_applied
            invoice.principal_outstanding -= principal_applied
    except DomainRuleViolation as exc:
        raise _body(exc) from exc
    invoice.discount_granted += discount
    settled = (
        invoice.principal_outstanding == 0 and invoice.costs_outstanding == 0 and invoice.interest_outstanding == 0
    )
    if settled:
        invoice.status, invoice.paid_on = "paid", paid_on
    invoice.version += 1
    invoice.updated_at = now
    payment = Payment(
        id=uuid.uuid4(),
        invoice_id=invoice.id,
        customer_id=invoice.customer_id,
        paid_on=paid_on,
        amount=data.amount,
        costs_applied=costs_applied,
        interest_applied=interest_applied,
        principal_applied=principal_applied,
        discount_granted=discount,
        reference=data.reference,
        method=data.method,
        status="applied",
        created_at=now,
    )
    session.add(payment)
    await session.flush()
    await emit(
        session,
        PaymentReceived(
            customer_id=invoice.customer_id,
            invoice_id=invoice.id,
            payment_id=payment.id,
            paid_on=paid_on,
            currency=invoice.currency,
            amount=data.amount,
            discount_granted=discount,
            invoice_outstanding=invoice.principal_outstanding
            + invoice.interest_outstanding
            + invoice.costs_outstanding,
            invoice_status=invoice.status,
        ),
        at=now,
    )
    case_row = await session.scalar(select(Case).where(Case.invoice_id == invoice.id))
    if case_row is not None and case_row.status in ("open", "on_hold"):
        case_row.outstanding = invoice.principal_outstanding
        case_row.disputed_amount = min(case_row.disputed_amount, case_row.outstanding)
        case_row.updated_at, case_row.version = now, case_row.version + 1
        if settled:
            await close_case(session, case_row, CaseStatus.RESOLVED, "paid", f"invoice paid on {paid_on}", actor, now)
            await emit(
                session,
                CaseResolved(
                    customer_id=case_row.customer_id,
                    case_id=case_row.id,
                    invoice_id=invoice.id,
                    resolution="paid",
                    final_stage=case_row.stage,
                ),
                at=now,
            )
    await announce_receivables(session, {invoice.customer_id}, now, paid_on)
    return payment, policy


async def bounce_payment(
    session: AsyncSession,
    payment_id: uuid.UUID,
    data: BounceCreate,
    now: datetime,
    settings: CollectionsSettings,
    actor: str,
) -> tuple[Payment, Invoice, Policy]:
    """A cheque returned unpaid: undo its allocation (costs, interest, principal and any discount it earned),
    re-open the invoice and its case (at the stage it had), charge the bounce fee as a cost when configured.
    404 unknown payment; 409 not a cheque, already bounced, or the invoice was written off."""
    payment = await session.get(Payment, payment_id, with_for_update=True)
    if payment is None:
        raise NotFound(f"no payment {payment_id}")
    if payment.method != "cheque":
        raise Conflict(f"payment {payment_id} was made by {payment.method}: only a cheque can bounce")
    if payment.status == "bounced":
        raise Conflict(f"payment {payment_id} already bounced")
    invoice = await get_invoice(session, payment.invoice_id, lock=True)
    if invoice.status == "written_off":
        raise Conflict(f"invoice {invoice.number} was written off: its payments cannot be reversed")
    policy = await current_policy(session)
    fee = settings.cheque_bounce_fee
    invoice.costs_outstanding = Decimal(invoice.costs_outstanding) + Decimal(payment.costs_applied) + fee
    invoice.interest_outstanding = Decimal(invoice.interest_outstanding) + Decimal(payment.interest_applied)
    invoice.principal_outstanding = (
        Decimal(invoice.principal_outstanding) + Decimal(payment.principal_applied) + Decimal(payment.discount_granted)
    )
    invoice.discount_granted = Decimal(invoice.discount_granted) - Decimal(payment.discount_granted)
    invoice.status, invoice.paid_on = "open", None
    invoice.version += 1
    invoice.updated_at = now
    payment.status, payment.bounced_at, payment.bounce_reason = "bounced", now, data.reason
    reason = f"cheque payment {payment.id} of {payment.amount} {invoice.currency} bounced: {data.reason}"
    if fee > 0:
        reason += f"; bounce fee {fee} charged"
    case_row = await session.scalar(select(Case).where(Case.invoice_id == invoice.id).with_for_update())
    if case_row is not None:
        if case_row.status == CaseStatus.RESOLVED:
            case_row.status, case_row.resolution, case_row.closed_at = CaseStatus.OPEN.value, None, None
            add_history(
                session, case_row, "reopened", reason, actor, now, from_stage=case_row.stage, to_stage=case_row.stage
            )
        elif case_row.status in ("open", "on_hold"):
            add_history(
                session,
                case_row,
                "payment_reversed",
                reason,
                actor,
                now,
                from_stage=case_row.stage,
                to_stage=case_row.stage,
            )
        case_row.outstanding = invoice.principal_outstanding
        case_row.version += 1
        case_row.updated_at = now
    await session.flush()
    outstanding = (
        Decimal(invoice.principal_outstanding)
        + Decimal(invoice.interest_outstanding)
        + Decimal(invoice.costs_outstanding)
    )
    await emit(
        session,
        PaymentReversed(
            customer_id=invoice.customer_id,
            invoice_id=invoice.id,
            payment_id=payment.id,
            method=payment.method,
            reason=data.reason,
            currency=invoice.currency,
            amount=payment.amount,
            fee_charged=fee,
            discount_restored=payment.discount_granted,
            invoice_outstanding=outstanding,
            invoice_status=invoice.status,
            reversed_at=now,
        ),
        at=now,
    )
    await announce_receivables(session, {invoice.customer_id}, now)
    return payment, invoice, policy


# --- cases ----------------------------------------------------------------------------------------------


def case_facts(row: Case) -> CaseFacts:
    return CaseFacts(
        due_date=row.due_date,
        outstanding=Decimal(row.outstanding),
        current_stage=Stage(row.stage) if row.stage else None,
        status=CaseStatus(row.status),
        disputed_amount=Decimal(row.disputed_amount),
        segment=Segment(row.segment),
        dispute_resolution=DisputeResolution(ClauseKind(row.clause_kind), row.commission),
        promise_to_pay=row.promise_to_pay,
        manual_hold=row.status == CaseStatus.ON_HOLD,
        malicious=row.malicious,
        case_id=row.id,
    )


async def get_case(session: AsyncSession, case_id: uuid.UUID, *, lock: bool = False) -> Case:
    row = await session.get(Case, case_id, with_for_update=lock)
    if row is None:
        raise NotFound(f"no case {case_id}")
    return row


async def case_history(session: AsyncSession, case_id: uuid.UUID) -> list[CaseHistory]:
    return list(
        (
            await session.scalars(select(CaseHistory).where(CaseHistory.case_id == case_id).order_by(CaseHistory.id))
        ).all()
    )


async def case_actions(session: AsyncSession, case_id: uuid.UUID) -> list[CaseAction]:
    return list(
        (
            await session.scalars(
                select(CaseAction).where(CaseAction.case_id == case_id).order_by(CaseAction.created_at, CaseAction.id)
            )
        ).all()
    )


async def list_cases(
    session: AsyncSession,
    *,
    limit: int,
    after: tuple[datetime, uuid.UUID] | None,
    stage: str | None,
    status: str | None,
    customer_id: uuid.UUID | None,
) -> list[Case]:
    query = select(Case)
    if stage:
        query = query.where(Case.stage == stage)
    if status:
        query = query.where(Case.status == status)
    if customer_id:
        query = query.where(Case.customer_id == customer_id)
    if (keyset := after_keyset(Case.created_at, Case.id, after)) is not None:
        query = query.where(keyset)
    return list((await session.scalars(query.order_by(Case.created_at, Case.id).limit(limit))).all())


def add_history(
    session: AsyncSession,
    row: Case,
    event: str,
    reason: str,
    actor: str,
    now: datetime,
    *,
    from_stage: str | None = None,
    to_stage: str | None = None,
    rule: str | None = None,
    policy_version: int | None = None,
    as_of: date | None = None,
) -> None:
    session.add(
        CaseHistory(
            case_id=row.id,
            as_of=as_of or now.date(),
            event=event,
            from_stage=from_stage,
            to_stage=to_stage,
            at=now,
            rule=rule,
            reason=reason,
            policy_version=policy_version,
            actor=actor,
        )
    )


async def close_case(
    session: AsyncSession, row: Case, status: CaseStatus, resolution: str, reason: str, actor: str, now: datetime
) -> None:
    row.status, row.resolution, row.closed_at = status.value, resolution, now
    row.updated_at = now
    add_history(session, row, str(status), reason, actor, now, from_stage=row.stage, to_stage=row.stage)
    await session.flush()


async def apply_decision(
    session: AsyncSession, row: Case, decision: StageDecision, policy: Policy, actor: str, now: datetime, as_of: date
) -> None:
    """Enter every stage of ``decision`` (history + stage_entered each), as the sweep does."""
    invoice = await session.get(Invoice, row.invoice_id)
    assert invoice is not None
    previous = row.stage
    for step in decision.steps:
        add_history(
            session,
            row,
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
                customer_id=row.customer_id,
                case_id=row.id,
                invoice_id=row.invoice_id,
                stage=step.stage.value,
                previous_stage=previous,
                rule=step.rule,
                reason=step.reason,
                policy_version=policy.version,
                days_overdue=decision.days_overdue,
                currency=row.currency,
                amount=decision.escalating_amount,
                stop_supply=supply_must_stop(policy, Segment(row.segment), step.stage, malicious=row.malicious),
                entered_at=now,
                as_of=as_of,
            ),
            at=now,
        )
        previous = step.stage.value
    if decision.steps:
        row.previous_stage, row.stage = row.stage, decision.steps[-1].stage.value
        row.stage_rank = stage_rank(decision.steps[-1].stage)
    if decision.promise_broken:
        row.last_broken_promise, row.promise_to_pay = row.promise_to_pay, None
    if decision.write_off_review:
        row.write_off_review = True
    row.version += 1
    row.updated_at = now
    await session.flush()


async def record_promise(session: AsyncSession, row: Case, data: PromiseCreate, now: datetime, actor: str) -> Case:
    try:
        validate_promise(CaseStatus(row.status), data.promised_on, now.date())
    except DomainRuleViolation as exc:
        raise _body(exc) from exc
    row.promise_to_pay = data.promised_on
    row.version += 1
    row.updated_at = now
    add_history(
        session,
        row,
        "promise_recorded",
        f"promise to pay by {data.promised_on}",
        actor,
        now,
        from_stage=row.stage,
        to_stage=row.stage,
    )
    await session.flush()
    await emit(
        session,
        PromiseRecorded(
            customer_id=row.customer_id,
            case_id=row.id,
            invoice_id=row.invoice_id,
            promised_on=data.promised_on,
            currency=row.currency,
            amount=data.amount or row.outstanding,
        ),
        at=now,
    )
    return row


async def record_dispute(
    session: AsyncSession, row: Case, amount: Decimal, reason: str, now: datetime, actor: str
) -> Case:
    try:
        validate_dispute(CaseStatus(row.status), amount, Decimal(row.outstanding))
    except DomainRuleViolation as exc:
        raise _body(exc) from exc
    row.disputed_amount = amount
    row.version += 1
    row.updated_at = now
    add_history(
        session,
        row,
        "dispute_recorded",
        f"{amount} disputed: {reason}",
        actor,
        now,
        from_stage=row.stage,
        to_stage=row.stage,
    )
    await session.flush()
    return row


async def lift_dispute(session: AsyncSession, row: Case, reason: str, now: datetime, actor: str) -> None:
    if row.disputed_amount == 0:
        return
    row.disputed_amount = ZERO
    row.version += 1
    row.updated_at = now
    add_history(session, row, "dispute_lifted", reason, actor, now, from_stage=row.stage, to_stage=row.stage)
    await session.flush()


async def manual_action(
    session: AsyncSession, row: Case, data: CaseActionCreate, now: datetime, actor: str, settings: CollectionsSettings
) -> Case:
    try:
        validate_manual_action(CaseStatus(row.status), data.action, data.reason, actor)
    except DomainRuleViolation as exc:
        raise _body(exc) from exc
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
    else:
        await write_off(session, row, data.reason, actor, now, settings)
        return row
    row.version += 1
    row.updated_at = now
    await session.flush()
    return row


async def write_off(
    session: AsyncSession, row: Case, reason: str, actor: str, now: datetime, settings: CollectionsSettings
) -> None:
    invoice = await get_invoice(session, row.invoice_id)
    policy = await current_policy(session)
    amount = (
        Decimal(invoice.principal_outstanding)
        + charged_interest(invoice, policy, now.date(), settings)
        + Decimal(invoice.costs_outstanding)
    )
    invoice.status, invoice.updated_at, invoice.version = "written_off", now, invoice.version + 1
    await close_case(session, row, CaseStatus.WRITTEN_OFF, "written_off", reason, actor, now)
    row.version += 1
    await emit(
        session,
        CaseWrittenOff(
            customer_id=row.customer_id,
            case_id=row.id,
            invoice_id=row.invoice_id,
            currency=row.currency,
            amount=amount,
            reason=reason,
            actor=actor,
        ),
        at=now,
    )
    await announce_receivables(session, {row.customer_id}, now)


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
        raise _body(exc) from exc
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


# --- agencies -------------------------------------------------------------------------------------------


async def create_agency(session: AsyncSession, data: AgencyCreate, now: datetime) -> Agency:
    from services.collections.domain.agencies import Agency as DomainAgency

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
        raise _body(exc) from exc
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
    from services.collections.domain.agencies import agency_settlement

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
    from services.collections.domain.agencies import recall_decision

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
            row = await session.get(Case, assignment.case_id)
            if row is not None:
                add_history(
                    session,
                    row,
                    "agency_recalled",
                    decision.reason,
                    "sweep",
                    now,
                    from_stage=row.stage,
                    to_stage=row.stage,
                    as_of=as_of,
                )
            recalled += 1
    await session.flush()
    return recalled


# --- sweep ----------------------------------------------------------------------------------------------


async def run_sweep(
    session: AsyncSession, as_of: date, now: datetime, settings: CollectionsSettings | None = None
) -> sweeps.SweepOutcome:
    """The overdue sweep, agency recalls and (with ``settings``) the deferred contacts now allowed."""
    policy = await current_policy(session)
    outcome = await sweeps.run_sweep(session, policy, as_of, now)
    await recall_late_agencies(session, as_of, now)
    if settings is not None:
        from services.collections.stage_actions import retry_deferred_contacts

        await retry_deferred_contacts(session, as_of, settings, now)
    return outcome


# --- reports --------------------------------------------------------------------------------------------


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


def decide_case(row: Case, policy: Policy, as_of: date) -> StageDecision:
    return decide(case_facts(row), policy, as_of)


async def count_rows(session: AsyncSession, model: Any) -> int:
    return int(await session.scalar(select(func.count()).select_from(model)) or 0)
