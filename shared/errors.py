"""Errors that carry their HTTP meaning; one handler in ``shared.problems`` renders them as RFC 9457.

Pure module (no framework imports) so domain code may raise these.
"""

from __future__ import annotations

from decimal import Decimal
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


class RequestTimeout(CreditflowError):
    status, code, title = 408, "request-timeout", "Request timeout"


class ContentTooLarge(CreditflowError):
    status, code, title = 413, "content-too-large", "Content too large"


class UnsupportedMediaType(CreditflowError):
    status, code, title = 415, "unsupported-media-type", "Unsupported media type"


class ServiceUnavailable(CreditflowError):
    status, code, title = 503, "unavailable", "Service unavailable"


def in_body(exc: DomainRuleViolation, prefix: str = "body") -> DomainRuleViolation:
    """The domain's problem with its fields named where the client sent them (``body.amount``)."""
    errors = [{**error, "field": f"{prefix}.{error.get('field', '')}".rstrip(".")} for error in exc.errors or []]
    return DomainRuleViolation(exc.detail, errors=errors or None)


def field_error(field: str, message: str) -> dict[str, Any]:
    """One entry of ``DomainRuleViolation.errors``."""
    return {"field": field, "message": message}


def rule_violation(errors: list[dict[str, Any]], detail: str | None = None) -> DomainRuleViolation:
    """One DomainRuleViolation listing ``errors``; the detail joins them unless given."""
    joined = "; ".join(f"{error['field']}: {error['message']}" for error in errors)
    return DomainRuleViolation(detail or joined, errors=list(errors))


def raise_if_any(errors: list[dict[str, Any]], detail: str | None = None) -> None:
    """Raise one DomainRuleViolation listing every collected field error, if there is any."""
    if errors:
        raise rule_violation(errors, detail)


class FieldErrors:
    """Collects every broken rule of one input so the caller gets them all in one 422."""

    def __init__(self) -> None:
        self.errors: list[dict[str, Any]] = []

    def add(self, field: str, message: str) -> None:
        """Record one broken rule on one field."""
        self.errors.append(field_error(field, message))

    def check(self, holds: bool, field: str, message: str) -> None:
        """Record a broken rule unless ``holds``."""
        if not holds:
            self.add(field, message)

    def require_finite(self, value: Decimal, field: str) -> bool:
        """Record NaN/Infinity as broken; return whether the value is usable."""
        if not value.is_finite():
            self.add(field, "must be a finite number")
            return False
        return True

    def raise_if_any(self, detail: str | None = None) -> None:
        """Raise one DomainRuleViolation listing every collected error, if there is any."""
        raise_if_any(self.errors, detail)


class PermanentEventError(Exception):
    """A consumed event that can never be applied (a rule refuses it): the consumer dead-letters it.

    Raise it from an event handler only when retrying cannot help; any other exception is treated as
    transient (database down, timeout) and retried without limit.
    """
