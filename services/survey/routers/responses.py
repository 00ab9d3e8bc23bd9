"""Respondents' answers, submitted with their invitation token."""

from __future__ import annotations

from fastapi import Response

from services.survey.routers.common import ROUNDING, OptionalPrincipal, SettingsDep
from services.survey.schemas import (
    ResponseCreate,
    ResponseRead,
)
from services.survey.service import responses
from shared.app import ClockDep, Session
from shared.http import IdempotencyDep
from shared.openapi import api_router

router = api_router(tags=["survey"])


SUBMIT_DESCRIPTION = """22 expectations and 22 perceptions, each a JSON integer 1–7
(`true`, `"5"` and `5.0` are refused), and optional importance points (the five dimensions, summing to 100).

Respondents send their `invitation_token` and need no staff account: the token is used up in the same
transaction (409 when used, 401 when forged, 410 when expired). Staff send a Bearer JWT with
`survey:write` plus `campaign_id` and `customer_id`. Emits `creditflow.survey.response_submitted.v1`,
and `creditflow.survey.quality_alert.v1` when the weighted gap is below the campaign's alert threshold.
"""


@router.post(
    "/responses",
    status_code=201,
    response_model=ResponseRead,
    summary="Submit a SERVQUAL response",
    description=SUBMIT_DESCRIPTION + ROUNDING,
    openapi_extra={"security": [{}]},  # public with an invitation_token: the bearer is optional
    responses={201: {"headers": {"Location": {"schema": {"type": "string"}}}}},
)
async def submit_response(
    body: ResponseCreate,
    session: Session,
    clock: ClockDep,
    settings: SettingsDep,
    principal: OptionalPrincipal,
    idempotency: IdempotencyDep,
) -> Response:
    now = clock.now()

    async def create() -> ResponseRead:
        return await responses.submit_response(session, body, principal, settings, now)

    return await idempotency.run(session, now, create, location=lambda read: f"/v1/campaigns/{read.campaign_id}/scores")  # type: ignore[attr-defined]
