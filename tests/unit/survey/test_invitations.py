"""Invitation tokens (signed, expiring) and the response rate."""

from __future__ import annotations

import base64
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from uuid import UUID

import pytest

from services.survey.domain.invitations import (
    InvalidInvitation,
    InvitationAlreadyUsed,
    InvitationExpired,
    TokenClaims,
    issue_token,
    response_rate,
    verify_token,
)
from shared.errors import DomainRuleViolation

SECRET = b"survey-invitation-test-secret-32b"
INVITATION = UUID("11111111-1111-4111-8111-111111111111")
CAMPAIGN = UUID("22222222-2222-4222-8222-222222222222")
CUSTOMER = UUID("33333333-3333-4333-8333-333333333333")
EXPIRES = datetime(2026, 3, 31, 23, 59, 59, 123456, tzinfo=UTC)
BEFORE = EXPIRES - timedelta(days=10)


def token() -> str:
    return issue_token(SECRET, INVITATION, CAMPAIGN, CUSTOMER, EXPIRES)


def _flip_character(text: str, index: int) -> str:
    replacement = "A" if text[index] != "A" else "B"
    return text[:index] + replacement + text[index + 1 :]


def test_round_trip_gives_back_the_claims() -> None:
    issued = token()
    assert verify_token(SECRET, issued, BEFORE) == TokenClaims(
        invitation_id=INVITATION, campaign_id=CAMPAIGN, customer_id=CUSTOMER, expires_at=EXPIRES
    )


def test_token_is_url_safe_compact_and_deterministic() -> None:
    issued = token()
    # 57-byte payload → 76 characters, 32-byte MAC → 43 characters, joined by a dot.
    assert len(issued) == 76 + 1 + 43
    assert set(issued) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.")
    assert issued == token()
    assert issued != issue_token(SECRET, CUSTOMER, CAMPAIGN, INVITATION, EXPIRES)


def test_expiry_in_another_time_zone_is_the_same_instant() -> None:
    shanghai = EXPIRES.astimezone(timezone(timedelta(hours=8)))
    claims = verify_token(SECRET, issue_token(SECRET, INVITATION, CAMPAIGN, CUSTOMER, shanghai), BEFORE)
    assert claims.expires_at == EXPIRES
    assert claims.expires_at.tzinfo is UTC


@pytest.mark.parametrize(
    ("now", "valid"),
    [
        (EXPIRES - timedelta(microseconds=1), True),
        (EXPIRES, False),
        (EXPIRES + timedelta(microseconds=1), False),
        (EXPIRES.astimezone(timezone(timedelta(hours=8))), False),
        (EXPIRES + timedelta(days=365), False),
    ],
    ids=[
        "one-microsecond-before",
        "at-expiry-instant",
        "one-microsecond-after",
        "at-expiry-other-zone",
        "a-year-later",
    ],
)
def test_expiry_boundary(now: datetime, valid: bool) -> None:
    if valid:
        assert verify_token(SECRET, token(), now).invitation_id == INVITATION
    else:
        with pytest.raises(InvitationExpired) as raised:
            verify_token(SECRET, token(), now)
        assert (raised.value.status, raised.value.code) == (410, "invitation-expired")


def _tampered_payload() -> str:
    # Swap the customer id in the payload, keep the original signature.
    payload_text, signature_text = token().split(".")
    payload = bytearray(base64.urlsafe_b64decode(payload_text + "=="))
    payload[33:49] = UUID("44444444-4444-4444-8444-444444444444").bytes
    return base64.urlsafe_b64encode(bytes(payload)).rstrip(b"=").decode() + "." + signature_text


def _extended_expiry() -> str:
    payload_text, signature_text = token().split(".")
    payload = bytearray(base64.urlsafe_b64decode(payload_text + "=="))
    payload[49:57] = (int.from_bytes(payload[49:57], "big", signed=True) + 10**12).to_bytes(8, "big", signed=True)
    return base64.urlsafe_b64encode(bytes(payload)).rstrip(b"=").decode() + "." + signature_text


def _non_canonical_signature() -> str:
    # 32 signature bytes fill 43 characters with 2 bits to spare; the canonical last character has
    # them at 0, the next character has them at 01 and decodes to the very same bytes.
    issued = token()
    return issued[:-1] + chr(ord(issued[-1]) + 1)


