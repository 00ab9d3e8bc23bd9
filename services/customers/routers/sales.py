"""HTTP API of the sales history: bulk import and a customer's sales."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Query, Response

from services.customers import repository, service
from services.customers.routers.common import Reader, Writer
from services.customers.schemas.sales import SaleRead, SalesImport, SalesImportResult
from shared.app import ClockDep, Session
from shared.http import IdempotencyDep
from shared.openapi import api_router

router = api_router(tags=["sales"])


@router.post("/sales/import", status_code=201, response_model=SalesImportResult, summary="Import sales history")
async def import_sales(
    body: SalesImport, session: Session, clock: ClockDep, _principal: Writer, idempotency: IdempotencyDep
) -> Response:
    """Add historical sales in bulk, all or nothing: a 422 lists every bad row and nothing is written."""
    now = clock.now()

    async def create() -> SalesImportResult:
        totals = await service.import_sales(session, body, now)
        return SalesImportResult(imported=len(body.rows), totals=totals)

    return await idempotency.run(session, now, create)


@router.get("/customers/{customer_id}/sales", response_model=list[SaleRead], summary="A customer's sales")
async def list_customer_sales(
    customer_id: uuid.UUID, session: Session, _principal: Reader, limit: Annotated[int, Query(ge=1, le=500)] = 100
) -> list[SaleRead]:
    """The customer's latest sales (invoices from collections and imported rows), newest first."""
    await service.get_customer(session, customer_id)
    return [SaleRead.model_validate(row) for row in await repository.customer_sales(session, customer_id, limit)]
