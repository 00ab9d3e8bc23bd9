"""HTTP API of the collections service: invoices and payments, sweeps, policy, cases, agencies, reports."""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Query, Response, Security

from services.collections import repository
from services.collections.domain.stages import CaseStatus, Stage
from services.collections.models import Case, KnownCustomer
from services.collections.schemas import (
    ActionRead,
    AgencyCreate,
    AgencyRead,
    AgencyReportCreate,
    BounceCreate,
    CaseActionCreate,
    CaseDetail,
    CaseRead,
    ContactCreate,
    ContactPreferencesRead,
    ContactPreferencesUpdate,
    ContactRead,
    DisputeCreate,
    HistoryRead,
    InvoiceBulkCreate,
    InvoiceBulkRead,
    InvoiceCreate,
    InvoiceRead,
    LetterRead,
    PaymentCreate,
    PaymentRead,
    PolicyDocument,
    PromiseCreate,
    SimulatedMoveRead,
    SimulateRequest,
    SimulateResult,
    SweepRequest,
    SweepResult,
    VisitOutcomeCreate,
)
from services.collections.service import agencies, cases, contacts, daily_sweep, invoices, payments, reports
from services.collections.service import policy as policies
from services.collections.settings import CollectionsSettings
from shared.app import ClockDep, RuntimeDep, Session
from shared.auth import Principal, current_principal
from shared.directory_api import directory_router
from shared.errors import BadRequest, DomainRuleViolation
from shared.http import IdempotencyDep, IfMatch, Page, check_if_match, etag, keyset_position, next_keyset_cursor
from shared.problems import PROBLEM_RESPONSES

directory = directory_router(KnownCustomer, "collections:read", "customers")
router = APIRouter(prefix="/v1", tags=["collections"], responses=PROBLEM_RESPONSES)

Reader = Annotated[Principal, Security(current_principal, scopes=["collections:read"])]
Writer = Annotated[Principal, Security(current_principal, scopes=["collections:write"])]
Admin = Annotated[Principal, Security(current_principal, scopes=["admin"])]
Cursor = Annotated[str | None, Query(max_length=500, description="next_cursor of the previous page")]
Limit = Annotated[int, Query(ge=1, le=200)]
ETAG_HEADER: dict[int | str, dict[str, Any]] = {200: {"headers": {"ETag": {"schema": {"type": "string"}}}}}


def _settings(runtime: RuntimeDep) -> CollectionsSettings:
    settings = runtime.settings
    assert isinstance(settings, CollectionsSettings)
    return settings


# --- invoices -------------------------------------------------------------------------------------------


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
        [invoice] = await invoices.create_invoices(session, [body], _settings(runtime), now, bulk=False)
        policy = await policies.current_policy(session)
        return InvoiceRead.model_validate(invoices.invoice_view(invoice, policy, now.date(), _settings(runtime)))

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
    settings = _settings(runtime)
    if len(body.invoices) > settings.bulk_invoice_limit:
        raise DomainRuleViolation(
            f"at most {settings.bulk_invoice_limit} invoices per request",
            errors=[{"field": "body.invoices", "message": "too many"}],
        )

    async def create() -> InvoiceBulkRead:
        created = await invoices.create_invoices(session, body.invoices, settings, now, bulk=True)
        policy = await policies.current_policy(session)
        return InvoiceBulkRead(
            items=[InvoiceRead.model_validate(invoices.invoice_view(i, policy, now.date(), settings)) for i in created]
        )

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
    settings = _settings(runtime)
    return Page[InvoiceRead](
        items=[InvoiceRead.model_validate(invoices.invoice_view(row, policy, today, settings)) for row in rows[:limit]],
        next_cursor=next_keyset_cursor(list(rows), limit),
    )


