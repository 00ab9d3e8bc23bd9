"""Browser clients on another origin (CORS), and the `servers` of the OpenAPI documents."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from pydantic import ValidationError

from shared.registry import SERVICES, app_factory, settings_class
from tests.support.databases import DatabaseFactory
from tests.support.harness import ServiceHarness, running_service

APP_ORIGIN = "https://app.creditflow.example"
ACME = {
    "name": "Acme Trading Co.",
    "kind": "commercial",
    "channel_role": "intermediary",
    "lifecycle": "active",
    "tax_id": "91310000MA1K000002",
    "region": "East China",
}


@pytest.fixture
async def customers(databases: DatabaseFactory) -> AsyncIterator[ServiceHarness]:
    database = await databases.create("customers")
    async with running_service(
        "customers", database, cors_allowed_origins=f"{APP_ORIGIN}, http://localhost:5173"
    ) as harness:
        yield harness


def exposed(headers: httpx.Headers) -> set[str]:
    value = headers.get("access-control-expose-headers", "")
    return {item.strip().lower() for item in value.split(",") if item.strip()}


async def test_preflight_from_an_allowed_origin_is_answered_before_auth(customers: ServiceHarness) -> None:
    response = await customers.client.options(
        "/v1/customers/00000000-0000-0000-0000-000000000000",
        headers={
            "Origin": APP_ORIGIN,
            "Access-Control-Request-Method": "PATCH",
            "Access-Control-Request-Headers": "authorization, content-type, if-match",
        },
    )
    assert response.status_code == 200, response.text
    assert response.headers["access-control-allow-origin"] == APP_ORIGIN
    assert "PATCH" in response.headers["access-control-allow-methods"]
    allowed = {item.strip().lower() for item in response.headers["access-control-allow-headers"].split(",")}
    assert {"authorization", "content-type", "if-match"} <= allowed
    assert "access-control-allow-credentials" not in response.headers
    assert int(response.headers["access-control-max-age"]) > 0


async def test_preflight_from_another_origin_is_refused(customers: ServiceHarness) -> None:
    response = await customers.client.options(
        "/v1/customers",
        headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"},
    )
    assert response.status_code == 400
    assert "access-control-allow-origin" not in response.headers


async def test_actual_request_exposes_etag_location_and_request_id(customers: ServiceHarness) -> None:
    response = await customers.client.post(
        "/v1/customers", json=ACME, headers={**customers.auth("customers:write"), "Origin": APP_ORIGIN}
    )
    assert response.status_code == 201, response.text
    assert response.headers["access-control-allow-origin"] == APP_ORIGIN
    assert {"etag", "location", "x-request-id"} <= exposed(response.headers)
    assert response.headers["etag"] and response.headers["location"] and response.headers["x-request-id"]


async def test_a_problem_answer_carries_the_cors_headers_too(customers: ServiceHarness) -> None:
    """A browser can read a 401 problem (and its request id) only if the error response has CORS headers."""
    response = await customers.client.get("/v1/customers", headers={"Origin": APP_ORIGIN})
    assert response.status_code == 401
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.headers["access-control-allow-origin"] == APP_ORIGIN
    assert "x-request-id" in exposed(response.headers)


async def test_an_unlisted_origin_gets_no_cors_headers(customers: ServiceHarness) -> None:
    response = await customers.client.get("/livez", headers={"Origin": "https://evil.example"})
    assert response.status_code == 200
    assert "access-control-allow-origin" not in response.headers


async def test_cors_is_off_without_configured_origins(databases: DatabaseFactory) -> None:
    async with running_service("customers", await databases.create("customers")) as harness:
        preflight = await harness.client.options(
            "/v1/customers", headers={"Origin": APP_ORIGIN, "Access-Control-Request-Method": "POST"}
        )
        assert "access-control-allow-origin" not in preflight.headers
        assert preflight.status_code == 405
        actual = await harness.client.get("/livez", headers={"Origin": APP_ORIGIN})
        assert "access-control-allow-origin" not in actual.headers


@pytest.mark.parametrize(
    "origins",
    ["https://app.example/", "app.example", "https://app.example/path", "ftp://app.example"],
)
def test_an_origin_that_is_not_an_origin_is_refused(origins: str) -> None:
    with pytest.raises(ValidationError, match="cors_allowed_origins"):
        settings_class("credit")(cors_allowed_origins=origins)


@pytest.mark.parametrize("service", SERVICES)
def test_openapi_servers_default_to_the_relative_root(service: str) -> None:
    document = app_factory(service)(settings_class(service)(), configure_logs=False).openapi()
    assert document["servers"] == [{"url": "/", "description": document["info"]["title"]}]


@pytest.mark.parametrize(
    ("configured", "expected"),
    [("https://credit.creditflow.example/", "https://credit.creditflow.example"), ("/credit", "/credit")],
)
def test_openapi_servers_follow_the_public_base_url(configured: str, expected: str) -> None:
    settings = settings_class("credit")(public_base_url=configured)
    document = app_factory("credit")(settings, configure_logs=False).openapi()
    assert [server["url"] for server in document["servers"]] == [expected]


def test_a_public_base_url_that_is_no_url_is_refused() -> None:
    with pytest.raises(ValidationError, match="public_base_url"):
        settings_class("credit")(public_base_url="credit.creditflow.example")
