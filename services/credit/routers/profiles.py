"""Credit profiles, manual limit overrides and limit cancellations."""

from __future__ import annotations

import uuid

from fastapi import Response

from services.credit.routers.common import Reader, SettingsDep, Writer, body_fields
from services.credit.schemas.profiles import LimitCancellationCreate, LimitChangeRead, LimitOverrideCreate, ProfileRead
from services.credit.service import limits, profiles
from services.credit.settings import CreditSettings
from shared.app import ClockDep, ReadsByKey, Runtime, Session
from shared.fast_reads import FastRead
from shared.http import IdempotencyDep, RenderedReads, read_response
from shared.openapi import api_router

router = api_router(tags=["profiles"])


@router.get("/profiles/{customer_id}", response_model=ProfileRead, summary="Credit profile of a customer")
async def get_profile(customer_id: uuid.UUID, runtime: ReadsByKey, _principal: Reader) -> Response:
    """Grade, score, limit, exposure (open receivables + open orders), hold and why, DSO.

    Exposure counts only receivables in the limit currency; collections' receivables in other currencies are
    listed in `receivables_by_currency` / `other_currency_exposure` (no conversion: they block credit checks).

    404 until the registry's `customer_registered` event has been applied here.
    """
    return await profile_response(runtime, customer_id)


async def profile_response(runtime: Runtime, customer_id: uuid.UUID) -> Response:
    """The answer of ``get_profile`` (also given by its fast read, shared.fast_reads).

    Kept per customer while its stamp and the day are the same (``profiles.profile_stamp``: the invoices by
    their stamp, not their 16 sums); else read with the sums and rendered, kept under the stamp of the same
    snapshot as the sums. Without a kept answer the stamp is not read: it would have nothing to match.
    """
    settings = runtime.settings
    assert isinstance(settings, CreditSettings)
    today = runtime.clock.now().date()
    rendered: RenderedReads = runtime.extras.setdefault("rendered:profiles", RenderedReads())
    answer = None
    if rendered.holds(customer_id):
        answer = rendered.answer(customer_id, (today, *await profiles.profile_stamp(runtime.db, customer_id)))
    if answer is None:
        row = await profiles.profile_row(runtime.db, customer_id, settings, today)
        view = await profiles.profile_of_row(runtime.db, customer_id, row, settings, today)
        answer = rendered.keep(customer_id, (today, *profiles.stamp_of_row(row)), read_response(view))
    return answer


FAST_READS = (FastRead("/v1/profiles/{customer_id}", profile_response),)


@router.post(
    "/profiles/{customer_id}/limit-overrides",
    status_code=201,
    response_model=LimitChangeRead,
    summary="Set a credit limit manually (four eyes)",
    responses={201: {"headers": {"Location": {"schema": {"type": "string"}}}}},
)
async def create_limit_override(
    customer_id: uuid.UUID,
    body: LimitOverrideCreate,
    session: Session,
    clock: ClockDep,
    settings: SettingsDep,
    principal: Writer,
    idempotency: IdempotencyDep,
) -> Response:
    """The requester is the token subject; `approved_by` must be someone else (422 otherwise).

    Emits `creditflow.credit.credit_limit_changed.v1` when the limit changes.
    """
    now = clock.now()

    async def create() -> LimitChangeRead:
        with body_fields():
            return await limits.override(session, customer_id, body, principal.subject, settings, now)

    return await idempotency.run(session, now, create, location=lambda _read: f"/v1/profiles/{customer_id}")


@router.post(
    "/profiles/{customer_id}/limit-cancellations",
    status_code=201,
    response_model=LimitChangeRead,
    summary="Cancel the credit limit (取消信用额度)",
    responses={201: {"headers": {"Location": {"schema": {"type": "string"}}}}},
)
async def create_limit_cancellation(
    customer_id: uuid.UUID,
    body: LimitCancellationCreate,
    session: Session,
    clock: ClockDep,
    settings: SettingsDep,
    principal: Writer,
    idempotency: IdempotencyDep,
) -> Response:
    """The limit becomes 0 with the reason, recorded as a limit change (method `cancelled`) by the token subject.

    Only a new assessment or an approved override sets a limit again. 409 when it is already cancelled.
    Emits `creditflow.credit.credit_limit_changed.v1`. The policy's `cancel_limit_stage` does the same
    automatically when a collection case reaches that stage.
    """
    now = clock.now()

    async def create() -> LimitChangeRead:
        with body_fields():
            return await limits.cancel_limit_manually(
                session, customer_id, body.reason, principal.subject, settings, now
            )

    return await idempotency.run(session, now, create, location=lambda _read: f"/v1/profiles/{customer_id}")
