"""CORS for browser clients on other origins: off unless origins are configured.

Tokens travel in the ``Authorization`` header, never in cookies, so credentials are not allowed. The headers a
client needs to read back (``ETag`` for ``If-Match``, ``Location`` of a created resource, ``X-Request-Id`` to
report a problem, ``Retry-After`` of a 503/429) are exposed.
"""

from __future__ import annotations

from fastapi import FastAPI
from starlette.middleware.cors import CORSMiddleware

from shared.settings import ServiceSettings

ALLOWED_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
ALLOWED_HEADERS = (
    "Authorization",
    "Content-Type",
    "If-Match",
    "If-None-Match",
    "Idempotency-Key",
    "X-Request-Id",
    "traceparent",
)
EXPOSED_HEADERS = ("ETag", "Location", "X-Request-Id", "Retry-After")
PREFLIGHT_MAX_AGE_SECONDS = 600


def install_cors(app: FastAPI, settings: ServiceSettings) -> None:
    """Add the CORS middleware (outermost of those added so far) when origins are configured."""
    origins = settings.cors_origins
    if not origins:
        return
    app.add_middleware(
        CORSMiddleware,
        allow_origins=list(origins),
        allow_methods=list(ALLOWED_METHODS),
        allow_headers=list(ALLOWED_HEADERS),
        expose_headers=list(EXPOSED_HEADERS),
        allow_credentials=False,
        max_age=PREFLIGHT_MAX_AGE_SECONDS,
    )
