"""HTTP conventions every API follows: Idempotency-Key on creating POSTs, ETag/If-Match, cursor pages."""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import uuid
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Annotated, Any, Generic, TypeVar

from fastapi import Depends, Header, Request, Response
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field, ValidationError
from sqlalchemy import delete, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from shared.errors import BadRequest, IdempotencyKeyReused, PreconditionFailed, PreconditionRequired
from shared.tables import idempotency_keys

T = TypeVar("T")
log = logging.getLogger(__name__)
_V = TypeVar("_V")


# --- Idempotency-Key -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RenderedJson:
    """A response body already serialised to JSON, for ``Idempotency.run``."""

    body: str


class Idempotency:
    """Replays the first response for a repeated key and body; refuses the key with another body."""

    def __init__(self, key: str | None, scope: str, body: bytes, ttl: timedelta = timedelta(hours=24)) -> None:
        self.key = key
        self.scope = scope
        self.request_hash = hashlib.sha256(body).hexdigest()
        self.ttl = ttl

    async def replay(self, session: AsyncSession, now: datetime) -> Response | None:
        """The first response when this key was used with this body (422 with another body); None when new."""
        if self.key is not None:
            stored = (
                await session.execute(
                    select(idempotency_keys).where(
                        idempotency_keys.c.key == self.key, idempotency_keys.c.scope == self.scope
                    )
                )
            ).first()
            if stored is not None and stored.created_at < now - self.ttl:
                # Expired: the key may be used again, for a new request.
                await session.execute(
                    delete(idempotency_keys).where(
                        idempotency_keys.c.key == self.key, idempotency_keys.c.scope == self.scope
                    )
                )
                stored = None
            if stored is not None:
                if stored.request_hash != self.request_hash:
                    raise IdempotencyKeyReused(
                        "this Idempotency-Key was used with a different request body",
                        errors=[{"field": "header.Idempotency-Key", "message": "reused with another body"}],
                    )
                headers = {"Idempotent-Replayed": "true"}
                if stored.location:
                    headers["Location"] = stored.location
                return JSONResponse(json.loads(stored.response_body), status_code=stored.status_code, headers=headers)
        return None

    async def run(
        self,
        session: AsyncSession,
        now: datetime,
        create: Callable[[], Awaitable[BaseModel | RenderedJson]],
        *,
        status_code: int = 201,
        location: Callable[[Any], str] | None = None,
    ) -> Response:
        """Run ``create`` once per key; store its response in the same transaction as its effect."""
        replayed = await self.replay(session, now)
        if replayed is not None:
            return replayed
        result = await create()
        # Serialised once by pydantic (what jsonable_encoder then json.dumps did, at a fraction of the cost),
        # or already (a billing run's 10,000 items, built without a model per item).
        body = result.body if isinstance(result, RenderedJson) else result.model_dump_json(by_alias=True)
        headers = {}
        if location is not None:
            headers["Location"] = location(result)
        if version := getattr(result, "version", None):
            headers["ETag"] = etag(version)
        if self.key is not None:
            await session.execute(
                insert(idempotency_keys).values(
                    key=self.key,
                    scope=self.scope,
                    request_hash=self.request_hash,
                    status_code=status_code,
                    response_body=body,
                    location=headers.get("Location"),
                    created_at=now,
                )
            )
        return Response(body, status_code=status_code, headers=headers, media_type="application/json")


async def _idempotency(
    request: Request,
    idempotency_key: Annotated[
        str | None,
        Header(
            alias="Idempotency-Key",
            min_length=1,
            max_length=200,
            description="Retry-safe creation: the same key and body return the first response",
        ),
    ] = None,
) -> Idempotency:
    scope = _idempotency_scope(request)
    body = await request.body()
    if idempotency_key is None:
        canonical = b""  # no key: nothing stored or compared (a billing run's body is 1.5 MB to canonicalise)
    else:
        try:
            canonical = json.dumps(json.loads(body), sort_keys=True, separators=(",", ":")).encode()
        except ValueError:
            canonical = body
    settings = getattr(request.app.state, "settings", None)
    ttl = timedelta(hours=settings.idempotency_ttl_hours) if settings is not None else timedelta(hours=24)
    return Idempotency(idempotency_key, scope, canonical, ttl)


def _idempotency_scope(request: Request) -> str:
    route = request.scope.get("route")
    scope = f"{request.method} {getattr(route, 'path', request.url.path)}"
    # The key binds to the path too: one key on two parents is two requests; and to the caller, so one
    # client can neither replay nor block another's key.
    caller = hashlib.sha256(_caller_of(request).encode()).hexdigest()[:32]
    return f"{scope} {request.url.path}"[:260] + f" @{caller}"


