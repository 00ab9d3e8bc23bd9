"""Contact discipline: a customer's contact preferences and the contact log."""

from __future__ import annotations

import uuid

from fastapi import Response

from services.collections.routers.common import ETAG_HEADER, Cursor, Limit, Reader, Writer, settings_of
from services.collections.schemas.contacts import (
    ContactCreate,
    ContactPreferencesRead,
    ContactPreferencesUpdate,
    ContactRead,
)
from services.collections.service import contacts
from shared.app import ClockDep, RuntimeDep, Session
from shared.http import IdempotencyDep, IfMatchWhenExists, Page, etag, keyset_position, next_keyset_cursor
from shared.openapi import api_router

router = api_router(tags=["collections"])


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
    view = await contacts.get_contact_preferences(session, customer_id, settings_of(runtime))
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
    if_match: IfMatchWhenExists = None,
) -> ContactPreferencesRead:
    """Needs `If-Match` with the current ETag once preferences are stored (428 without, 412 when stale).
    An unknown time zone is 422."""
    view = await contacts.put_contact_preferences(
        session, customer_id, body, if_match, settings_of(runtime), clock.now()
    )
    response.headers["ETag"] = etag(view["version"])
    return ContactPreferencesRead.model_validate(view)


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
        row = await contacts.record_contact(session, customer_id, body, principal.subject, settings_of(runtime), now)
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
        session, customer_id, limit=limit + 1, after=keyset_position(cursor), settings=settings_of(runtime)
    )
    return Page[ContactRead](
        items=[ContactRead.model_validate(row) for row in rows[:limit]],
        next_cursor=next_keyset_cursor(list(rows), limit),
    )
