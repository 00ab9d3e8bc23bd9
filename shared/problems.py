"""RFC 9457 problem+json for every error path: our errors, validation errors, 404/405, and crashes."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm.exc import StaleDataError
from starlette.exceptions import HTTPException as StarletteHTTPException

from shared.context import request_id_var
from shared.errors import CreditflowError

log = logging.getLogger(__name__)

PROBLEM_TYPE_BASE = "https://creditflow.dev/problems/"
PROBLEM_JSON = "application/problem+json"


class FieldError(BaseModel):
    field: str = Field(description="dotted path of the invalid field, e.g. body.amount")
    message: str
    type: str | None = None


class Problem(BaseModel):
    """RFC 9457 problem details."""

    type: str = Field(examples=[PROBLEM_TYPE_BASE + "validation-error"])
    title: str = Field(examples=["Request validation failed"])
    status: int = Field(examples=[422])
    detail: str | None = None
    instance: str | None = None
    request_id: str | None = None
    errors: list[FieldError] = Field(default_factory=list)


def problem_response(request: Request, status: int, code: str, title: str, detail: str | None = None,
                     errors: list[dict[str, Any]] | None = None, headers: dict[str, str] | None = None,
                     **extensions: Any) -> JSONResponse:
    body: dict[str, Any] = {
        "type": PROBLEM_TYPE_BASE + code,
        "title": title,
        "status": status,
        "detail": detail or title,
        "instance": request.url.path,
        "request_id": request_id_var.get(),
        "errors": errors or [],
        **extensions,
    }
    return JSONResponse(jsonable_encoder(body), status_code=status, media_type=PROBLEM_JSON, headers=headers)


def _validation_errors(exc: RequestValidationError) -> tuple[int, str, list[dict[str, Any]]]:
    errors = []
    malformed = False
    for error in exc.errors():
        location = [str(part) for part in error.get("loc", ())]
        if error.get("type") == "json_invalid":
            malformed = True
        errors.append({"field": ".".join(location), "message": error.get("msg", "invalid"),
                       "type": error.get("type")})
    if malformed:
        return 400, "malformed-json", errors
    return 422, "validation-error", errors


def install_problem_handlers(app: FastAPI) -> None:
    """Route every error through problem+json."""

    @app.exception_handler(CreditflowError)
    async def _creditflow_error(request: Request, exc: CreditflowError) -> JSONResponse:
        if exc.status >= 500:
            log.error("service error", exc_info=exc)
        return problem_response(request, exc.status, exc.code, exc.title, exc.detail, exc.errors,
                                exc.headers, **exc.extensions)

    @app.exception_handler(RequestValidationError)
    async def _validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        status, code, errors = _validation_errors(exc)
        title = "Malformed JSON body" if status == 400 else "Request validation failed"
        detail = "; ".join(f"{e['field']}: {e['message']}" for e in errors[:5])
        return problem_response(request, status, code, title, detail, errors)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        codes = {404: ("not-found", "Resource not found"), 405: ("method-not-allowed", "Method not allowed"),
                 401: ("unauthorized", "Authentication required"), 403: ("forbidden", "Insufficient scope"),
                 415: ("unsupported-media-type", "Unsupported media type")}
        code, title = codes.get(exc.status_code, ("http-error", "HTTP error"))
        detail = exc.detail if isinstance(exc.detail, str) else title
        return problem_response(request, exc.status_code, code, title, detail,
                                headers=dict(exc.headers or {}))

    @app.exception_handler(IntegrityError)
    async def _integrity_error(request: Request, exc: IntegrityError) -> JSONResponse:
        # A uniqueness race lost to a concurrent request: the transaction rolled back, nothing written.
        log.info("integrity error", extra={"error": str(exc.orig)[:300]})
        return problem_response(request, 409, "conflict", "Conflict with the current state",
                                "a concurrent request changed the same resource; reload and retry")

    @app.exception_handler(StaleDataError)
    async def _stale(request: Request, exc: StaleDataError) -> JSONResponse:
        # Two writers read the same version; the other one committed first.
        return problem_response(request, 412, "precondition-failed", "Precondition failed",
                                "the resource changed since it was read; reload it and retry")

    @app.exception_handler(OperationalError)
    async def _operational_error(request: Request, exc: OperationalError) -> JSONResponse:
        log.warning("database unavailable", extra={"error": str(exc.orig)[:300]})
        return problem_response(request, 503, "unavailable", "Service unavailable",
                                "the database is busy or unreachable; retry shortly", headers={"Retry-After": "1"})

    @app.exception_handler(Exception)
    async def _unhandled(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error")
        return problem_response(request, 500, "internal-error", "Internal error",
                                "The service failed to handle the request; it has been logged.")


PROBLEM_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": Problem, "content": {PROBLEM_JSON: {}}, "description": description}
    for status, description in {
        400: "Malformed request", 401: "Missing or invalid token", 403: "Token lacks the scope",
        404: "Not found", 409: "Conflict with the current state", 412: "Stale If-Match",
        422: "Validation failed", 428: "If-Match required",
    }.items()
}