def streamed_idempotency(request: Request, key: str | None) -> Idempotency:
    """Idempotency for a body read as a stream: set ``request_hash`` (sha256 hex of the bytes) once read."""
    settings = getattr(request.app.state, "settings", None)
    ttl = timedelta(hours=settings.idempotency_ttl_hours) if settings is not None else timedelta(hours=24)
    return Idempotency(key, _idempotency_scope(request), b"", ttl)


def _caller_of(request: Request) -> str:
    """The token subject of the request, or "anonymous" on a public route called without a token."""
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return "anonymous"
    subject: str = request.app.state.token_verifier.verify(token.strip()).subject
    return subject


IdempotencyDep = Annotated[Idempotency, Depends(_idempotency)]


# --- ETag / If-Match --------------------------------------------------------------------------


def etag(version: int) -> str:
    return f'"{version}"'


def read_response(model: BaseModel, *, version: int | None = None) -> Response:
    """``model`` as the JSON body, with its ETag when a ``version`` is given.

    Serialised once: a route that returns the model instead has FastAPI validate it against the
    ``response_model`` again before serialising it (the route keeps ``response_model`` for its document).
    """
    headers = {"ETag": etag(version)} if version is not None else None
    return Response(model.model_dump_json(by_alias=True), headers=headers, media_type="application/json")


class RenderedReads:
    """The last answer of a GET by id per record, given again while what it was rendered from is the same.

    A read model is a pure function of the row the GET read and the day it is computed as of (penalty
    interest, DSO months, a prospect's temperature) under the service's settings and the policy the row names
    by its stamp: the row is still read on every request, but when it and the day equal the last ones for
    that record, the body and headers rendered from them are sent again instead of being built, validated and
    serialised anew (a third of a credit profile's CPU). Equal means equal and rendered the same: a Decimal
    must also keep its exponent (``1.0 == 1.00`` renders differently). At most ``size`` records are kept.
    """

    def __init__(self, size: int = 1024) -> None:
        self.size = size
        self._kept: dict[Any, _Kept] = {}

    def answer(self, key: Any, source: tuple[Any, ...]) -> Response | None:
        """The answer kept for ``key`` if it was rendered from ``source``, else None."""
        kept = self._kept.get(key)
        if kept is None or kept.source != source or kept.types != tuple(map(type, source)):
            return None
        # Equal values of the same types render alike, but for a Decimal's exponent (1.0 == 1.00).
        for position in kept.decimals:
            if not source[position].same_quantum(kept.source[position]):
                return None
        return _KeptResponse(kept.status_code, kept.body, kept.raw_headers)

    def holds(self, key: Any) -> bool:
        """Whether an answer is kept for ``key`` (a read only to compare with one is worth nothing without)."""
        return key in self._kept

    def keep(self, key: Any, source: tuple[Any, ...], response: Response) -> Response:
        """``response`` (a ``read_response``), kept as the answer for ``key`` rendered from ``source``."""
        if len(self._kept) >= self.size and key not in self._kept:
            self._kept.clear()
        self._kept[key] = _Kept(
            source,
            tuple(map(type, source)),
            tuple(position for position, value in enumerate(source) if isinstance(value, Decimal)),
            response.status_code,
            bytes(response.body),
            tuple(response.raw_headers),
        )
        return response


@dataclass(frozen=True, slots=True)
class _Kept:
    """A rendered answer and what it was rendered from: the values, their types, where its Decimals are."""

    source: tuple[Any, ...]
    types: tuple[type, ...]
    decimals: tuple[int, ...]
    status_code: int
    body: bytes
    raw_headers: tuple[tuple[bytes, bytes], ...]


class _KeptResponse(Response):
    """A kept answer sent again: the status, body and headers (ETag, length, type) it was first sent with.

    Its headers are the first answer's own, not built again from a ``headers`` mapping (what ``Response``
    does on every construction).
    """

    def __init__(self, status_code: int, body: bytes, raw_headers: tuple[tuple[bytes, bytes], ...]) -> None:
        self.status_code = status_code
        self.background = None
        self.body = body
        self.raw_headers = list(raw_headers)