@router.get("/invoices/{invoice_id}", response_model=InvoiceRead, summary="Get an invoice", responses=ETAG_HEADER)
async def get_invoice(
    invoice_id: uuid.UUID,
    session: Session,
    clock: ClockDep,
    runtime: RuntimeDep,
    _principal: Reader,
    response: Response,
) -> InvoiceRead:
    """The invoice with its outstanding principal, penalty interest accrued to today and costs."""
    invoice = await repository.get_invoice(session, invoice_id)
    response.headers["ETag"] = etag(invoice.version)
    policy = await policies.current_policy(session)
    return InvoiceRead.model_validate(invoices.invoice_view(invoice, policy, clock.now().date(), _settings(runtime)))


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
        payment, policy = await payments.record_payment(
            session, invoice, body, now, _settings(runtime), actor=principal.subject
        )
        return _payment_read(payment, invoices.invoice_view(invoice, policy, now.date(), _settings(runtime)))

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
                )
            },
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
    settings = _settings(runtime)

    async def create() -> PaymentRead:
        payment, invoice, policy = await payments.bounce_payment(
            session, payment_id, body, now, settings, principal.subject
        )
        return _payment_read(payment, invoices.invoice_view(invoice, policy, now.date(), settings))

    return await idempotency.run(session, now, create, status_code=200)


# --- contact discipline ---------------------------------------------------------------------------------


@router.get(
    "/customers/{customer_id}/contact-preferences",
    response_model=ContactPreferencesRead,
    summary="A customer's contact preferences",
    responses=ETAG_HEADER,
)
async def get_contact_preferences(
    customer_id: uuid.UUID, session: Session, runtime: RuntimeDep, _principal: Writer, response: Response
) -> ContactPreferencesRead:
    """Consent per channel (email, SMS, phone) and time zone; the defaults (version 0) until stored.
    Letters by post, visits and legally required notices are not subject to consent."""
    view = await contacts.get_contact_preferences(session, customer_id, _settings(runtime))
    response.headers["ETag"] = etag(view["version"])
    return ContactPreferencesRead.model_validate(view)


@router.put(
    "/customers/{customer_id}/contact-preferences",
    response_model=ContactPreferencesRead,
    summary="Replace a customer's contact preferences",
    responses=ETAG_HEADER,
)
async def put_contact_preferences(
    customer_id: uuid.UUID,
    body: ContactPreferencesUpdate,
    session: Session,
    clock: ClockDep,
    runtime: RuntimeDep,
    _principal: Writer,
    response: Response,
    if_match: IfMatch = None,
) -> ContactPreferencesRead:
    """Needs `If-Match` with the current ETag once preferences are stored (428 without, 412 when stale).
    An unknown time zone is 422."""
    view = await contacts.put_contact_preferences(session, customer_id, body, if_match, _settings(runtime), clock.now())
    response.headers["ETag"] = etag(view["version"])
    return ContactPreferencesRead.model_validate(view)


# --- sweeps and policy ----------------------------------------------------------------------------------


@router.post("/sweeps", response_model=SweepResult, summary="Run the overdue sweep as of a day")
async def run_sweep(
    body: SweepRequest, session: Session, clock: ClockDep, runtime: RuntimeDep, _principal: Admin
) -> SweepResult:
    """Open cases for overdue invoices and move cases whose stage conditions are met (admin scope).
    Emits `invoice_overdue`, `case_opened`, `stage_entered` (one per stage passed), `receivables_changed`."""
    now = clock.now()
    outcome = await daily_sweep.run_sweep(session, body.as_of or now.date(), now, _settings(runtime))
    return SweepResult(
        as_of=outcome.as_of,
        policy_version=outcome.policy_version,
        cases_opened=outcome.cases_opened,
        cases_moved=outcome.cases_moved,
        stages_entered=dict(outcome.stages_entered),
        write_off_review=outcome.write_off_review,
    )


@router.get(
    "/policies/current", response_model=PolicyDocument, summary="The current escalation policy", responses=ETAG_HEADER
)
async def get_current_policy(session: Session, _principal: Reader, response: Response) -> Any:
    """Stages with day and amount thresholds and costs, segment strategies, interest rate, limitation."""
    policy = await policies.current_policy(session)
    response.headers["ETag"] = etag(policy.version)
    return policy.to_dict()


