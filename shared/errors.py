"""Errors that carry their HTTP meaning; one handler in ``shared.problems`` renders them as RFC 9457.

Pure module (no framework imports) so domain code may raise these.
"""

from __future__ import annotations

from typing import Any


class CreditflowError(Exception):
    """Base of every error the suite raises on purpose."""

    status: int = 500
    code: str = "internal-error"
    title: str = "Internal error"

    def __init__(
        self,
        detail: str | None = None,
        *,
        errors: list[dict[str, Any]] | None = None,
        headers: dict[str, str] | None = None,
        **extensions: Any,
    ) -> None:
        super().__init__(detail or self.title)
        self.detail = detail or self.title
        self.errors = errors or []
        self.headers = headers or {}
        self.extensions = extensions


class BadRequest(CreditflowError):
    status, code, title = 400, "bad-request", "Bad request"


class Unauthorized(CreditflowError):
    status, code, title = 401, "unauthorized", "Authentication required"


class Forbidden(CreditflowError):
    status, code, title = 403, "forbidden", "Insufficient scope"


class NotFound(CreditflowError):
    status, code, title = 404, "not-found", "Resource not found"


class Conflict(CreditflowError):
    """The request is valid but clashes with the current state (duplicate, illegal transition)."""

    status, code, title = 409, "conflict", "Conflict with the current state"


class PreconditionFailed(CreditflowError):
    status, code, title = 412, "precondition-failed", "Precondition failed"


class PreconditionRequired(CreditflowError):
    status, code, title = 428, "precondition-required", "Precondition required"


class DomainRuleViolation(CreditflowError):
    """Input that is well-formed but breaks a business rule (negative amount, malformed terms ...)."""

    status, code, title = 422, "rule-violation", "Business rule violated"


class IdempotencyKeyReused(CreditflowError):
    status, code, title = 422, "idempotency-key-reused", "Idempotency-Key reused with another request"


class ServiceUnavailable(CreditflowError):
    status, code, title = 503, "unavailable", "Service unavailable"


class PermanentEventError(Exception):
    """A consumed event that can never be applied (a rule refuses it): the consumer dead-letters it.

    Raise it from an event handler only when retrying cannot help; any other exception is treated as
    transient (database down, timeout) and retried without limit.
    """
