"""HTTP API of the registry: customers and their 360° overview."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Query, Response

from services.customers import repository, service
from services.customers.domain.customer import CustomerKind, Lifecycle
from services.customers.routers.common import Reader, Writer, keyset_position, next_cursor
from services.customers.schemas.customers import CustomerCreate, CustomerRead, CustomerUpdate, Segment
from services.customers.schemas.overview import CustomerOverviewRead, OverviewAlert
from shared.app import ClockDep, ReadsByKey, Runtime, Session
from shared.fast_reads import FastRead
from shared.http import IdempotencyDep, IfMatch, Page, RenderedReads, check_if_match, etag, read_response
from shared.openapi import api_router
from shared.stage import highest_stage

router = api_router(tags=["customers"])


@router.post(
    "/customers",
    status_code=201,
    response_model=CustomerRead,
    summary="Register a customer or prospect",
    responses={201: {"headers": {"Location": {"schema": {"type": "string"}}, "ETag": {"schema": {"type": "string"}}}}},
)
async def create_customer(
    body: CustomerCreate, session: Session, clock: ClockDep, _principal: Writer, idempotency: IdempotencyDep
) -> Response:
    """Register a customer; emits `creditflow.customers.customer_registered.v1`."""
    now = clock.now()

    async def create() -> CustomerRead:
        return CustomerRead.of(await service.register_customer(session, body, now), now.date())

    return await idempotency.run(session, now, create, location=lambda read: f"/v1/customers/{read.id}")  # type: ignore[attr-defined]


@router.get("/customers", response_model=Page[CustomerRead], summary="List customers")
async def list_customers(
    session: Session,
    clock: ClockDep,
    _principal: Reader,
    kind: CustomerKind | None = None,
    lifecycle: Lifecycle | None = None,
    region: Annotated[str | None, Query(max_length=100)] = None,
    segment: Segment | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: Annotated[str | None, Query(max_length=500, description="next_cursor of the previous page")] = None,
) -> Page[CustomerRead]:
    """Customers in registration order, filtered by kind, lifecycle, region and segment."""
    rows = await repository.page(
        session,
        limit=limit + 1,
        after=keyset_position(cursor),
        kind=kind,
        lifecycle=lifecycle,
        region=region,
        segment=segment,
    )
    today = clock.now().date()
    return Page[CustomerRead](
        items=[CustomerRead.of(row, today) for row in rows[:limit]], next_cursor=next_cursor(list(rows), limit)
    )


@router.get(
    "/customers/{customer_id}",
    response_model=CustomerRead,
    summary="Get a customer",
    responses={200: {"headers": {"ETag": {"schema": {"type": "string"}}}}},
)
async def get_customer(customer_id: uuid.UUID, runtime: ReadsByKey, _principal: Reader) -> Response:
    """One customer; prospects carry their temperature as of today."""
    return await customer_response(runtime, customer_id)


async def customer_response(runtime: Runtime, customer_id: uuid.UUID) -> Response:
    """The answer of ``get_customer`` (also given by its fast read, shared.fast_reads)."""
    customer = await service.read_customer(runtime.db, customer_id)
    today = runtime.clock.now().date()
    rendered: RenderedReads = runtime.extras.setdefault("rendered:customers", RenderedReads())
    source = (today, *customer)
    answer = rendered.answer(customer_id, source)
    if answer is None:
        answer = rendered.keep(
            customer_id, source, read_response(CustomerRead.of(customer, today), version=customer.version)
        )
    return answer


FAST_READS = (FastRead("/v1/customers/{customer_id}", customer_response),)


@router.patch(
    "/customers/{customer_id}",
    response_model=CustomerRead,
    summary="Change a customer",
    responses={200: {"headers": {"ETag": {"schema": {"type": "string"}}}}},
)
async def update_customer(
    customer_id: uuid.UUID,
    body: CustomerUpdate,
    session: Session,
    clock: ClockDep,
    _principal: Writer,
    response: Response,
    if_match: IfMatch = None,
) -> CustomerRead:
    """Partial update; needs `If-Match` with the current ETag (412 when stale, 428 when missing).

    A lifecycle change must be a legal one (prospect → active/lost, active → lapsed/lost,
    lapsed → active/lost, lost → active/prospect); anything else is 409. Emits `customer_updated`.
    """
    customer = await service.get_customer(session, customer_id)
    check_if_match(if_match, customer.version)
    customer = await service.update_customer(session, customer, body, clock.now())
    response.headers["ETag"] = etag(customer.version)
    return CustomerRead.of(customer, clock.now().date())


@router.get(
    "/customers/{customer_id}/overview", response_model=CustomerOverviewRead, summary="A customer's 360° overview"
)
async def get_customer_overview(
    customer_id: uuid.UUID, session: Session, clock: ClockDep, _principal: Reader
) -> CustomerOverviewRead:
    """Registry data plus the latest credit grade, limit and hold, open receivables and collection stage,
    SERVQUAL gap and alerts, as reported by the other services' events."""
    customer = await service.get_customer(session, customer_id)
    today = clock.now().date()
    read = CustomerRead.of(customer, today).model_dump()
    overview = await repository.get_overview(session, customer_id)
    open_complaints = await repository.complaints_in_states(
        session, service.OPEN_COMPLAINT_STATES, customer_id=customer_id
    )
    last = (await repository.last_purchase_dates(session, today, customer_id=customer_id)).get(customer_id)
    extra: dict[str, object] = {"open_complaints": len(open_complaints), "last_purchase_on": last}
    if overview is not None:
        extra.update(
            credit_grade=overview.credit_grade,
            credit_score=overview.credit_score,
            credit_limit=overview.credit_limit,
            credit_limit_currency=overview.credit_limit_currency,
            credit_hold=overview.credit_hold,
            credit_hold_reasons=overview.credit_hold_reasons,
            open_receivables=overview.open_receivables,
            overdue_amount=overview.overdue_amount,
            receivables_currency=overview.receivables_currency,
            oldest_overdue_days=overview.oldest_overdue_days,
            collection_stage=highest_stage(overview.open_case_stages.values()),
            servqual_weighted_gap=overview.servqual_weighted_gap,
            servqual_unweighted_gap=overview.servqual_unweighted_gap,
            servqual_measured_at=overview.servqual_measured_at,
            alerts=[OverviewAlert.model_validate(alert) for alert in overview.alerts],
        )
    return CustomerOverviewRead.model_validate({**read, **extra})