@router.put(
    "/policies/current", response_model=PolicyDocument, summary="Replace the escalation policy", responses=ETAG_HEADER
)
async def replace_current_policy(
    body: PolicyDocument,
    session: Session,
    clock: ClockDep,
    principal: Admin,
    response: Response,
    if_match: IfMatch = None,
) -> Any:
    """Stores the next version (admin scope); needs `If-Match` with the current ETag. Every problem
    (stages out of order, decreasing days, unknown fields...) is listed in one 422."""
    current = await policies.current_policy(session)
    check_if_match(if_match, current.version)
    policy = await policies.replace_policy(session, body.model_dump(), principal.subject, clock.now())
    response.headers["ETag"] = etag(policy.version)
    return policy.to_dict()


@router.post("/policies/simulate", response_model=SimulateResult, summary="Simulate a draft policy")
async def simulate_policy(body: SimulateRequest, session: Session, _principal: Reader) -> SimulateResult:
    """Which cases (and overdue invoices without a case) the draft would move where as of `as_of`;
    changes nothing."""
    moves = await policies.simulate_policy(session, body.policy, body.as_of)
    return SimulateResult(as_of=body.as_of, moves=[SimulatedMoveRead.model_validate(move) for move in moves])


# --- cases ----------------------------------------------------------------------------------------------


async def _detail(session: Any, row: Case) -> CaseDetail:
    history = [HistoryRead.model_validate(item) for item in await repository.case_history(session, row.id)]
    actions = [ActionRead.model_validate(item) for item in await repository.case_actions(session, row.id)]
    for action in actions:
        if action.kind in ("letter", "contact_deferred"):  # the rendered letter, the deferred stage event
            action.details = {key: value for key, value in action.details.items() if key not in ("html", "event")}
    return CaseDetail.model_validate(
        {**CaseRead.model_validate(row).model_dump(), "history": history, "actions": actions}
    )


