"""6C assessments: documented credit decisions."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Query, Response

from services.credit import repository
from services.credit.routers.common import Reader, SettingsDep, Writer, body_fields
from services.credit.schemas.assessments import AssessmentCreate, AssessmentRead
from services.credit.service import assessments
from shared.app import ClockDep, Session
from shared.http import IdempotencyDep, Page, keyset_position, next_keyset_cursor
from shared.openapi import api_router

router = api_router(tags=["assessments"])


@router.post(
    "/assessments",
    status_code=201,
    response_model=AssessmentRead,
    summary="Assess a customer (6C)",
    responses={201: {"headers": {"Location": {"schema": {"type": "string"}}}}},
)
async def create_assessment(
    body: AssessmentCreate,
    session: Session,
    clock: ClockDep,
    settings: SettingsDep,
    principal: Writer,
    idempotency: IdempotencyDep,
) -> Response:
    """Score, grade, factor contributions, Altman Z/Z'' and the recommended limit, stored with the inputs.

    The assessor is `assessed_by` or else the token subject. Emits `credit_assessed`, and
    `credit_limit_changed` when the recommended limit differs from the current one; grade D places a hold.
    """
    now = clock.now()

    async def create() -> AssessmentRead:
        with body_fields():
            return await assessments.assess(session, body, body.assessed_by or principal.subject, settings, now)

    return await idempotency.run(session, now, create, location=lambda read: f"/v1/assessments/{read.id}")  # type: ignore[attr-defined]


@router.get("/assessments", response_model=Page[AssessmentRead], summary="List assessments")
async def list_assessments(
    session: Session,
    _principal: Reader,
    customer_id: uuid.UUID | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: Annotated[str | None, Query(max_length=500, description="next_cursor of the previous page")] = None,
) -> Page[AssessmentRead]:
    """Assessments oldest first, optionally of one customer."""
    rows = await repository.assessments_page(
        session, customer_id=customer_id, limit=limit + 1, after=keyset_position(cursor)
    )
    next_cursor = next_keyset_cursor(list(rows), limit)
    return Page[AssessmentRead](
        items=[assessments.assessment_read(row) for row in rows[:limit]], next_cursor=next_cursor
    )


@router.get("/assessments/{assessment_id}", response_model=AssessmentRead, summary="Get an assessment")
async def get_assessment(assessment_id: uuid.UUID, session: Session, _principal: Reader) -> AssessmentRead:
    """A stored credit decision with its inputs and results."""
    return await assessments.get_assessment(session, assessment_id)
