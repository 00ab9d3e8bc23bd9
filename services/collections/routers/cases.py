"""Collection cases: list, detail, promises, disputes, manual actions, letters, visits, agency reports."""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from typing import Annotated, Any, Literal

from fastapi import Query, Response

from services.collections import repository
from services.collections.domain.escalation import next_action
from services.collections.domain.policy import Policy
from services.collections.domain.stages import CaseStatus, Segment
from services.collections.models import Case, KnownCustomer
from services.collections.repository import CaseOrder, CaseSort
from services.collections.routers.common import ETAG_HEADER, Cursor, Limit, Reader, Writer, settings_of
from services.collections.schemas.agencies import AgencyReportCreate
from services.collections.schemas.cases import (
    AcknowledgementCreate,
    ActionRead,
    CaseActionCreate,
    CaseDetail,
    CaseRead,
    DisputeCreate,
    HistoryRead,
    LetterRead,
    NextActionRead,
    PromiseCreate,
    VisitOutcomeCreate,
)
from services.collections.service import agencies, cases
from services.collections.service.policy import current_policy
from shared.app import ClockDep, RuntimeDep, Session
from shared.errors import BadRequest
from shared.http import (
    IdempotencyDep,
    Page,
    etag,
    keyset_position,
    next_keyset_cursor,
    readable_items,
    sorted_keyset_cursor,
    sorted_keyset_position,
)
from shared.openapi import api_router
from shared.stage import Stage

router = api_router(tags=["collections"])


def case_read(case: Case, policy: Policy, today: date, customer_name: str | None) -> CaseRead:
    """A case as the API shows it: its limitation period, days overdue today and the policy's next action."""
    start = repository.limitation_of(case)
    action = next_action(repository.case_facts(case), policy)
    return CaseRead.model_validate(case).model_copy(
        update={
            "customer_name": customer_name,
            "days_overdue": (today - case.due_date).days,
            "next_action": NextActionRead.model_validate(action) if action else None,
            "limitation_running_from": start.running_from,
            "limitation_basis": start.basis,
            "limitation_expires_on": start.expires_on(policy.limitation_years),
        }
    )


async def _detail(session: Any, case: Case, today: date) -> CaseDetail:
    history = [HistoryRead.model_validate(item) for item in await repository.case_history(session, case.id)]
    actions = [ActionRead.model_validate(item) for item in await repository.case_actions(session, case.id)]
    for action in actions:
        if action.kind in ("letter", "contact_deferred"):  # the rendered letter, the deferred stage event
            action.details = {key: value for key, value in action.details.items() if key not in ("html", "event")}
    directory = await session.get(KnownCustomer, case.customer_id)
    read = case_read(case, await current_policy(session), today, directory.name if directory else None)
    return CaseDetail.model_validate({**read.model_dump(), "history": history, "actions": actions})


@router.get("/cases", response_model=Page[CaseRead], summary="List collection cases (the work queue)")
async def list_cases(
    session: Session,
    clock: ClockDep,
    _principal: Reader,
    stage: Stage | None = None,
    status: CaseStatus | None = None,
    customer_id: uuid.UUID | None = None,
    segment: Segment | None = None,
    min_days_overdue: Annotated[int | None, Query(ge=0, le=36500, description="at least this many days")] = None,
    q: Annotated[
        str | None,
        Query(min_length=1, max_length=200, description="part of the customer's name; case and width insensitive"),
    ] = None,
    sort: Annotated[
        CaseSort | None, Query(description="days_overdue, amount (outstanding) or opened_at; default: opening order")
    ] = None,
    order: Annotated[Literal["asc", "desc"], Query(description="direction of `sort`")] = "asc",
    limit: Limit = 50,
    cursor: Cursor = None,
) -> Page[CaseRead]:
    """Cases with days overdue, next action and customer name; filtered, sorted, paged by an opaque cursor.

    A cursor is bound to its sort and order: pass the same `sort` and `order` with it.
    """
    today = clock.now().date()
    case_order = CaseOrder.of(sort, order == "desc") if sort else None
    sort_key = f"{sort}:{order}" if sort else ""
    after = sorted_keyset_position(cursor, sort_key, case_order.parse) if case_order else keyset_position(cursor)
    if q is not None and not repository.normalised_name(q):
        raise BadRequest("`q` is blank", errors=[{"field": "query.q", "message": "blank"}])
    found = await repository.list_cases(
        session,
        limit=limit + 1,
        after=after,
        order=case_order,
        stage=stage.value if stage else None,
        status=status.value if status else None,
        customer_id=customer_id,
        segment=segment.value if segment else None,
        due_on_or_before=today - timedelta(days=min_days_overdue) if min_days_overdue is not None else None,
        name_contains=q,
    )
    policy = await current_policy(session)
    page = found[:limit]
    next_cursor: str | None = None
    if len(found) > limit:
        last = page[-1][0]
        next_cursor = (
            sorted_keyset_cursor(case_order.value_of(last), last.id, sort_key)
            if case_order
            else next_keyset_cursor([case for case, _ in found], limit)
        )
    return Page[CaseRead](
        items=readable_items(page, lambda row: case_read(row[0], policy, today, row[1]), what="case"),
        next_cursor=next_cursor,
    )


@router.get(
    "/cases/{case_id}", response_model=CaseDetail, summary="Get a case with its full history", responses=ETAG_HEADER
)
async def get_case(
    case_id: uuid.UUID, session: Session, clock: ClockDep, _principal: Reader, response: Response
) -> CaseDetail:
    """The case, every stage passed (from, to, at, rule, reason, policy version) and every action with its cost."""
    case = await repository.get_case(session, case_id)
    response.headers["ETag"] = etag(case.version)
    return await _detail(session, case, clock.now().date())


