"""Invoices: create (one or in bulk), list, get."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Query, Response

from services.collections import repository
from services.collections.routers.common import (
    ETAG_HEADER,
    Cursor,
    Limit,
    Reader,
    Writer,
    registry_of,
    settings_of,
)
from services.collections.schemas.invoices import (
    InvoiceBulkCreate,
    InvoiceBulkRead,
    InvoiceCreate,
    InvoiceRead,
    invoice_items_json,
)
from services.collections.service import invoices
from services.collections.service import policy as policies
from shared.app import ClockDep, ReadsByKey, Runtime, RuntimeDep, Session
from shared.errors import DomainRuleViolation
from shared.fast_reads import FastRead
from shared.http import (
    IdempotencyDep,
    Page,
    RenderedJson,
    RenderedReads,
    keyset_position,
    next_keyset_cursor,
    read_response,
    readable_items,
)
from shared.openapi import api_router

router = api_router(tags=["collections"])


@router.post(
    "/invoices",
    status_code=201,
    response_model=InvoiceRead,
    summary="Record an invoice",
    responses={201: {"headers": {"Location": {"schema": {"type": "string"}}}}},
)
async def create_invoice(
    body: InvoiceCreate,
    session: Session,
    clock: ClockDep,
    runtime: RuntimeDep,
    _principal: Writer,
    idempotency: IdempotencyDep,
) -> Response:
    """Record one receivable; credit terms default to the customer's contract, then to the service default.
    Emits `invoice_issued` and `receivables_changed`."""
    now = clock.now()

    async def create() -> InvoiceRead:
        [invoice] = await invoices.create_invoices(
            session, [body], settings_of(runtime), now, bulk=False, registry=registry_of(runtime)
        )
        policy = await policies.current_policy(session)
        return InvoiceRead.model_validate(invoices.invoice_view(invoice, policy, now.date(), settings_of(runtime)))

    return await idempotency.run(session, now, create, location=lambda read: f"/v1/invoices/{read.id}")  # type: ignore[attr-defined]


@router.post(
    "/invoices/bulk",
    status_code=201,
    response_model=InvoiceBulkRead,
    summary="Record the invoices of a billing run (all or nothing)",
)
async def create_invoices_bulk(
    body: InvoiceBulkCreate,
    session: Session,
    clock: ClockDep,
    runtime: RuntimeDep,
    _principal: Writer,
    idempotency: IdempotencyDep,
) -> Response:
    """Every invoice is validated first; any problem (listed per item, `body.invoices[i].field`) records none."""
    now = clock.now()
    settings = settings_of(runtime)
    if len(body.invoices) > settings.bulk_invoice_limit:
        raise DomainRuleViolation(
            f"at most {settings.bulk_invoice_limit} invoices per request",
            errors=[{"field": "body.invoices", "message": "too many"}],
        )

    async def create() -> RenderedJson:
        created = await invoices.create_invoices(
            session, body.invoices, settings, now, bulk=True, registry=registry_of(runtime)
        )
        policy = await policies.current_policy(session)
        # InvoiceBulkRead's JSON, written without a model per item (10,000 of them: a third of the request).
        today = now.date()
        return RenderedJson(invoice_items_json(invoices.invoice_view(i, policy, today, settings) for i in created))

    return await idempotency.run(session, now, create)


@router.get("/invoices", response_model=Page[InvoiceRead], summary="List invoices")
async def list_invoices(
    session: Session,
    clock: ClockDep,
    runtime: RuntimeDep,
    _principal: Reader,
    customer_id: uuid.UUID | None = None,
    status: Annotated[str | None, Query(pattern="^(open|paid|written_off)$")] = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> Page[InvoiceRead]:
    """Invoices in recording order, filtered by customer and status."""
    rows = await repository.list_invoices(
        session, limit=limit + 1, after=keyset_position(cursor), customer_id=customer_id, status=status
    )
    policy = await policies.current_policy(session)
    today = clock.now().date()
    settings = settings_of(runtime)
    return Page[InvoiceRead](
        items=readable_items(
            rows[:limit],
            lambda row: InvoiceRead.model_validate(invoices.invoice_view(row, policy, today, settings)),
            what="invoice",
        ),
        next_cursor=next_keyset_cursor(list(rows), limit),
    )


@router.get("/invoices/{invoice_id}", response_model=InvoiceRead, summary="Get an invoice", responses=ETAG_HEADER)
async def get_invoice(invoice_id: uuid.UUID, runtime: ReadsByKey, _principal: Reader) -> Response:
    """The invoice with its outstanding principal, penalty interest accrued to today and costs."""
    return await invoice_response(runtime, invoice_id)


async def invoice_response(runtime: Runtime, invoice_id: uuid.UUID) -> Response:
    """The answer of ``get_invoice`` (also given by its fast read, shared.fast_reads)."""
    invoice = await repository.read_invoice(runtime.db, invoice_id)
    today = runtime.clock.now().date()
    rendered: RenderedReads = runtime.extras.setdefault("rendered:invoices", RenderedReads())
    source = (today, *invoice)  # the row carries the stamp of its policy
    answer = rendered.answer(invoice_id, source)
    if answer is None:
        policy = await policies.policy_in_force(runtime.db, invoice.policy_version, invoice.policy_created_at)
        view = invoices.invoice_view(invoice, policy, today, settings_of(runtime))
        answer = rendered.keep(
            invoice_id, source, read_response(InvoiceRead.model_validate(view), version=invoice.version)
        )
    return answer


FAST_READS = (FastRead("/v1/invoices/{invoice_id}", invoice_response),)
