"""Payments: record (allocate, settle, close) and bounce (reopen) a payment on an invoice."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.collections.domain.allocation import allocate_payment, settle_with_discount
from services.collections.domain.limitation import LimitationBasis
from services.collections.domain.payment_dates import BACKDATE_SCOPE, is_backdated, payment_date_problem
from services.collections.domain.policy import Policy
from services.collections.domain.stages import CaseStatus
from services.collections.models import (
    Case,
    Invoice,
    Payment,
)
from services.collections.repository import add_history, close_case, get_invoice, interrupt_limitation
from services.collections.schemas.payments import BounceCreate, PaymentCreate
from services.collections.service.invoices import charged_interest
from services.collections.service.policy import current_policy
from services.collections.service.receivables import announce_receivables
from services.collections.settings import CollectionsSettings
from shared.auth import Principal
from shared.errors import Conflict, DomainRuleViolation, Forbidden, NotFound, in_body
from shared.events.collections import (
    CaseResolved,
    PaymentReceived,
    PaymentReversed,
)
from shared.money import ZERO
from shared.outbox import emit
from shared.terms import parse_terms


def vet_payment_date(
    invoice: Invoice, data: PaymentCreate, now: datetime, settings: CollectionsSettings, *, principal: Principal
) -> str | None:
    """A client's payment date: not in the future nor before the issue date (422); further back than the
    backdating window only with the scope collections:backdate (else 403). Returns who backdated it, if so."""
    paid_on = data.paid_on or now.date()
    if (problem := payment_date_problem(paid_on, invoice.issue_date, now.date())) is not None:
        raise DomainRuleViolation(problem, errors=[{"field": "body.paid_on", "message": problem}])
    if not is_backdated(paid_on, now.date(), settings.payment_backdate_window_days):
        return None
    if not principal.has(BACKDATE_SCOPE):
        raise Forbidden(
            f"a payment dated more than {settings.payment_backdate_window_days} days back needs the scope "
            f"{BACKDATE_SCOPE}"
        )
    return principal.subject


async def record_payment(
    session: AsyncSession,
    invoice: Invoice,
    data: PaymentCreate,
    now: datetime,
    settings: CollectionsSettings,
    *,
    actor: str = "api",
    backdated_by: str | None = None,
) -> tuple[Payment, Policy]:
    """Apply a payment: inside a discount window it may settle at the discounted amount; else costs →
    penalty interest → principal (policy order). Paid invoices refuse payments (409), overpayment is 422."""
    if invoice.status != "open":
        raise Conflict(f"invoice {invoice.number} is {invoice.status}: no payment can be applied")
    paid_on = data.paid_on or now.date()
    policy = await current_policy(session)
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
        raise in_body(exc) from exc
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
        backdated_by=backdated_by,
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
        # A payment on account acknowledges the debt: limitation restarts from it (PRC Civil Code art. 195).
        interrupt_limitation(case_row, paid_on, LimitationBasis.PARTIAL_PAYMENT, policy.limitation_years)
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
