"""Limits at the edge: body size, slow bodies, auth before parsing, per-caller rate, safety headers, docs."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest

from tests.support.databases import DatabaseFactory
from tests.support.harness import ServiceHarness, running_service

ACME = {"name": "Acme Trading Co.", "kind": "commercial", "lifecycle": "active", "tax_id": "91310000MA1K000001"}


@pytest.fixture
async def customers(databases: DatabaseFactory) -> AsyncIterator[ServiceHarness]:
    async with running_service(
        "customers", await databases.create("customers"), http_max_body_bytes=4096, http_body_timeout_seconds=0.5
    ) as harness:
        yield harness


def _padded(size: int) -> bytes:
    """A valid customer body of about ``size`` bytes."""
    return json.dumps({**ACME, "industry": "x" * size}).encode()


async def test_a_body_declared_too_large_is_413_before_it_is_read(customers: ServiceHarness) -> None:
    response = await customers.client.post(
        "/v1/customers",
        content=_padded(10_000),
        headers={**customers.auth("customers:write"), "Content-Type": "application/json"},
    )
    assert response.status_code == 413, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert "4096 bytes" in response.json()["detail"]
    assert await customers.count("customers") == 0


async def test_a_streamed_body_without_length_is_cut_off_at_the_limit(customers: ServiceHarness) -> None:
    sent: list[int] = []

    async def chunks() -> AsyncIterator[bytes]:
        body = _padded(50_000)
        for start in range(0, len(body), 1024):
            sent.append(start)
            yield body[start : start + 1024]

    response = await customers.client.post(
        "/v1/customers",
        content=chunks(),
        headers={**customers.auth("customers:write"), "Content-Type": "application/json"},
    )
    assert response.status_code == 413
    assert len(sent) <= 6  # stopped reading just past 4 KiB, not after 50 KiB
    assert await customers.count("customers") == 0


async def test_a_body_within_the_limit_is_served(customers: ServiceHarness) -> None:
    response = await customers.client.post(
        "/v1/customers",
        content=_padded(100),
        headers={**customers.auth("customers:write"), "Content-Type": "application/json"},
    )
    assert response.status_code == 201, response.text


async def test_a_body_that_trickles_in_too_slowly_is_408(customers: ServiceHarness) -> None:
    async def slow() -> AsyncIterator[bytes]:
        yield b'{"name": '
        await asyncio.sleep(3)
        yield b'"Acme"}'

    response = await customers.client.post(
        "/v1/customers",
        content=slow(),
        headers={**customers.auth("customers:write"), "Content-Type": "application/json"},
    )
    assert response.status_code == 408
    assert await customers.count("customers") == 0


@pytest.mark.parametrize(
    "headers",
    [
        pytest.param({}, id="no-token"),
        pytest.param({"Authorization": "Bearer forged.token.here"}, id="bad-token"),
        pytest.param({"Authorization": "Basic dXNlcjpwYXNz"}, id="wrong-scheme"),
    ],
)
async def test_without_a_valid_token_the_body_is_never_parsed(
    customers: ServiceHarness, headers: dict[str, str]
) -> None:
    # Malformed, oversized-depth or valid: the answer is the same 401, the body is not looked at.
    for body in (b"{not json", b"[" * 5000, json.dumps(ACME).encode()):
        response = await customers.client.post(
            "/v1/customers", content=body, headers={**headers, "Content-Type": "application/json"}
        )
        assert response.status_code == 401, response.text
        assert response.headers["www-authenticate"].startswith("Bearer")


async def test_a_public_route_parses_without_a_token(databases: DatabaseFactory) -> None:
    async with running_service("survey", await databases.create("survey")) as survey:
        response = await survey.client.post(
            "/v1/responses", content=b"{not json", headers={"Content-Type": "application/json"}
        )
    assert response.status_code == 400, response.text


async def test_each_caller_gets_its_own_rate_and_then_429_with_retry_after(databases: DatabaseFactory) -> None:
    async with running_service("customers", await databases.create("customers"), http_rate_limit="3/minute") as h:
        alice = {"Authorization": f"Bearer {h.token('customers:read', subject='alice')}"}
        bob = {"Authorization": f"Bearer {h.token('customers:read', subject='bob')}"}
        statuses = [(await h.client.get("/v1/customers", headers=alice)).status_code for _ in range(3)]
        assert statuses == [200, 200, 200]
        refused = await h.client.get("/v1/customers", headers=alice)
        assert refused.status_code == 429
        assert refused.headers["content-type"] == "application/problem+json"
        assert 1 <= int(refused.headers["retry-after"]) <= 60
        assert (await h.client.get("/v1/customers", headers=bob)).status_code == 200
        assert (await h.client.get("/readyz")).status_code in (200, 503)  # probes are never limited


async def test_api_responses_are_not_sniffed_nor_cached(customers: ServiceHarness) -> None:
    response = await customers.client.get("/v1/customers", headers=customers.auth("customers:read"))
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["cache-control"] == "no-store"
    problem = await customers.client.get("/v1/customers")
    assert problem.headers["x-content-type-options"] == "nosniff"
    assert problem.headers["cache-control"] == "no-store"


async def test_docs_are_served_without_a_cdn_under_a_content_security_policy(customers: ServiceHarness) -> None:
    page = await customers.client.get("/docs")
    assert page.status_code == 200
    csp = page.headers["content-security-policy"]
    assert "script-src 'self' 'nonce-" in csp and "default-src 'self'" in csp
    assert "cdn" not in page.text.lower() and "https://" not in page.text
    nonce = csp.split("'nonce-")[1].split("'")[0]
    assert f'<script nonce="{nonce}">' in page.text
    for asset in ("swagger-ui-bundle.js", "swagger-ui.css"):
        assert f"/docs-assets/{asset}" in page.text
        served = await customers.client.get(f"/docs-assets/{asset}")
        assert served.status_code == 200 and len(served.content) > 10_000
    redoc = await customers.client.get("/redoc")
    assert redoc.status_code == 200 and "https://" not in redoc.text


async def test_metrics_can_be_put_behind_a_scope(databases: DatabaseFactory) -> None:
    async with running_service("customers", await databases.create("customers"), metrics_scope="admin") as h:
        assert (await h.client.get("/metrics")).status_code == 401
        assert (await h.client.get("/metrics", headers=h.auth("customers:read"))).status_code == 403
        scraped = await h.client.get("/metrics", headers=h.auth("admin"))
        assert scraped.status_code == 200 and "creditflow_http_requests_total" in scraped.text


async def test_metrics_are_open_by_default(customers: ServiceHarness) -> None:
    assert (await customers.client.get("/metrics")).status_code == 200


def test_serve_passes_the_server_limits_to_uvicorn(monkeypatch: pytest.MonkeyPatch) -> None:
    import uvicorn
    from typer.testing import CliRunner

    from shared.cli import app as cli

    seen: dict[str, Any] = {}
    monkeypatch.setattr(uvicorn, "run", lambda application, **options: seen.update(options))
    monkeypatch.setenv("CREDITFLOW_CUSTOMERS_HTTP_LIMIT_CONCURRENCY", "64")
    monkeypatch.setenv("CREDITFLOW_CUSTOMERS_HTTP_MAX_HEADER_BYTES", "8192")
    result = CliRunner().invoke(cli, ["serve", "customers"])
    assert result.exit_code == 0, result.output
    assert seen["limit_concurrency"] == 64
    assert seen["h11_max_incomplete_event_size"] == 8192
    assert seen["timeout_keep_alive"] == 5


def test_serve_freezes_the_objects_of_start_up_before_serving(monkeypatch: pytest.MonkeyPatch) -> None:
    """A full collection need not walk the modules and the app again (it paused every request for a while)."""
    import gc

    import uvicorn
    from typer.testing import CliRunner

    from shared.cli import app as cli

    calls: list[str] = []
    monkeypatch.setattr(gc, "freeze", lambda: calls.append("freeze"))
    monkeypatch.setattr(uvicorn, "run", lambda application, **options: calls.append("run"))
    result = CliRunner().invoke(cli, ["serve", "customers"])
    assert result.exit_code == 0, result.output
    assert calls == ["freeze", "run"]
