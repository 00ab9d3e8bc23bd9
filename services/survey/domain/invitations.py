"""Invitation links: signed, expiring tokens that let a customer answer without a staff account.

Token format (URL-safe, 120 characters, no padding)::

    base64url(payload) "." base64url(HMAC-SHA256(secret, CONTEXT + payload))
    payload = version (1 byte) | invitation id | campaign id | customer id (16 bytes each)
              | expires_at as signed microseconds since the Unix epoch, UTC (8 bytes, big-endian)

The context prefix keeps a MAC made for invitations from verifying as anything else signed with
the same secret. Signatures are compared in constant time (``hmac.compare_digest``), and only a
canonical encoding is accepted, so one invitation has exactly one token string.

Single use is not the token's business: the service marks the invitation row ``used_at`` in the
transaction that stores the response and raises ``InvitationAlreadyUsed`` on a second attempt.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import struct
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from fractions import Fraction
from uuid import UUID

from services.survey.domain.rounding import present
from shared.errors import Conflict, CreditflowError, DomainRuleViolation, Unauthorized

TOKEN_VERSION = 1
_CONTEXT = b"creditflow.survey.invitation\x00"
_PAYLOAD = struct.Struct(">B16s16s16sq")
_SIGNATURE_SIZE = hashlib.sha256().digest_size
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


class InvalidInvitation(Unauthorized):
    """The token is garbled, forged, tampered with or signed with another secret (401)."""

    status, code, title = 401, "invalid-invitation", "Invalid invitation token"


class InvitationExpired(CreditflowError):
    """The token is genuine but its expiry has passed (410: the link is gone for good)."""

    status, code, title = 410, "invitation-expired", "Invitation expired"


class InvitationAlreadyUsed(Conflict):
    """The invitation already has a response; raised by the service when ``used_at`` is set (409)."""

    status, code, title = 409, "invitation-used", "Invitation already used"


@dataclass(frozen=True)
class TokenClaims:
    """What a verified token vouches for; ``expires_at`` is in UTC."""

    invitation_id: UUID
    campaign_id: UUID
    customer_id: UUID
    expires_at: datetime


def _encode(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _decode(text: str) -> bytes:
    """Strict base64url without padding; anything else (or a non-canonical spelling) is invalid."""
    try:
        raw = base64.b64decode(text + "=" * (-len(text) % 4), altchars=b"-_", validate=True)
    except (binascii.Error, ValueError):
        raise InvalidInvitation("the invitation token is not valid") from None
    if _encode(raw) != text:
        raise InvalidInvitation("the invitation token is not valid")
    return raw


def _signature(secret: bytes, payload: bytes) -> bytes:
    return hmac.new(secret, _CONTEXT + payload, hashlib.sha256).digest()


def _check_secret(secret: bytes) -> None:
    if not isinstance(secret, bytes) or not secret:
        raise ValueError("the invitation signing secret must be non-empty bytes")


def issue_token(secret: bytes, invitation_id: UUID, campaign_id: UUID, customer_id: UUID, expires_at: datetime) -> str:
    """A URL-safe token signed with HMAC-SHA256 carrying the three ids and the expiry (to the microsecond).

    ``expires_at`` must be timezone-aware (naive → DomainRuleViolation, 422); the token is valid
    strictly before that instant.
    """
    _check_secret(secret)
    if expires_at.tzinfo is None or expires_at.utcoffset() is None:
        raise DomainRuleViolation(
            "invitation expiry must carry a time zone",
            errors=[{"field": "expires_at", "message": "expected a timezone-aware date-time"}],
        )
    micros = (expires_at - _EPOCH) // _MICROSECOND
    payload = _PAYLOAD.pack(TOKEN_VERSION, invitation_id.bytes, campaign_id.bytes, customer_id.bytes, micros)
    return f"{_encode(payload)}.{_encode(_signature(secret, payload))}"


def verify_token(secret: bytes, token: str, now: datetime) -> TokenClaims:
    """The claims of a genuine, unexpired token.

    Raises ``InvalidInvitation`` (401, ``invalid-invitation``) for anything not signed by
    ``secret`` — garbage, a forged signature, a tampered payload — and ``InvitationExpired``
    (410, ``invitation-expired``) when ``now >= expires_at`` (the expiry instant itself is expired).
    Expiry is checked only after the signature, so an attacker learns nothing from it.
    """
    _check_secret(secret)
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be timezone-aware")
    if not isinstance(token, str) or not token.isascii() or token.count(".") != 1:
        raise InvalidInvitation("the invitation token is not valid")
    encoded_payload, encoded_signature = token.split(".")
    payload, signature = _decode(encoded_payload), _decode(encoded_signature)
    if len(payload) != _PAYLOAD.size or len(signature) != _SIGNATURE_SIZE:
        raise InvalidInvitation("the invitation token is not valid")
    if not hmac.compare_digest(signature, _signature(secret, payload)):
        raise InvalidInvitation("the invitation token is not valid")
    version, invitation, campaign, customer, micros = _PAYLOAD.unpack(payload)
    if version != TOKEN_VERSION:
        raise InvalidInvitation("the invitation token is not valid")
    claims = TokenClaims(
        invitation_id=UUID(bytes=invitation),
        campaign_id=UUID(bytes=campaign),
        customer_id=UUID(bytes=customer),
        expires_at=_EPOCH + micros * _MICROSECOND,
    )
    if now >= claims.expires_at:
        raise InvitationExpired(f"the invitation expired at {claims.expires_at.isoformat()}")
    return claims


def response_rate(responses: int, invitations: int) -> Decimal:
    """responses / invitations as a Decimal fraction (0.4286, not 42.86), 4 dp ROUND_HALF_UP; 0 invitations → 0.

    Count responses that came through the campaign's invitations; staff-entered responses
    counted too could push the rate above 1, which is returned as is.
    """
    if responses < 0 or invitations < 0:
        raise ValueError("counts cannot be negative")
    if invitations == 0:
        return present(0)
    return present(Fraction(responses, invitations))
