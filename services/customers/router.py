"""HTTP API of the customers registry."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query, Response, Security

from services.customers import repository, service
from services.customers.schemas import (
    ChannelRole,
    CustomerCreate,
    CustomerKind,
    CustomerRead,
    CustomerUpdate,
    Lifecycle,
)
from shared.app import ClockDep, Session
from shared.auth import Principal, current_principal
from shared.http import IdempotencyDep, IfMatch, Page, check_if_match, decode_cursor, encode_cursor, etag
from shared.problems import PROBLEM_RESPONSES

router = APIRouter(prefix="/v1", tags=["customers"], responses=PROBLEM_RESPONSES)

Reader = Annotated[Principal, Security(current_principal, scopes=["customers:read"])]
Writer = Annotated[Principal, Security(current_principal, scopes=["customers:write"])]

_ = ChannelRole  # re-exported enum appears in the OpenAPI document through CustomerRead


@router.post("/customers", status_code=201, response_model=CustomerRead,
             summary="Register a customer or prospect",
             responses={201: {"headers": {"Location": {"schema": {"type": "string"}},
                                          "ETag": {"schema": {"type": "string"}}}}})
async def create_customer(body: CustomerCreate, session: Session, clock: ClockDep, _principal: Writer,
                          idempotency: IdempotencyDep) -> Response:
    """Register a customer; emits `creditflow.customers.customer_registered.v1`."""
    now = clock.now()

    async def create() -> CustomerRead:
        return CustomerRead.model_validate(await service.register_customer(session, body, now))

    return await idempotency.run(session, now, create,
                                 location=lambda read: f"/v1/customers/{read.id}")  # type: ignore[attr-defined]


@router.get("/customers", response_model=Page[CustomerRead], summary="List customers")
async def list_customers(
    session: Session, _principal: Reader,
    kind: CustomerKind | None = None, lifecycle: Lifecycle | None = None,
    region: Annotated[str | None, Query(max_length=100)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: Annotated[str | None, Query(max_length=500, description="next_cursor of the previous page")] = None,
) -> Page[CustomerRead]:
    """Customers in registration order, filtered by kind, lifecycle and region."""
    after = decode_cursor(cursor)
    position = None
    if after is not None:
        try:
            position = (datetime.fromisoformat(after["created_at"]), uuid.UUID(after["id"]))
        except (KeyError, ValueError, TypeError) as exc:
            from shared.errors import BadRequest

            raise BadRequest("the cursor is not one this API issued") from exc
    rows = await repository.page(session, limit=limit + 1, after=position, kind=kind, lifecycle=lifecycle,
                                 region=region)
    items = [CustomerRead.model_validate(row) for row in rows[:limit]]
    next_cursor = None
    if len(rows) > limit:
        last = rows[limit - 1]
        next_cursor = encode_cursor({"created_at": last.created_at.isoformat(), "id": str(last.id)})
    return Page[CustomerRead](items=items, next_cursor=next_cursor)


@router.get("/customers/{customer_id}", response_model=CustomerRead, summary="Get a customer",
            responses={200: {"headers": {"ETag": {"schema": {"type": "string"}}}}})
async def get_customer(customer_id: uuid.UUID, session: Session, _principal: Reader,
                       response: Response) -> CustomerRead:
    customer = await service.get_customer(session, customer_id)
    response.headers["ETag"] = etag(customer.version)
    return CustomerRead.model_validate(customer)


@router.patch("/customers/{customer_id}", response_model=CustomerRead, summary="Change a customer",
              responses={200: {"headers": {"ETag": {"schema": {"type": "string"}}}}})
async def update_customer(customer_id: uuid.UUID, body: CustomerUpdate, session: Session, clock: ClockDep,
                          _principal: Writer, response: Response, if_match: IfMatch = None) -> CustomerRead:
    """Partial update; needs `If-Match` with the current ETag (412 when stale, 428 when missing)."""
    customer = await service.get_customer(session, customer_id)
    check_if_match(if_match, customer.version)
    customer = await service.update_customer(session, customer, body, clock.now())
    response.headers["ETag"] = etag(customer.version)
    return CustomerRead.model_validate(customer)
