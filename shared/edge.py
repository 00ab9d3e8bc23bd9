"""Limits at the edge, before any route reads a body: size, slow clients, authentication, request rate.

- A body larger than ``http_max_body_bytes`` is refused with 413: at once when ``Content-Length`` says
  so, else as soon as the streamed bytes pass the limit (nothing beyond the limit is read).
- A body that does not arrive within ``http_body_timeout_seconds`` is refused with 408 (slow clients).
- A route that needs a token is refused with 401 *before* its body is read and parsed: an anonymous
  client cannot make the service parse megabytes of JSON.
- Each caller (token subject, else client address) gets ``http_rate_limit`` requests (the ``limits``
  library's notation, e.g. ``"600/minute"``) per window, in memory per process; beyond it 429 with
  ``Retry-After``.
- An operation marked ``x-streamed-body`` in its OpenAPI (an upload read with ``request.stream()``) is
  passed through unbuffered: it enforces its own limits (size, lines, line length, stalls) as it reads.
- Every response says ``X-Content-Type-Options: nosniff``; API responses (personal data) say
  ``Cache-Control: no-store``.
"""

from __future__ import annotations

import asyncio
import re
import time
from typing import Any

from limits import parse
from starlette.requests import Request
from starlette.routing import compile_path

from shared.errors import CreditflowError, Unauthorized
from shared.fast_reads import PRINCIPAL_SCOPE_KEY
from shared.openapi import operations_of
from shared.problems import problem_response
from shared.ratelimit import SlidingWindowLimiter
from shared.settings import ServiceSettings

BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
UNLIMITED_PATHS = frozenset({"/livez", "/readyz"})
STREAMED_BODY = "x-streamed-body"  # OpenAPI extension of an operation that reads its body as a stream
_CHALLENGE = {"WWW-Authenticate": 'Bearer realm="creditflow"'}


class EdgeLimitsMiddleware:
    """Pure ASGI middleware: refuses oversize, slow, unauthenticated and too frequent requests early."""

    def __init__(self, app: Any, settings: ServiceSettings) -> None:
        self.app = app
        self.settings = settings
        rate = parse(settings.http_rate_limit) if settings.http_rate_limit else None
        self.limiter = SlidingWindowLimiter(rate.amount, rate.get_expiry()) if rate is not None else None
        self._operations: dict[str, list[re.Pattern[str]]] | None = None
        self._streamed: dict[str, list[re.Pattern[str]]] | None = None

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        send = _with_safety_headers(scope, send)
        principal = None
        if scope.get("path") not in UNLIMITED_PATHS:
            refused: CreditflowError | None = None
            try:
                principal = self._principal(scope)
            except CreditflowError as bad_token:
                refused = bad_token
            if principal is not None:
                scope[PRINCIPAL_SCOPE_KEY] = principal  # for the fast reads (shared.fast_reads)
            if principal is None and scope.get("method") in BODY_METHODS and self._needs_token(scope):
                refused = refused or Unauthorized("a Bearer token is required", headers=_CHALLENGE)
                await self._answer(
                    scope, send, refused.status, refused.code, refused.title, refused.detail, refused.headers
                )
                return
            if self.limiter is not None and not self.limiter.hit(_caller(scope, principal)):
                return await self._too_many(scope, send, principal)
        if scope.get("method") in BODY_METHODS and not self._streams_body(scope):
            body = await self._read_body(scope, receive, send)
            if body is None:
                return
            await self.app(scope, _replay(body, receive), send)
            return
        await self.app(scope, receive, send)

    def _principal(self, scope: Any) -> Any:
        """The verified caller when a bearer token is sent, None without one; raises Unauthorized when bad."""
        # The first Authorization header, as ``Request.headers.get`` finds it (without building the Request).
        header = next((value for name, value in scope["headers"] if name == b"authorization"), None)
        if header is None:
            return None
        scheme, _, token = header.decode("latin-1").partition(" ")
        if scheme.lower() != "bearer" or not token:
            raise Unauthorized("a Bearer token is required", headers=_CHALLENGE)
        return scope["app"].state.token_verifier.verify(token.strip())

    def _needs_token(self, scope: Any) -> bool:
        """Whether the operation the request goes to requires a bearer token (per its OpenAPI security)."""
        app = scope.get("app")
        if app is None:
            return False
        if self._operations is None:
            self._operations = _operations_needing_tokens(operations_of(app))
        method = str(scope.get("method", "")).lower()
        path = scope.get("path", "")
        return any(pattern.match(path) for pattern in self._operations.get(method, ()))

    def _streams_body(self, scope: Any) -> bool:
        """Whether the operation the request goes to reads its body as a stream (``x-streamed-body``)."""
        app = scope.get("app")
        if app is None:
            return False
        if self._streamed is None:
            self._streamed = _operations_streaming_bodies(operations_of(app))
        method = str(scope.get("method", "")).lower()
        path = scope.get("path", "")
        return any(pattern.match(path) for pattern in self._streamed.get(method, ()))

    async def _too_many(self, scope: Any, send: Any, principal: Any) -> None:
        assert self.limiter is not None
        retry_after = self.limiter.retry_after(_caller(scope, principal))
        await self._answer(
            scope,
            send,
            429,
            "too-many-requests",
            "Too many requests",
            f"at most {self.settings.http_rate_limit} per caller; retry after {retry_after} s",
            {"Retry-After": str(retry_after)},
        )

    async def _read_body(self, scope: Any, receive: Any, send: Any) -> bytes | None:
        """The whole body within the size and time limits, or None once a refusal has been sent."""
        limit = self.settings.http_max_body_bytes
        declared = dict(scope.get("headers", [])).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await self._too_large(scope, send, limit)
            return None
        chunks: list[bytes] = []
        size = 0
        more = True
        deadline = time.monotonic() + self.settings.http_body_timeout_seconds
        while more:
            try:
                message = await asyncio.wait_for(receive(), max(0.0, deadline - time.monotonic()))
            except TimeoutError:
                await self._answer(
                    scope,
                    send,
                    408,
                    "request-timeout",
                    "Request timeout",
                    f"the body did not arrive within {self.settings.http_body_timeout_seconds:g} s",
                    {"Connection": "close"},
                )
                return None
            if message["type"] == "http.disconnect":
                return None
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                await self._too_large(scope, send, limit)
                return None
            chunks.append(chunk)
            more = message.get("more_body", False)
        return b"".join(chunks)

    async def _too_large(self, scope: Any, send: Any, limit: int) -> None:
        await self._answer(
            scope,
            send,
            413,
            "content-too-large",
            "Content too large",
            f"request bodies are limited to {limit} bytes",
            {"Connection": "close"},
        )

    async def _answer(
        self, scope: Any, send: Any, status: int, code: str, title: str, detail: str, headers: dict[str, str] | None
    ) -> None:
        response = problem_response(Request(scope), status, code, title, detail, headers=headers)
        await response(scope, _no_receive, send)


