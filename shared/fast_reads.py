"""Hot reads by id answered without FastAPI's routing and dependency solving.

A GET by id is the commonest request and its query takes microseconds; matching it against every route,
solving its dependencies (the security scopes, a connection generator with a shielded exit) and the
exception middlewares cost ten times the query. A ``FastRead`` names such a route (its path template) and
the function that answers it, the same function the route calls. The middleware answers the request itself
only when it can answer exactly as the route would: a GET of the canonical form of an id, with a verified
token (the edge has verified it) carrying every scope the route requires (read from its OpenAPI
operation), and the answer found, or not found (its 404 problem rendered as the route's handler renders
it). Everything else goes to the route unchanged: no or a bad token, a missing scope, an id in another
form, any other error (the route runs again and renders its own problem), and every request while traces
are recorded (a traced request takes the instrumented route).

It sits inside the request-context, edge and NUL middlewares: the request id, access log, metrics, rate
limit and safety headers are theirs, as for any request.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from fastapi import routing
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Match

from shared import tracing
from shared.auth import Principal
from shared.errors import NotFound
from shared.openapi import operations_of
from shared.problems import problem_response

PRINCIPAL_SCOPE_KEY = "creditflow.principal"
"""ASGI scope key under which the edge leaves the caller its bearer token names (verified), if any."""

_CANONICAL_ID = r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"


@dataclass(frozen=True)
class FastRead:
    """The GET route at ``path`` (one ``{id}`` parameter), answered by ``answer(runtime, id)`` when it can."""

    path: str
    answer: Callable[[Any, uuid.UUID], Awaitable[Response]]


@dataclass(frozen=True)
class _Compiled:
    pattern: re.Pattern[str]
    scopes: tuple[str, ...]
    route: Any
    answer: Callable[[Any, uuid.UUID], Awaitable[Response]]


def _route_answering(app: Any, path: str) -> Any:
    """The route FastAPI's router hands a GET of ``path`` to (the first that matches it in full)."""
    scope = {"type": "http", "method": "GET", "path": path, "root_path": "", "headers": []}
    for candidate in routing.iter_route_contexts(app.routes):
        match, _child = candidate.matches(scope)
        if match is Match.FULL:
            return candidate.original_route
    return None


class FastReadMiddleware:
    """Pure ASGI middleware: answers the service's ``FastRead`` routes, else passes the request on."""

    def __init__(self, app: Any, reads: tuple[FastRead, ...]) -> None:
        self.app = app
        self.reads = reads
        self._compiled: tuple[_Compiled, ...] | None = None

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope["method"] == "GET" and self.reads:
            principal: Principal | None = scope.get(PRINCIPAL_SCOPE_KEY)
            if principal is not None and not tracing.recording():
                for read in self._compiled or self._compile(scope["app"]):
                    match = read.pattern.fullmatch(scope["path"])
                    if match is None:
                        continue
                    if all(principal.has(needed) for needed in read.scopes):
                        response = await self._answer(read, scope, match.group(1))
                        if response is not None:
                            scope["route"] = read.route  # what the metrics and access log label it with
                            await response(scope, receive, send)
                            return
                    break
        await self.app(scope, receive, send)

    @staticmethod
    async def _answer(read: _Compiled, scope: Any, raw_id: str) -> Response | None:
        try:
            return await read.answer(scope["app"].state.runtime, uuid.UUID(raw_id))
        except NotFound as missing:
            # The route would run the same read, raise the same error and have the problem handler render it
            # (shared.problems): rendered here as it renders it, rather than reading again for the same answer.
            return problem_response(
                Request(scope),
                missing.status,
                missing.code,
                missing.title,
                missing.detail,
                missing.errors,
                missing.headers,
                **missing.extensions,
            )
        except Exception:
            # A failure: the route answers (runs again and renders its own problem+json).
            return None

    def _compile(self, app: Any) -> tuple[_Compiled, ...]:
        paths = operations_of(app)
        compiled = []
        for read in self.reads:
            operation = paths[read.path]["get"]
            parameter = re.fullmatch(r"[^{}]*\{(\w+)\}[^{}]*", read.path)
            if parameter is None:
                raise ValueError(f"a fast read needs exactly one path parameter: {read.path}")
            before, _, after = read.path.partition(f"{{{parameter.group(1)}}}")
            pattern = re.compile(f"{re.escape(before)}({_CANONICAL_ID}){re.escape(after)}")
            route = _route_answering(app, before + str(uuid.UUID(int=1)) + after)
            if getattr(route, "path", None) != read.path:
                raise ValueError(f"{read.path} is not the route that answers its GET requests")
            scopes = tuple(operation.get("x-required-scopes", ()))
            if not operation.get("security") or not scopes:
                raise ValueError(f"a fast read answers only routes that require scopes: {read.path}")
            compiled.append(_Compiled(pattern, scopes, route, read.answer))
        self._compiled = tuple(compiled)
        return self._compiled
