"""Events from other services the credit service applies, as an explicit map type -> handlers.

Collections' events keep exposure, DSO history and credit holds current. Each handler runs in one
transaction with its inbox row, so a redelivered event changes nothing twice.
"""

from __future__ import annotations

import logging
from decimal import Decimal
from typing import cast

from services.credit import repository
from services.credit.models import InvoiceRecord, KnownCustomer
from services.credit.service import collection_events
from services.credit.settings import CreditSettings
from shared.consumer import EventContext, HandlerMap, batch_handler
from shared.events.base import Envelope
from shared.events.collections import (
    ArrearsMarkedMalicious,
    CaseWrittenOff,
    InvoiceIssued,
    PaymentReceived,
    PaymentReversed,
    ReceivablesChanged,
    StageEntered,
)
from shared.money import to_cents
from shared.readmodels import customer_directory_handlers

log = logging.getLogger(__name__)


def _settings(ctx: EventContext) -> CreditSettings:
    return cast(CreditSettings, ctx.settings)


@batch_handler
async def on_collection_events(ctx: EventContext, envelopes: list[Envelope]) -> None:
    """A run of stage, receivables or malicious-arrears events (a sweep sends tens of thousands).

    Applied in order exactly as one at a time (``collection_events.apply_one``), with the run's profiles,
    limit history and outbox rows read and written in bulk: a stage event may place a hold but never
    release one; receivables release it once overdue debt is settled; malicious arrears end 'keep supplying'.
    """
    await collection_events.apply_run(ctx.session, envelopes, _settings(ctx), ctx.clock.now())


async def on_invoice_issued(ctx: EventContext, event: InvoiceIssued) -> None:
    """Keep the invoice for DSO and payment behaviour; an invoiced order is no longer an open order."""
    now = ctx.clock.now()
    if await repository.invoice(ctx.session, event.invoice_id) is None:
        await repository.add(
            ctx.session,
            InvoiceRecord(
                invoice_id=event.invoice_id,
                customer_id=event.customer_id,
                number=event.number,
                issue_date=event.issue_date,
                due_date=event.due_date,
                currency=event.currency,
                amount=to_cents(event.amount),
                outstanding=to_cents(event.amount),
                paid_amount=Decimal("0.00"),
                status="open",
                created_at=now,
                updated_at=now,
            ),
        )
    if _settings(ctx).count_approved_checks_as_orders:
        profile = await repository.profile(ctx.session, event.customer_id)
        if profile is not None and profile.open_orders > 0:
            profile.open_orders = max(Decimal("0.00"), to_cents(profile.open_orders - event.amount))
            profile.updated_at = now
    await ctx.session.flush()


async def on_payment_received(ctx: EventContext, event: PaymentReceived) -> None:
    """Track what is still outstanding per invoice and when it was paid."""
    record = await repository.invoice(ctx.session, event.invoice_id)
    if record is None:
        return  # the invoice event comes first on the same partition; without it there is nothing to track
    record.outstanding = to_cents(event.invoice_outstanding)
    record.paid_amount = to_cents(record.paid_amount + event.amount + event.discount_granted)
    record.status = event.invoice_status
    record.last_paid_on = event.paid_on
    record.updated_at = ctx.clock.now()
    await ctx.session.flush()


async def on_payment_reversed(ctx: EventContext, event: PaymentReversed) -> None:
    """A cheque bounced: the payment no longer counts towards collection rate, DSO or days late."""
    record = await repository.invoice(ctx.session, event.invoice_id)
    if record is None:
        return
    record.outstanding = to_cents(event.invoice_outstanding)
    record.paid_amount = to_cents(max(Decimal(0), record.paid_amount - event.amount - event.discount_restored))
    record.status = event.invoice_status
    record.updated_at = ctx.clock.now()
    await ctx.session.flush()


async def on_case_written_off(ctx: EventContext, event: CaseWrittenOff) -> None:
    """A case was written off: its amount is bad debt, the numerator of the grade's bad-debt-rate standard."""
    record = await repository.invoice(ctx.session, event.invoice_id)
    if record is None:
        return
    record.outstanding = to_cents(event.amount)
    record.status = "written_off"
    record.updated_at = ctx.clock.now()
    await ctx.session.flush()


EVENT_HANDLERS: HandlerMap = {
    **customer_directory_handlers(KnownCustomer),
    StageEntered: [on_collection_events],
    ReceivablesChanged: [on_collection_events],
    InvoiceIssued: [on_invoice_issued],
    PaymentReceived: [on_payment_received],
    PaymentReversed: [on_payment_reversed],
    CaseWrittenOff: [on_case_written_off],
    ArrearsMarkedMalicious: [on_collection_events],
}
