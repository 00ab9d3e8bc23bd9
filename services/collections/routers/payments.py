"""Payments on invoices and the reversal of bounced cheques."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import Response

from services.collections import repository
from services.collections.routers.common import Writer, settings_of
from services.collections.schemas.payments import BounceCreate, PaymentCreate, PaymentRead
from services.collections.service import invoices, payments
from shared.app import ClockDep, RuntimeDep, Session
from shared.http import IdempotencyDep
from shared.openapi import api_router

router = api_router(tags=["collections"])


@router.post(
    "/invoices/{invoice_id}/payments",
    status_code=201,
    response_model=PaymentRead,
    summary="Apply a payment to an invoice",
)
async def create_payment(
    invoice_id: uuid.UUID,
    body: PaymentCreate,
    session: Session,
    clock: ClockDep,
    runtime: RuntimeDep,
    principal: Writer,
    idempotency: IdempotencyDep,
) -> Response:
    """Partial payments allowed; inside a discount window the invoice settles at the discounted amount; else
    costs → penalty interest → principal. 409 on a paid invoice, 422 on overpayment. Emits `payment_received`,
    `receivables_changed`, and `case_resolved` when it settles a case's invoice."""
    now = clock.now()

    async def create() -> PaymentRead:
        invoice = await repository.get_invoice(session, invoice_id, lock=True)
        settings = settings_of(runtime)
        backdated_by = payments.vet_payment_date(invoice, body, now, settings, principal=principal)
        payment, policy = await payments.record_payment(
            session,
            invoice,
            body,
            now,
            settings_of(runtime),
            actor=principal.subject,
            backdated_by=backdated_by,
        )
        return _payment_read(payment, invoices.invoice_view(invoice, policy, now.date(), settings_of(runtime)))

    return await idempotency.run(session, now, create)


def _payment_read(payment: Any, view: dict[str, Any]) -> PaymentRead:
    return PaymentRead.model_validate(
        {
            **{
                name: getattr(payment, name)
                for name in (
                    "id",
                    "invoice_id",
                    "paid_on",
                    "amount",
                    "costs_applied",
                    "interest_applied",
                    "principal_applied",
                    "discount_granted",
                    "reference",
                    "method",
                    "status",
                    "bounced_at",
                    "bounce_reason",
                    "backdated_by",
                )
            },
            "recorded_at": payment.created_at,
            "invoice": view,
        }
    )


@router.post("/payments/{payment_id}/bounce", response_model=PaymentRead, summary="Reverse a bounced cheque")
async def bounce_payment(
    payment_id: uuid.UUID,
    body: BounceCreate,
    session: Session,
    clock: ClockDep,
    runtime: RuntimeDep,
    principal: Writer,
    idempotency: IdempotencyDep,
) -> Response:
    """The cheque was returned unpaid: its allocation is undone (costs, penalty interest, principal and any
    discount it earned are outstanding again), the invoice re-opens and so does its case, at the stage it
    had (history records it); the bounce fee, if the service charges one, is added to the costs.
    404 unknown payment; 409 when the payment is not a cheque, already bounced, or its invoice was written off.
    Emits `payment_reversed` and `receivables_changed`."""
    now = clock.now()
    settings = settings_of(runtime)

    async def create() -> PaymentRead:
        payment, invoice, policy = await payments.bounce_payment(
            session, payment_id, body, now, settings, principal.subject
        )
        return _payment_read(payment, invoices.invoice_view(invoice, policy, now.date(), settings))

    return await idempotency.run(session, now, create, status_code=200)