def _forged_signature() -> str:
    payload_text, _ = token().split(".")
    return payload_text + "." + base64.urlsafe_b64encode(b"\x00" * 32).rstrip(b"=").decode()


@pytest.mark.parametrize(
    "bad_token",
    [
        pytest.param(_forged_signature(), id="forged-signature"),
        pytest.param(_flip_character(token(), -5), id="signature-character-flipped"),
        pytest.param(_tampered_payload(), id="tampered-customer-id"),
        pytest.param(_extended_expiry(), id="tampered-expiry"),
        pytest.param(_flip_character(token(), 3), id="payload-character-flipped"),
        pytest.param(issue_token(b"another-secret", INVITATION, CAMPAIGN, CUSTOMER, EXPIRES), id="other-secret"),
        pytest.param("", id="empty"),
        pytest.param("garbage", id="no-dot"),
        pytest.param("a.b.c", id="three-parts"),
        pytest.param("not base64!.also not", id="not-base64"),
        pytest.param(token().split(".")[0], id="payload-only"),
        pytest.param(token() + "A", id="trailing-character"),
        pytest.param(token() + "=", id="padding-added"),
        pytest.param("AAAA.AAAA", id="short-parts"),
        pytest.param(_non_canonical_signature(), id="non-canonical-encoding-of-the-same-signature"),
        pytest.param("+" + token()[1:], id="standard-base64-alphabet"),
        pytest.param("ü" + token(), id="non-ascii"),
    ],
)
def test_bad_tokens_are_refused_as_invalid(bad_token: str) -> None:
    with pytest.raises(InvalidInvitation) as raised:
        verify_token(SECRET, bad_token, BEFORE)
    assert (raised.value.status, raised.value.code) == (401, "invalid-invitation")


def test_a_forged_token_is_invalid_even_after_expiry() -> None:
    # The signature is checked first: an expired forgery reads as invalid, not expired.
    with pytest.raises(InvalidInvitation):
        verify_token(SECRET, _tampered_payload(), EXPIRES + timedelta(days=1))


def test_a_non_string_token_is_invalid() -> None:
    with pytest.raises(InvalidInvitation):
        verify_token(SECRET, None, BEFORE)  # type: ignore[arg-type]


def test_used_invitation_error_is_a_conflict() -> None:
    error = InvitationAlreadyUsed()
    assert (error.status, error.code) == (409, "invitation-used")


@pytest.mark.parametrize(
    ("call", "error"),
    [
        (lambda: issue_token(SECRET, INVITATION, CAMPAIGN, CUSTOMER, datetime(2026, 3, 31)), DomainRuleViolation),
        (lambda: issue_token(b"", INVITATION, CAMPAIGN, CUSTOMER, EXPIRES), ValueError),
        (lambda: verify_token(SECRET, token(), datetime(2026, 3, 1)), ValueError),
        (lambda: verify_token(b"", token(), BEFORE), ValueError),
    ],
    ids=["naive-expiry", "empty-secret-issuing", "naive-now", "empty-secret-verifying"],
)
def test_misuse_is_refused(call: Callable[[], object], error: type[Exception]) -> None:
    with pytest.raises(error):
        call()


@pytest.mark.parametrize(
    ("responses", "invitations", "rate"),
    [
        (0, 0, "0.0000"),
        (0, 10, "0.0000"),
        (3, 7, "0.4286"),  # 0.428571… → 0.4286
        (1, 3, "0.3333"),
        (2, 3, "0.6667"),
        (1, 8, "0.1250"),
        (1, 20000, "0.0001"),  # 0.00005 → half up
        (10, 10, "1.0000"),
    ],
    ids=["no-invitations", "no-responses", "three-of-seven", "one-third", "two-thirds", "one-eighth", "half-up", "all"],
)
def test_response_rate(responses: int, invitations: int, rate: str) -> None:
    result = response_rate(responses, invitations)
    assert isinstance(result, Decimal)
    assert str(result) == rate


def test_response_rate_refuses_negative_counts() -> None:
    with pytest.raises(ValueError):
        response_rate(-1, 3)
