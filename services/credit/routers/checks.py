"""Credit checks: what an order system asks before it ships."""

from __future__ import annotations

import uuid

from fastapi import Response

from services.credit.routers.common import Reader, SettingsDep, Writer, body_fields
from services.credit.schemas.checks import CreditCheckCreate, CreditCheckRead
from services.credit.service import checks
from shared.app import ClockDep, Session
from shared.http import IdempotencyDep
from shared.openapi import api_router

router = api_router(tags=["credit checks"])


@router.post(
    "/credit-checks",
    status_code=201,
    response_model=CreditCheckRead,
    summary="Check an order amount",
    responses={201: {"headers": {"Location": {"schema": {"type": "string"}}}}},
)
async def create_credit_check(
    body: CreditCheckCreate,
    session: Session,
    clock: ClockDep,
    settings: SettingsDep,
    principal: Writer,
    idempotency: IdempotencyDep,
) -> Response:
    """Approve, or block with every reason that applies: no_assessment, on_hold, over_limit,
    grade_d_requires_prepayment, overdue_beyond_policy, currency_mismatch. Each check is recorded.

    Currency: exposure and the limit are in the profile currency (the last assessment's). Collections reports
    receivables per currency; those in another currency are recorded on the profile but not added to exposure,
    since no conversion is configured: while any is open (above 0), the check blocks with `currency_mismatch`.

    With `count_approved_checks_as_orders` on, an approved amount counts as an open order (exposure)
    until collections reports its invoice; it is off by default.
    """
    now = clock.now()

    async def create() -> CreditCheckRead:
        with body_fields():
            check = await checks.run_credit_check(session, body, principal.subject, settings, now)
        return CreditCheckRead.model_validate(check)

    return await idempotency.run(session, now, create, location=lambda read: f"/v1/credit-checks/{read.id}")  # type: ignore[attr-defined]


@router.get("/credit-checks/{check_id}", response_model=CreditCheckRead, summary="Get a recorded credit check")
async def get_credit_check(check_id: uuid.UUID, session: Session, _principal: Reader) -> CreditCheckRead:
    """The decision, its reasons and the facts it used."""
    return CreditCheckRead.model_validate(await checks.get_credit_check(session, check_id))