def _operations_needing_tokens(paths: dict[str, Any]) -> dict[str, list[re.Pattern[str]]]:
    """Per HTTP method, the path patterns whose operation requires a token (no empty, optional requirement)."""
    needing: dict[str, list[re.Pattern[str]]] = {}
    for path, operations in paths.items():
        pattern, _format, _convertors = compile_path(path)
        for method, operation in operations.items():
            requirements = operation.get("security") if isinstance(operation, dict) else None
            if requirements and all(requirements):
                needing.setdefault(method, []).append(pattern)
    return needing


def _operations_streaming_bodies(paths: dict[str, Any]) -> dict[str, list[re.Pattern[str]]]:
    """Per HTTP method, the path patterns whose operation is marked ``x-streamed-body``."""
    streamed: dict[str, list[re.Pattern[str]]] = {}
    for path, operations in paths.items():
        pattern, _format, _convertors = compile_path(path)
        for method, operation in operations.items():
            if isinstance(operation, dict) and operation.get(STREAMED_BODY):
                streamed.setdefault(method, []).append(pattern)
    return streamed


def _caller(scope: Any, principal: Any) -> str:
    if principal is not None:
        return f"sub:{principal.subject}"
    client = scope.get("client")  # what ``Request.client`` reads
    return f"ip:{client[0] if client is not None else 'unknown'}"


def _replay(body: bytes, receive: Any) -> Any:
    sent = False

    async def replay() -> Any:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


async def _no_receive() -> Any:
    return {"type": "http.disconnect"}


def _with_safety_headers(scope: Any, send: Any) -> Any:
    personal = scope.get("path", "").startswith("/v1/")

    async def send_with_headers(message: Any) -> None:
        if message["type"] == "http.response.start":
            headers = list(message.get("headers", []))
            names = {name.lower() for name, _value in headers}
            if b"x-content-type-options" not in names:
                headers.append((b"x-content-type-options", b"nosniff"))
            if personal and b"cache-control" not in names:
                headers.append((b"cache-control", b"no-store"))
            message["headers"] = headers
        await send(message)

    return send_with_headers
