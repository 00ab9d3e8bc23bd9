"""Collection agencies: register and list."""

from __future__ import annotations

from fastapi import Response

from services.collections import repository
from services.collections.routers.common import Reader, Writer
from services.collections.schemas.agencies import AgencyCreate, AgencyRead
from services.collections.service import agencies
from shared.app import ClockDep, Session
from shared.http import IdempotencyDep
from shared.openapi import api_router

router = api_router(tags=["collections"])


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
