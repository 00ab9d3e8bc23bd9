"""Tokens for production: audience per service, bounded lifetime, strong HS256 keys rotated by kid, JWKS over
https only; Idempotency-Keys belong to their caller and expire."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
import pytest
from pydantic import ValidationError

from services.customers.settings import CustomersSettings
from shared.auth import mint_token
from shared.clock import FixedClock
from tests.support.databases import DatabaseFactory
from tests.support.harness import ServiceHarness, running_service

ACME = {"name": "Acme Trading Co.", "kind": "commercial", "lifecycle": "active", "tax_id": "91310000MA1K000001"}
OLD_KEY = "old-key-0123456789abcdef0123456789abcdef"
NEW_KEY = "new-key-0123456789abcdef0123456789abcdef"


@pytest.fixture
async def customers(databases: DatabaseFactory) -> AsyncIterator[ServiceHarness]:
    async with running_service(
        "customers",
        await databases.create("customers"),
        jwt_keys={"2026-10": OLD_KEY, "2026-11": NEW_KEY},
        jwt_signing_kid="2026-11",
        jwt_max_lifetime_seconds=3600,
    ) as harness:
        yield harness


def _token(key: str, *, kid: str | None = None, drop: tuple[str, ...] = (), **claims: Any) -> str:
    now = int(datetime.now(UTC).timestamp())
    body: dict[str, Any] = {
        "sub": "tester",
        "iss": "creditflow",
        "aud": "creditflow-customers",
        "scope": "customers:read",
        "iat": now,
        "exp": now + 600,
        **claims,
    }
    for name in drop:
        body.pop(name)
    return jwt.encode(body, key, algorithm="HS256", headers={"kid": kid} if kid else None)


async def _status(h: ServiceHarness, token: str) -> int:
    return (await h.client.get("/v1/customers", headers={"Authorization": f"Bearer {token}"})).status_code


async def test_the_suite_token_of_the_harness_is_accepted(customers: ServiceHarness) -> None:
    assert await _status(customers, customers.token("customers:read")) == 200


@pytest.mark.parametrize(
    ("kid", "key", "overrides", "drop", "status"),
    [
        pytest.param("2026-11", NEW_KEY, {}, (), 200, id="current-key"),
        pytest.param("2026-10", OLD_KEY, {}, (), 200, id="previous-key-still-verifies"),
        pytest.param("2026-09", OLD_KEY, {}, (), 401, id="unknown-kid"),
        pytest.param("2026-10", NEW_KEY, {}, (), 401, id="kid-of-another-key"),
        pytest.param(None, OLD_KEY, {}, (), 401, id="no-kid-means-the-secret"),
        pytest.param("2026-11", NEW_KEY, {}, ("aud",), 401, id="no-audience"),
        pytest.param("2026-11", NEW_KEY, {"aud": "creditflow-credit"}, (), 401, id="another-service"),
        pytest.param(
            "2026-11", NEW_KEY, {"aud": ["creditflow-credit", "creditflow-customers"]}, (), 200, id="aud-list"
        ),
        pytest.param("2026-11", NEW_KEY, {}, ("iat",), 401, id="no-iat"),
        pytest.param("2026-11", NEW_KEY, {"exp": int(datetime.now(UTC).timestamp()) + 7200}, (), 401, id="too-long"),
    ],
)
async def test_tokens_are_checked_for_key_audience_and_lifetime(
    customers: ServiceHarness, kid: str | None, key: str, overrides: dict[str, Any], drop: tuple[str, ...], status: int
) -> None:
    assert await _status(customers, _token(key, kid=kid, drop=drop, **overrides)) == status


async def test_the_built_in_secret_still_verifies_tokens_without_kid(databases: DatabaseFactory) -> None:
    async with running_service("customers", await databases.create("customers")) as h:
        assert await _status(h, _token(h.settings.jwt_secret.get_secret_value())) == 200


def test_local_tokens_are_signed_with_the_signing_kid() -> None:
    settings = CustomersSettings(jwt_keys={"k1": NEW_KEY}, jwt_signing_kid="k1")
    token = mint_token(settings, ["admin"], now=datetime.now(UTC), ttl=timedelta(hours=1))
    assert jwt.get_unverified_header(token)["kid"] == "k1"
    claims = jwt.decode(token, NEW_KEY, algorithms=["HS256"], audience="creditflow-credit")
    assert "creditflow-customers" in claims["aud"] and "creditflow-survey" in claims["aud"]


@pytest.mark.parametrize(
    "settings",
    [
        pytest.param({"jwt_secret": "short-secret"}, id="short-secret"),
        pytest.param({"jwt_keys": {"k1": "short"}}, id="short-key"),
        pytest.param({"jwt_keys": {"k1": NEW_KEY}, "jwt_signing_kid": "k2"}, id="signing-kid-unknown"),
        pytest.param({"jwt_jwks_url": "http://idp.example/jwks.json"}, id="jwks-over-http"),
    ],
)
def test_weak_or_insecure_key_settings_are_refused(settings: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        CustomersSettings(**settings)


def test_jwks_over_https_is_accepted() -> None:
    assert CustomersSettings(jwt_jwks_url="https://idp.example/jwks.json").jwt_jwks_url


def test_minting_beyond_the_maximum_lifetime_is_refused() -> None:
    from typer.testing import CliRunner

    from shared.cli import app as cli

    with pytest.raises(ValueError, match="at most 3600"):
        mint_token(
            CustomersSettings(jwt_max_lifetime_seconds=3600), ["admin"], now=datetime.now(UTC), ttl=timedelta(hours=2)
        )
    refused = CliRunner().invoke(cli, ["token", "--scope", "admin", "--ttl-hours", "48"])
    assert refused.exit_code != 0
    assert "at most 86400" in refused.output
    accepted = CliRunner().invoke(cli, ["token", "--scope", "admin", "--ttl-hours", "24"])
    assert accepted.exit_code == 0, accepted.output


async def test_an_idempotency_key_belongs_to_its_caller(databases: DatabaseFactory) -> None:
    async with running_service("customers", await databases.create("customers")) as h:
        alice = {"Authorization": f"Bearer {h.token('customers:write', subject='alice')}", "Idempotency-Key": "k-1"}
        bob = {"Authorization": f"Bearer {h.token('customers:write', subject='bob')}", "Idempotency-Key": "k-1"}
        first = await h.client.post("/v1/customers", json=ACME, headers=alice)
        assert first.status_code == 201
        replay = await h.client.post("/v1/customers", json=ACME, headers=alice)
        assert replay.headers.get("idempotent-replayed") == "true"
        assert replay.json()["id"] == first.json()["id"]
        # Bob's request with the same key and body is his own: not a replay of Alice's customer.
        other = await h.client.post("/v1/customers", json=ACME, headers=bob)
        assert other.status_code == 409  # the tax id is taken: it was really attempted
        assert "idempotent-replayed" not in other.headers


async def test_an_idempotency_key_expires(databases: DatabaseFactory) -> None:
    clock = FixedClock(datetime(2026, 3, 1, 9, 0, tzinfo=UTC))
    async with running_service("customers", await databases.create("customers"), clock=clock) as h:
        headers = {**h.auth("customers:write"), "Idempotency-Key": "k-2"}
        first = await h.client.post("/v1/customers", json=ACME, headers=headers)
        assert first.status_code == 201
        clock.set(datetime(2026, 3, 2, 8, 0, tzinfo=UTC))  # 23 h later: still remembered
        assert (await h.client.post("/v1/customers", json=ACME, headers=headers)).headers["idempotent-replayed"]
        clock.set(datetime(2026, 3, 2, 10, 0, tzinfo=UTC))  # 25 h later: a new request
        again = await h.client.post("/v1/customers", json=ACME, headers=headers)
        assert again.status_code == 409 and "idempotent-replayed" not in again.headers
