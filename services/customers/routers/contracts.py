"""HTTP API of contracts (标准合同)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Query, Response

from services.customers import repository, service
from services.customers.routers.common import Reader, Writer, keyset_position, next_cursor
from services.customers.schemas.contracts import ContractCreate, ContractRead
from shared.app import ClockDep, Session
from shared.http import IdempotencyDep, Page
from shared.openapi import api_router

router = api_router(tags=["contracts"])


@router.post(
    "/customers/{customer_id}/contracts",
    status_code=201,
    response_model=ContractRead,
    summary="Record a signed contract",
    responses={201: {"headers": {"Location": {"schema": {"type": "string"}}}}},
)
async def create_contract(
    customer_id: uuid.UUID,
    body: ContractCreate,
    session: Session,
    clock: ClockDep,
    _principal: Writer,
    idempotency: IdempotencyDep,
) -> Response:
    """Record a contract: validity dates, credit terms (stored canonical) and the dispute-resolution clause
    (arbitration naming a commission, or court) are checked; emits `creditflow.customers.contract_signed.v1`."""
    now = clock.now()

    async def create() -> ContractRead:
        customer = await service.get_customer(session, customer_id)
        return ContractRead.of(await service.sign_contract(session, customer, body, now))

    return await idempotency.run(session, now, create, location=lambda read: f"/v1/contracts/{read.id}")  # type: ignore[attr-defined]


@router.get(
    "/customers/{customer_id}/contracts", response_model=Page[ContractRead], summary="List a customer's contracts"
)
async def list_customer_contracts(
    customer_id: uuid.UUID,
    session: Session,
    _principal: Reader,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: Annotated[str | None, Query(max_length=500, description="next_cursor of the previous page")] = None,
) -> Page[ContractRead]:
    """The customer's contracts in the order they were recorded."""
    await service.get_customer(session, customer_id)
    rows = await repository.contracts_page(session, customer_id, limit=limit + 1, after=keyset_position(cursor))
    return Page[ContractRead](
        items=[ContractRead.of(row) for row in rows[:limit]], next_cursor=next_cursor(list(rows), limit)
    )


@router.get("/contracts/{contract_id}", response_model=ContractRead, summary="Get a contract")
async def get_contract(contract_id: uuid.UUID, session: Session, _principal: Reader) -> ContractRead:
    """One contract with its clauses."""
    return ContractRead.of(await service.get_contract(session, contract_id))