@router.post("/cases/{case_id}/promises", status_code=201, response_model=CaseDetail, summary="Record a promise to pay")
async def create_promise(
    case_id: uuid.UUID,
    body: PromiseCreate,
    session: Session,
    clock: ClockDep,
    principal: Writer,
    idempotency: IdempotencyDep,
) -> Response:
    """Escalation pauses until the promised date; a broken promise escalates at once. Emits `promise_recorded`."""
    now = clock.now()

    async def create() -> CaseDetail:
        case = await repository.get_case(session, case_id, lock=True)
        await cases.record_promise(session, case, body, now, principal.subject)
        return await _detail(session, case, now.date())

    return await idempotency.run(session, now, create)


@router.post(
    "/cases/{case_id}/acknowledgements",
    status_code=201,
    response_model=CaseDetail,
    summary="Record the debtor's acknowledgement of the debt",
)
async def create_acknowledgement(
    case_id: uuid.UUID,
    body: AcknowledgementCreate,
    session: Session,
    clock: ClockDep,
    principal: Writer,
    idempotency: IdempotencyDep,
) -> Response:
    """A written confirmation of the balance, a reply to a letter admitting the debt ...: the limitation period
    restarts from the day it was given (PRC Civil Code art. 195)."""
    now = clock.now()

    async def create() -> CaseDetail:
        case = await repository.get_case(session, case_id, lock=True)
        await cases.record_acknowledgement(session, case, body, now, principal.subject)
        return await _detail(session, case, now.date())

    return await idempotency.run(session, now, create)


@router.post(
    "/cases/{case_id}/disputes",
    status_code=201,
    response_model=CaseDetail,
    summary="Record a dispute over part of the debt",
)
async def create_dispute(
    case_id: uuid.UUID,
    body: DisputeCreate,
    session: Session,
    clock: ClockDep,
    principal: Writer,
    idempotency: IdempotencyDep,
) -> Response:
    """Only the disputed amount is held; the rest keeps escalating."""
    now = clock.now()

    async def create() -> CaseDetail:
        case = await repository.get_case(session, case_id, lock=True)
        await cases.record_dispute(session, case, body.disputed_amount, body.reason, now, principal.subject)
        return await _detail(session, case, now.date())

    return await idempotency.run(session, now, create)


@router.post(
    "/cases/{case_id}/actions",
    status_code=201,
    response_model=CaseDetail,
    summary="Escalate, hold, release or write off a case",
)
async def create_case_action(
    case_id: uuid.UUID,
    body: CaseActionCreate,
    session: Session,
    clock: ClockDep,
    runtime: RuntimeDep,
    principal: Writer,
    idempotency: IdempotencyDep,
) -> Response:
    """Manual operation with a reason; the token's subject is recorded as the actor. Write-off emits
    `case_written_off`; escalation emits `stage_entered`."""
    now = clock.now()

    async def create() -> CaseDetail:
        case = await repository.get_case(session, case_id, lock=True)
        await cases.manual_action(session, case, body, now, principal.subject, settings_of(runtime))
        return await _detail(session, case, now.date())

    return await idempotency.run(session, now, create)


@router.get("/cases/{case_id}/letters/{letter_id}", response_model=LetterRead, summary="Get a rendered letter")
async def get_letter(case_id: uuid.UUID, letter_id: uuid.UUID, session: Session, _principal: Reader) -> LetterRead:
    """The letter as sent: tone, subject and the rendered HTML."""
    action = await repository.get_letter(session, case_id, letter_id)
    details = action.details
    return LetterRead(
        id=action.id,
        case_id=case_id,
        tone=details["tone"],
        subject=details["subject"],
        html=details["html"],
        letter_date=date.fromisoformat(details["letter_date"]),
        reply_by=date.fromisoformat(details["reply_by"]),
    )


@router.post(
    "/cases/{case_id}/visits/{visit_id}/outcome",
    status_code=201,
    response_model=CaseDetail,
    summary="Record the outcome of a collector's visit",
)
async def create_visit_outcome(
    case_id: uuid.UUID,
    visit_id: uuid.UUID,
    body: VisitOutcomeCreate,
    session: Session,
    clock: ClockDep,
    runtime: RuntimeDep,
    principal: Writer,
    idempotency: IdempotencyDep,
) -> Response:
    """paid → payment recorded; promise → paused until the date; dispute → amount held; refusal → escalated
    at once."""
    now = clock.now()

    async def create() -> CaseDetail:
        case = await repository.get_case(session, case_id, lock=True)
        await cases.visit_outcome(session, case, visit_id, body, now, principal.subject, settings_of(runtime))
        return await _detail(session, case, now.date())

    return await idempotency.run(session, now, create)


@router.post(
    "/cases/{case_id}/agency-reports",
    status_code=201,
    response_model=ActionRead,
    summary="Record an agency's progress report",
)
async def create_agency_report(
    case_id: uuid.UUID,
    body: AgencyReportCreate,
    session: Session,
    clock: ClockDep,
    runtime: RuntimeDep,
    principal: Writer,
    idempotency: IdempotencyDep,
) -> Response:
    """Money recovered is applied to the invoice; the agency's commission is recorded as the action's cost."""
    now = clock.now()

    async def create() -> ActionRead:
        case = await repository.get_case(session, case_id, lock=True)
        return ActionRead.model_validate(
            await agencies.agency_report(session, case, body, now, principal.subject, settings_of(runtime))
        )

    return await idempotency.run(session, now, create)
