"""The credit policy: standards and sales policy per grade, stop-supply stages, weights, thresholds."""

from __future__ import annotations

from typing import Any

from fastapi import Response

from services.credit.routers.common import Admin, Reader, body_fields
from services.credit.schemas.policy import PolicyBody, PolicyRead
from services.credit.service import policy as credit_policy
from shared.app import ClockDep, Session
from shared.http import IfMatch, check_if_match, etag
from shared.openapi import api_router

router = api_router(tags=["policy"])
ETAG_HEADER: dict[int | str, dict[str, Any]] = {200: {"headers": {"ETag": {"schema": {"type": "string"}}}}}


@router.get("/policy", response_model=PolicyRead, summary="The credit policy in force", responses=ETAG_HEADER)
async def get_policy(session: Session, _principal: Reader, response: Response) -> PolicyRead:
    """Per grade: maximum expected DSO and bad-debt rate, sales policy, tolerated overdue days, stop-supply stage;
    grade thresholds, factor weights, and the limit policy (per-grade amount or multiple of average monthly sales,
    working-capital and liquidation-value percentages) the next assessment's recommendation uses."""
    policy = await credit_policy.load_policy(session)
    response.headers["ETag"] = etag(policy.version)
    return credit_policy.policy_read(policy)


@router.put("/policy", response_model=PolicyRead, summary="Replace the credit policy", responses=ETAG_HEADER)
async def replace_policy(
    body: PolicyBody, session: Session, clock: ClockDep, principal: Admin, response: Response, if_match: IfMatch = None
) -> PolicyRead:
    """Needs `If-Match` with the current ETag (412 stale, 428 missing) and the `admin` scope.

    Applies to the next assessment, credit check and hold decision; past decisions keep what they used.
    Omitted sections (thresholds, weights, limits) take the defaults. A limit policy with a negative amount or
    multiple, a grade setting both or neither, or a percentage not above 0 and at most 100 is a 422 listing every
    problem (`body.limits.grades.B.amount` ...), and nothing is stored.
    """
    current = await credit_policy.load_policy(session)
    check_if_match(if_match, current.version)
    with body_fields():
        policy = await credit_policy.replace_policy(session, current, body, principal.subject, clock.now())
    response.headers["ETag"] = etag(policy.version)
    return credit_policy.policy_read(policy)
