"""The console server: dev sign-in only off production, the same-origin proxy, and the built app's files."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import jwt
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from shared.auth import TokenVerifier
from shared.clock import FixedClock
from shared.console import ConsoleSettings, create_console_app
from shared.registry import settings_class

# The services verify expiry against the wall clock, so the fixed clock starts now.
NOW = datetime.now(UTC).replace(microsecond=0)


async def _echo(request: Request) -> JSONResponse:
    body = await request.body()
    return JSONResponse(
        {
            "method": request.method,
            "path": request.url.path,
            "query": str(request.url.query),
            "authorization": request.headers.get("authorization"),
            "if_match": request.headers.get("if-match"),
            "body": body.decode(),
        },
        status_code=201 if request.method == "POST" else 200,
        headers={"ETag": '"7"', "Connection": "close"},
    )


UPSTREAM = Starlette(routes=[Route("/{path:path}", _echo, methods=["GET", "POST", "PUT"])])


def _settings(tmp_path: Path, **overrides: object) -> ConsoleSettings:
    return ConsoleSettings(dist_dir=tmp_path / "dist", **overrides)  # type: ignore[arg-type]


@pytest.fixture
async def console(tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    app = create_console_app(_settings(tmp_path), clock=FixedClock(NOW), transport=httpx.ASGITransport(app=UPSTREAM))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://console") as client:
        yield client


async def test_config_says_dev_sign_in_on_the_embedded_profile(console: httpx.AsyncClient) -> None:
    response = await console.get("/config.json")
    assert response.status_code == 200
    body = response.json()
    assert body["mode"] == "dev" and "oidc" not in body
    assert "collections:write" in body["scopes"]


async def test_dev_token_carries_the_chosen_scopes_and_expires_soon(console: httpx.AsyncClient) -> None:
    response = await console.post("/auth/dev-token", json={"scopes": ["collections:read"], "subject": "li.wei"})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["scope"] == "collections:read" and body["expires_in"] == 3600
    principal = TokenVerifier(settings_class("collections")()).verify(body["access_token"])
    assert principal.subject == "li.wei"
    assert principal.scopes == frozenset({"collections:read"})
    claims = jwt.decode(body["access_token"], options={"verify_signature": False})
    assert claims["exp"] - claims["iat"] == 3600 and claims["iat"] == int(NOW.timestamp())


@pytest.mark.parametrize(
    ("payload", "detail"),
    [
        pytest.param({"scopes": ["root"]}, "unknown scope(s) root", id="unknown-scope"),
        pytest.param({"scopes": []}, "expected", id="no-scope"),
        pytest.param({"scopes": ["admin"], "subject": "a b"}, "expected", id="bad-subject"),
        pytest.param("not json", "expected", id="not-json"),
    ],
)
async def test_bad_dev_token_request_is_a_422_problem(console: httpx.AsyncClient, payload: object, detail: str) -> None:
    content = payload if isinstance(payload, str) else json.dumps(payload)
    response = await console.post("/auth/dev-token", content=content)
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert detail in response.json()["detail"]
    assert "access_token" not in response.json()


async def test_no_dev_token_in_production_or_with_an_identity_provider(tmp_path: Path) -> None:
    production = settings_class("customers")(
        profile="production", jwt_secret="a-real-secret-of-some-length-32-bytes-at-least"
    )
    oidc = _settings(tmp_path, oidc_issuer="https://id.example.com/realms/cf")
    cases = [
        create_console_app(_settings(tmp_path, profile="production"), signer=production),
        create_console_app(_settings(tmp_path), signer=production),
        create_console_app(oidc),
    ]
    for app in cases:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://console") as client:
            response = await client.post("/auth/dev-token", json={"scopes": ["admin"]})
            assert response.status_code == 403
            assert "access_token" not in response.json()
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=cases[2]), base_url="http://c") as client:
        config = (await client.get("/config.json")).json()
    assert config["mode"] == "oidc"
    assert config["oidc"]["authority"] == "https://id.example.com/realms/cf"
    assert config["oidc"]["client_id"] == "creditflow-console"


async def test_proxy_forwards_method_path_query_headers_and_body(console: httpx.AsyncClient) -> None:
    response = await console.put(
        "/api/collections/v1/policies/current?dry=1&x=%C3%A9",
        content=b'{"version": 1}',
        headers={"Authorization": "Bearer t0k", "If-Match": '"1"', "Content-Type": "application/json"},
    )
    assert response.status_code == 200
    assert response.headers["etag"] == '"7"'
    assert "connection" not in response.headers  # hop-by-hop: not passed on
    echoed = response.json()
    assert echoed == {
        "method": "PUT",
        "path": "/v1/policies/current",
        "query": "dry=1&x=%C3%A9",
        "authorization": "Bearer t0k",
        "if_match": '"1"',
        "body": '{"version": 1}',
    }
    created = await console.post("/api/customers/v1/customers", json={"name": "Acme"})
    assert created.status_code == 201 and created.json()["body"] == '{"name":"Acme"}'


async def test_proxy_answers_problems_for_unknown_and_unreachable_services(tmp_path: Path) -> None:
    settings = _settings(tmp_path, upstreams={"credit": "http://127.0.0.1:1"})
    app = create_console_app(settings)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://console") as client:
        unknown = await client.get("/api/billing/v1/x")
        assert unknown.status_code == 404 and unknown.headers["content-type"] == "application/problem+json"
        down = await client.get("/api/credit/readyz")
        assert down.status_code == 502 and "credit did not answer" in down.json()["detail"]


async def test_without_a_build_the_console_says_how_to_build_it(console: httpx.AsyncClient) -> None:
    response = await console.get("/")
    assert response.status_code == 503
    assert "make console" in response.text


async def test_serves_the_app_for_client_routes_and_assets_with_long_cache(tmp_path: Path) -> None:
    dist = tmp_path / "dist"
    (dist / "assets").mkdir(parents=True)
    (dist / "index.html").write_text("<!doctype html><title>console</title>")
    (dist / "assets" / "index-abc.js").write_text("console.log(1)")
    (tmp_path / "secret.txt").write_text("nope")
    app = create_console_app(_settings(tmp_path))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://console") as client:
        for path in ["/", "/cases/123", "/auth/callback?code=x&state=y"]:
            page = await client.get(path)
            assert page.status_code == 200 and "<title>console</title>" in page.text
            assert page.headers["cache-control"] == "no-cache"
        asset = await client.get("/assets/index-abc.js")
        assert asset.text == "console.log(1)"
        assert "immutable" in asset.headers["cache-control"]
        escape = await client.get("/..%2Fsecret.txt")
        assert "nope" not in escape.text
        missing_api = await client.get("/api/")
        assert missing_api.status_code == 404