@router.get("/cases", response_model=Page[CaseRead], summary="List collection cases")
async def list_cases(
    session: Session,
    _principal: Reader,
    stage: Stage | None = None,
    status: CaseStatus | None = None,
    customer_id: uuid.UUID | None = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> Page[CaseRead]:
    """Cases in opening order, filtered by stage, status and customer."""
    rows = await repository.list_cases(
        session,
        limit=limit + 1,
        after=keyset_position(cursor),
        stage=stage.value if stage else None,
        status=status.value if status else None,
        customer_id=customer_id,
    )
    return Page[CaseRead](
        items=[CaseRead.model_validate(row) for row in rows[:limit]], next_cursor=next_keyset_cursor(list(rows), limit)
    )


@router.get(
    "/cases/{case_id}", response_model=CaseDetail, summary="Get a case with its full history", responses=ETAG_HEADER
)
async def get_case(case_id: uuid.UUID, session: Session, _principal: Reader, response: Response) -> CaseDetail:
    """The case, every stage passed (from, to, at, rule, reason, policy version) and every action with its cost."""
    row = await repository.get_case(session, case_id)
    response.headers["ETag"] = etag(row.version)
    return await _detail(session, row)


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
        row = await repository.get_case(session, case_id, lock=True)
        await cases.record_promise(session, row, body, now, principal.subject)
        return await _detail(session, row)

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
        row = await repository.get_case(session, case_id, lock=True)
        await cases.record_dispute(session, row, body.disputed_amount, body.reason, now, principal.subject)
        return await _detail(session, row)

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
        row = await repository.get_case(session, case_id, lock=True)
        await cases.manual_action(session, row, body, now, principal.subject, _settings(runtime))
        return await _detail(session, row)

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
        row = await repository.get_case(session, case_id, lock=True)
        await cases.visit_outcome(session, row, visit_id, body, now, principal.subject, _settings(runtime))
        return await _detail(session, row)

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
        row = await repository.get_case(session, case_id, lock=True)
        return ActionRead.model_validate(
            await agencies.agency_report(session, row, body, now, principal.subject, _settings(runtime))
        )

    return await idempotency.run(session, now, create)


# --- agencies -------------------------------------------------------------------------------------------


@router.post("/agencies", status_code=201, response_model=AgencyRead, summary="Register a collection agency")
async def create_agency(
    body: AgencyCreate, session: Session, clock: ClockDep, _principal: Writer, idempotency: IdempotencyDep
) -> Response:
    """An agency with its recovery rate, commission, debt limits and reporting deadline."""
    now = clock.now()

    async def create() -> AgencyRead:
        return AgencyRead.model_validate(await agencies.create_agency(session, body, now))

    return await idempotency.run(session, now, create)


@router.get("/agencies", response_model=list[AgencyRead], summary="List collection agencies")
async def list_agencies(session: Session, _principal: Reader) -> list[AgencyRead]:
    """Every registered agency, by name."""
    return [AgencyRead.model_validate(agency) for agency in await repository.list_agencies(session)]


# --- reports --------------------------------------------------------------------------------------------


@router.get("/reports/aging", response_model=dict[str, Any], summary="Receivables aging")
async def aging_report(
    session: Session,
    clock: ClockDep,
    runtime: RuntimeDep,
    _principal: Reader,
    as_of: date | None = None,
    customer_id: uuid.UUID | None = None,
) -> dict[str, Any]:
    """Buckets current, 1-30, 31-60, 61-90, 91-180, over 180 days, per customer and overall; decimal strings."""
    return await reports.aging(session, as_of or clock.now().date(), customer_id, _settings(runtime))


@router.get("/reports/performance", response_model=dict[str, Any], summary="Collection performance")
async def performance_report(
    session: Session,
    clock: ClockDep,
    _principal: Reader,
    date_from: Annotated[date | None, Query(alias="from")] = None,
    date_to: Annotated[date | None, Query(alias="to")] = None,
) -> dict[str, Any]:
    """DSO and collection effectiveness index over the period (default: the last 90 days), recovery rate of
    the debts placed in collection, and cost per stage and channel."""
    end = date_to or clock.now().date()
    start = date_from or end - timedelta(days=89)
    if start > end:
        raise BadRequest("`from` is after `to`", errors=[{"field": "query.from", "message": "after to"}])
    return await reports.performance(session, start, end)


@router.post(
    "/customers/{customer_id}/contacts",
    status_code=201,
    response_model=ContactRead,
    summary="Log a contact made with a customer",
)
async def create_contact(
    customer_id: uuid.UUID,
    body: ContactCreate,
    session: Session,
    clock: ClockDep,
    runtime: RuntimeDep,
    principal: Writer,
    idempotency: IdempotencyDep,
) -> Response:
    """A call, email, SMS, letter or visit made now; it counts against the weekly cap. 409 (with the reason
    and the earliest allowed time) when the contact rules forbid it now: weekly cap reached, quiet hours in
    the customer's time zone, or consent to the channel withdrawn."""
    now = clock.now()

    async def create() -> ContactRead:
        row = await contacts.record_contact(session, customer_id, body, principal.subject, _settings(runtime), now)
        return ContactRead.model_validate(row)

    return await idempotency.run(session, now, create)


@router.get(
    "/customers/{customer_id}/contacts",
    response_model=Page[ContactRead],
    summary="List the contacts made with a customer",
)
async def list_contacts(
    customer_id: uuid.UUID,
    session: Session,
    runtime: RuntimeDep,
    _principal: Reader,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> Page[ContactRead]:
    """The contact log, oldest first: letters and visits of the stages, and contacts logged by collectors."""
    rows = await contacts.list_contacts(
        session, customer_id, limit=limit + 1, after=keyset_position(cursor), settings=_settings(runtime)
    )
    return Page[ContactRead](
        items=[ContactRead.model_validate(row) for row in rows[:limit]],
        next_cursor=next_keyset_cursor(list(rows), limit),
    )