def check_if_match(if_match: str | None, current_version: int, *, required: bool = True) -> None:
    """412 when If-Match names another version; 428 when it is required and missing."""
    if if_match is None:
        if required:
            raise PreconditionRequired(
                "send If-Match with the ETag you last read",
                errors=[{"field": "header.If-Match", "message": "required"}],
            )
        return
    candidates = [tag.strip().removeprefix("W/") for tag in if_match.split(",")]
    if "*" in candidates or etag(current_version) in candidates:
        return
    raise PreconditionFailed(
        f"the resource is at version {current_version}; reload it and retry", current_version=current_version
    )


IF_MATCH_REQUIRED = "ETag of the version being changed (428 without it, 412 when stale)"
IF_MATCH_OPTIONAL = "ETag of the version being changed; without it the change is unconditional (412 when stale)"
IF_MATCH_WHEN_EXISTS = "ETag of the version being changed: required once the resource exists (428), not to create it"
# The OpenAPI document marks the header required for IfMatch (shared.openapi reads these descriptions).
IfMatch = Annotated[str | None, Header(alias="If-Match", description=IF_MATCH_REQUIRED)]
IfMatchOptional = Annotated[str | None, Header(alias="If-Match", description=IF_MATCH_OPTIONAL)]
IfMatchWhenExists = Annotated[str | None, Header(alias="If-Match", description=IF_MATCH_WHEN_EXISTS)]


# --- Cursor pagination ------------------------------------------------------------------------


class Page(BaseModel, Generic[T]):
    """One page of a list; pass ``next_cursor`` as ``cursor`` to get the next one."""

    items: list[T]
    next_cursor: str | None = Field(None, description="opaque; absent on the last page")


def readable_items(rows: Iterable[Any], render: Callable[[Any], T], *, what: str) -> list[T]:
    """Each row rendered for a page; a row that cannot be (a value stored before today's bounds) is logged
    and left out, so one bad row never fails the whole page."""
    items: list[T] = []
    for row in rows:
        try:
            items.append(render(row))
        except (ValidationError, ArithmeticError, ValueError) as exc:
            log.warning(
                "unreadable row left out of a page",
                extra={"what": what, "id": str(getattr(row, "id", "?")), "error": str(exc)[:300]},
            )
    return items


def encode_cursor(values: dict[str, Any]) -> str:
    raw = json.dumps(jsonable_encoder(values), separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> dict[str, Any] | None:
    if cursor is None:
        return None
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        value = json.loads(base64.urlsafe_b64decode(padded.encode()))
        if not isinstance(value, dict):
            raise ValueError("cursor is not an object")
        return value
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadRequest(
            "the cursor is not one this API issued", errors=[{"field": "query.cursor", "message": "invalid cursor"}]
        ) from exc


def keyset_position(cursor: str | None) -> tuple[datetime, uuid.UUID] | None:
    """The (created_at, id) that a cursor issued by ``next_keyset_cursor`` points after."""
    after = decode_cursor(cursor)
    if after is None:
        return None
    try:
        return datetime.fromisoformat(after["created_at"]), uuid.UUID(after["id"])
    except (KeyError, ValueError, TypeError) as exc:
        raise BadRequest(
            "the cursor is not one this API issued", errors=[{"field": "query.cursor", "message": "invalid cursor"}]
        ) from exc


def sorted_keyset_position(cursor: str | None, sort: str, parse: Callable[[Any], _V]) -> tuple[_V, uuid.UUID] | None:
    """The (sort value, id) a cursor issued by ``sorted_keyset_cursor`` for the same ``sort`` points after.

    A cursor issued for another sort (or order) is refused: its position means nothing in this order.
    """
    after = decode_cursor(cursor)
    if after is None:
        return None
    try:
        if after["sort"] != sort:
            raise ValueError("cursor of another sort")
        return parse(after["value"]), uuid.UUID(after["id"])
    except (KeyError, ValueError, TypeError, ArithmeticError) as exc:
        raise BadRequest(
            "the cursor is not one this API issued for this sort",
            errors=[{"field": "query.cursor", "message": "invalid cursor for this sort"}],
        ) from exc


def sorted_keyset_cursor(value: Any, row_id: uuid.UUID, sort: str) -> str:
    """The cursor after the row with ``value`` (of the sort column) and ``row_id``, for ``sort``."""
    return encode_cursor({"sort": sort, "value": value, "id": str(row_id)})


def next_keyset_cursor(rows: list[Any], limit: int) -> str | None:
    """The cursor after the last row of a page fetched with ``limit + 1`` rows (None on the last page)."""
    if len(rows) <= limit:
        return None
    last = rows[limit - 1]
    return encode_cursor({"created_at": last.created_at.isoformat(), "id": str(last.id)})
