"""HTTP API of the complaint workflow (客户投诉处理程序)."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Annotated

from fastapi import Query, Response
from sqlalchemy.ext.asyncio import AsyncSession

from services.customers import repository, service
from services.customers.domain import complaints as complaint_rules
from services.customers.domain.complaints import ComplaintCategory, ComplaintState, OpenComplaint
from services.customers.models import Complaint
from services.customers.routers.common import Reader, Writer, keyset_position, next_cursor
from services.customers.schemas.complaints import (
    ComplaintCreate,
    ComplaintRead,
    ComplaintStepRead,
    ComplaintTransitionCreate,
    OverdueInfo,
)
from shared.app import ClockDep, Session
from shared.http import IdempotencyDep, IfMatchOptional, Page, check_if_match, etag
from shared.openapi import api_router

router = api_router(tags=["complaints"])


def _read(complaint: Complaint, history: list[ComplaintStepRead] | None, now: datetime) -> ComplaintRead:
    """The read model: state, SLA due time, whether the next step is overdue, and the history if loaded."""
    state = ComplaintState(complaint.state)
    hours = complaint_rules.ComplaintSla().hours_for(state)
    due_at = complaint.state_entered_at + timedelta(hours=hours) if hours is not None else None
    overdue = None
    steps = complaint_rules.overdue_steps([OpenComplaint(str(complaint.id), state, complaint.state_entered_at)], now)
    if steps:
        overdue = OverdueInfo(
            due_at=steps[0].due_at,
            overdue_by_seconds=int(steps[0].overdue_by.total_seconds()),
            waiting_for=list(steps[0].waiting_for),
        )
    return ComplaintRead(
        id=complaint.id,
        customer_id=complaint.customer_id,
        category=ComplaintCategory(complaint.category),
        description=complaint.description,
        invoice_id=complaint.invoice_id,
        disputed_amount=complaint.disputed_amount,
        currency=complaint.currency,
        state=state,
        state_entered_at=complaint.state_entered_at,
        allowed_next_states=list(complaint_rules.allowed_next_states(state)),
        due_at=due_at,
        overdue=overdue,
        history=history or [],
        version=complaint.version,
        created_at=complaint.created_at,
        updated_at=complaint.updated_at,
    )


async def _with_history(session: AsyncSession, complaint: Complaint, now: datetime) -> ComplaintRead:
    history = [
        ComplaintStepRead.model_validate(step) for step in await repository.complaint_history(session, complaint.id)
    ]
    return _read(complaint, history, now)


@router.post(
    "/complaints",
    status_code=201,
    response_model=ComplaintRead,
    summary="Record a complaint",
    responses={201: {"headers": {"Location": {"schema": {"type": "string"}}}}},
)
async def create_complaint(
    body: ComplaintCreate, session: Session, clock: ClockDep, principal: Writer, idempotency: IdempotencyDep
) -> Response:
    """Record a complaint (state `recorded`, actor = the caller); emits `complaint_opened`."""
    now = clock.now()

    async def create() -> ComplaintRead:
        complaint = await service.open_complaint(session, body, principal.subject, now)
        return await _with_history(session, complaint, now)

    return await idempotency.run(session, now, create, location=lambda read: f"/v1/complaints/{read.id}")  # type: ignore[attr-defined]


@router.post(
    "/complaints/{complaint_id}/transitions",
    response_model=ComplaintRead,
    summary="Move a complaint to its next step",
    responses={200: {"headers": {"ETag": {"schema": {"type": "string"}}}}},
)
async def transition_complaint(
    complaint_id: uuid.UUID,
    body: ComplaintTransitionCreate,
    session: Session,
    clock: ClockDep,
    principal: Writer,
    response: Response,
    if_match: IfMatchOptional = None,
) -> ComplaintRead:
    """One workflow step, by the caller, now: recorded → validated | rejected → assigned (department) →
    analysed (cause) → solution_proposed (solution) → approved → implemented → closed (rating 1–5).
    An illegal step is 409; a missing or misplaced field 422. `If-Match` is optional (412 when stale).
    Reaching `closed` or `rejected` emits `complaint_closed`."""
    now = clock.now()
    complaint = await service.get_complaint(session, complaint_id, for_update=True)
    check_if_match(if_match, complaint.version, required=False)
    complaint = await service.move_complaint(session, complaint, body, principal.subject, now)
    response.headers["ETag"] = etag(complaint.version)
    return await _with_history(session, complaint, now)


@router.get(
    "/complaints/{complaint_id}",
    response_model=ComplaintRead,
    summary="Get a complaint with its history",
    responses={200: {"headers": {"ETag": {"schema": {"type": "string"}}}}},
)
async def get_complaint(
    complaint_id: uuid.UUID, session: Session, clock: ClockDep, _principal: Reader, response: Response
) -> ComplaintRead:
    """The complaint, its every step (from, to, actor, time, payload) and whether its next step is overdue."""
    complaint = await service.get_complaint(session, complaint_id)
    response.headers["ETag"] = etag(complaint.version)
    return await _with_history(session, complaint, clock.now())


@router.get("/complaints", response_model=Page[ComplaintRead], summary="List complaints")
async def list_complaints(
    session: Session,
    clock: ClockDep,
    _principal: Reader,
    customer_id: uuid.UUID | None = None,
    state: ComplaintState | None = None,
    overdue: Annotated[
        bool, Query(description="only complaints whose next step is past its SLA, most overdue first (one page)")
    ] = False,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: Annotated[str | None, Query(max_length=500, description="next_cursor of the previous page")] = None,
) -> Page[ComplaintRead]:
    """Complaints in the order they were recorded; with `overdue=true`, the overdue steps."""
    now = clock.now()
    if overdue:
        states = [str(state)] if state else list(service.OPEN_COMPLAINT_STATES)
        candidates = {c.id: c for c in await repository.complaints_in_states(session, states, customer_id)}
        steps = complaint_rules.overdue_steps(
            [OpenComplaint(str(c.id), ComplaintState(c.state), c.state_entered_at) for c in candidates.values()], now
        )
        return Page[ComplaintRead](
            items=[_read(candidates[uuid.UUID(step.complaint_id)], None, now) for step in steps[:limit]],
            next_cursor=None,
        )
    rows = await repository.complaints_page(
        session, limit=limit + 1, after=keyset_position(cursor), customer_id=customer_id, state=state
    )
    return Page[ComplaintRead](
        items=[_read(row, None, now) for row in rows[:limit]], next_cursor=next_cursor(list(rows), limit)
    )
