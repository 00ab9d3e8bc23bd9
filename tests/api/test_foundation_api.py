"""The API conventions of product.md section 2, shown on the customers registry: bad input gets the
right 4xx as problem+json and writes nothing; retries and concurrent edits are safe."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.support.databases import DatabaseFactory
from tests.support.harness import ServiceHarness, new_id, running_service

ACME = {
    "name": "Acme Trading Co.",
    "kind": "commercial",
    "channel_role": "intermediary",
    "lifecycle": "active",
    "tax_id": "91310000MA1K000001",
    "region": "East China",
}


@pytest.fixture
async def customers(databases: DatabaseFactory) -> AsyncIterator[ServiceHarness]:
    async with running_service("customers", await databases.create("customers")) as harness:
        yield harness


async def _create(h: ServiceHarness, body: dict[str, object] | None = None, **headers: str) -> dict[str, object]:
    response = await h.client.post("/v1/customers", json=body or ACME, headers={**h.auth("customers:write"), **headers})
    assert response.status_code == 201, response.text
    return response.json()


async def test_create_then_read_with_etag_location_and_event(customers: ServiceHarness) -> None:
    response = await customers.client.post("/v1/customers", json=ACME, headers=customers.auth("customers:write"))
    assert response.status_code == 201
    body = response.json()
    assert response.headers["location"] == f"/v1/customers/{body['id']}"
    assert response.headers["etag"] == '"1"'
    got = await customers.client.get(f"/v1/customers/{body['id']}", headers=customers.auth("customers:read"))
    assert got.status_code == 200 and got.json()["name"] == "Acme Trading Co."
    assert got.headers["etag"] == '"1"'
    assert got.headers["x-request-id"]
    assert await customers.outbox_types() == ["creditflow.customers.customer_registered.v1"]


BAD_BODIES = [
    pytest.param({**ACME, "kind": "alien"}, "body.kind", id="unknown-enum"),
    pytest.param({**ACME, "name": 42}, "body.name", id="wrong-type"),
    pytest.param({**ACME, "nickname": "acme"}, "body.nickname", id="unknown-field"),
    pytest.param({k: v for k, v in ACME.items() if k != "name"}, "body.name", id="missing-field"),
    pytest.param({**ACME, "name": ""}, "body.name", id="empty-name"),
]


@pytest.mark.parametrize(("body", "field"), BAD_BODIES)
async def test_invalid_body_is_422_problem_and_writes_nothing(
    customers: ServiceHarness, body: dict[str, object], field: str
) -> None:
    response = await customers.client.post("/v1/customers", json=body, headers=customers.auth("customers:write"))
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["status"] == 422 and problem["type"].endswith("/validation-error")
    assert field in [error["field"] for error in problem["errors"]]
    assert await customers.count("customers") == 0
    assert await customers.outbox_count() == 0


async def test_malformed_json_is_400(customers: ServiceHarness) -> None:
    response = await customers.client.post(
        "/v1/customers",
        content=b'{"name": "Acme", ',
        headers={**customers.auth("customers:write"), "content-type": "application/json"},
    )
    assert response.status_code == 400
    assert response.json()["type"].endswith("/malformed-json")
    assert await customers.count("customers") == 0


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        pytest.param({}, 401, id="no-token"),
        pytest.param({"Authorization": "Bearer not-a-jwt"}, 401, id="garbage-token"),
        pytest.param({"Authorization": "Basic dXNlcjpwYXNz"}, 401, id="wrong-scheme"),
    ],
)
async def test_missing_or_invalid_token_is_401(customers: ServiceHarness, headers: dict[str, str], status: int) -> None:
    response = await customers.client.post("/v1/customers", json=ACME, headers=headers)
    assert response.status_code == status
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert await customers.count("customers") == 0


async def test_token_signed_with_another_secret_is_401(customers: ServiceHarness) -> None:
    from datetime import UTC, datetime

    from services.customers.settings import CustomersSettings
    from shared.auth import mint_token

    other = CustomersSettings(jwt_secret="someone-else-with-a-secret-of-their-own")
    forged = mint_token(other, ["customers:write"], now=datetime.now(UTC))
    response = await customers.client.post("/v1/customers", json=ACME, headers={"Authorization": f"Bearer {forged}"})
    assert response.status_code == 401


async def test_wrong_scope_is_403(customers: ServiceHarness) -> None:
    response = await customers.client.post("/v1/customers", json=ACME, headers=customers.auth("customers:read"))
    assert response.status_code == 403
    assert response.json()["type"].endswith("/forbidden")
    assert await customers.count("customers") == 0


async def test_admin_scope_implies_every_scope(customers: ServiceHarness) -> None:
    response = await customers.client.post("/v1/customers", json=ACME, headers=customers.auth("admin"))
    assert response.status_code == 201


async def test_same_idempotency_key_and_body_returns_first_response_once(customers: ServiceHarness) -> None:
    first = await _create(customers, ACME, **{"Idempotency-Key": "k-1"})
    again = await customers.client.post(
        "/v1/customers", json=ACME, headers={**customers.auth("customers:write"), "Idempotency-Key": "k-1"}
    )
    assert again.status_code == 201
    assert again.json() == first
    assert again.headers["idempotent-replayed"] == "true"
    assert await customers.count("customers") == 1
    assert await customers.outbox_count() == 1


async def test_reused_idempotency_key_with_another_body_is_422(customers: ServiceHarness) -> None:
    await _create(customers, ACME, **{"Idempotency-Key": "k-2"})
    other = {**ACME, "tax_id": "91310000MA1K000002", "name": "Other"}
    response = await customers.client.post(
        "/v1/customers", json=other, headers={**customers.auth("customers:write"), "Idempotency-Key": "k-2"}
    )
    assert response.status_code == 422
    assert response.json()["type"].endswith("/idempotency-key-reused")
    assert await customers.count("customers") == 1


async def test_duplicate_tax_id_is_409_and_writes_nothing(customers: ServiceHarness) -> None:
    await _create(customers)
    response = await customers.client.post(
        "/v1/customers", json={**ACME, "name": "Copy"}, headers=customers.auth("customers:write")
    )
    assert response.status_code == 409
    assert await customers.count("customers") == 1
    assert await customers.outbox_count() == 1


async def test_patch_needs_current_if_match(customers: ServiceHarness) -> None:
    created = await _create(customers)
    url = f"/v1/customers/{created['id']}"
    write = customers.auth("customers:write")
    missing = await customers.client.patch(url, json={"region": "North China"}, headers=write)
    assert missing.status_code == 428
    ok = await customers.client.patch(url, json={"region": "North China"}, headers={**write, "If-Match": '"1"'})
    assert ok.status_code == 200 and ok.json()["version"] == 2 and ok.headers["etag"] == '"2"'
    stale = await customers.client.patch(url, json={"region": "South China"}, headers={**write, "If-Match": '"1"'})
    assert stale.status_code == 412
    assert stale.headers["content-type"] == "application/problem+json"
    current = await customers.client.get(url, headers=customers.auth("customers:read"))
    assert current.json()["region"] == "North China"
    assert await customers.outbox_types() == [
        "creditflow.customers.customer_registered.v1",
        "creditflow.customers.customer_updated.v1",
    ]


async def test_unknown_customer_and_unknown_route_are_404_problems(customers: ServiceHarness) -> None:
    missing = await customers.client.get(f"/v1/customers/{new_id()}", headers=customers.auth("customers:read"))
    assert missing.status_code == 404 and missing.json()["type"].endswith("/not-found")
    nowhere = await customers.client.get("/v1/nowhere")
    assert nowhere.status_code == 404
    assert nowhere.headers["content-type"] == "application/problem+json"
    bad_id = await customers.client.get("/v1/customers/not-a-uuid", headers=customers.auth("customers:read"))
    assert bad_id.status_code == 422


async def test_cursor_pages_walk_every_customer_once(customers: ServiceHarness) -> None:
    ids = set()
    for number in range(5):
        created = await _create(customers, {**ACME, "tax_id": f"TAX-{number}", "name": f"C{number}"})
        ids.add(created["id"])
    seen: list[str] = []
    cursor = None
    while True:
        params: dict[str, str | int] = {"limit": 2}
        if cursor:
            params["cursor"] = cursor
        page = (
            await customers.client.get("/v1/customers", params=params, headers=customers.auth("customers:read"))
        ).json()
        seen += [item["id"] for item in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert sorted(seen) == sorted(ids) and len(seen) == 5
    garbage = await customers.client.get(
        "/v1/customers", params={"cursor": "@@@"}, headers=customers.auth("customers:read")
    )
    assert garbage.status_code == 400


async def test_health_and_metrics(customers: ServiceHarness) -> None:
    assert (await customers.client.get("/livez")).json() == {"status": "ok"}
    ready = await customers.client.get("/readyz")
    assert ready.status_code == 503  # no broker in this test: readiness must say so
    assert ready.json()["checks"] == {"database": "ok", "broker": "down"}
    await customers.client.get("/livez")
    metrics = await customers.client.get("/metrics")
    assert "creditflow_http_requests_total" in metrics.text


async def test_concurrent_creates_with_one_tax_id_write_one_customer(customers: ServiceHarness) -> None:
    import asyncio

    responses = await asyncio.gather(
        *[
            customers.client.post(
                "/v1/customers", json={**ACME, "name": f"Racer {n}"}, headers=customers.auth("customers:write")
            )
            for n in range(4)
        ]
    )
    assert sorted(r.status_code for r in responses) == [201, 409, 409, 409]
    assert all(r.headers["content-type"] == "application/problem+json" for r in responses if r.status_code == 409)
    assert await customers.count("customers") == 1
    assert await customers.outbox_count() == 1


async def test_concurrent_patches_on_one_version_apply_once(customers: ServiceHarness) -> None:
    import asyncio

    created = await _create(customers)
    url = f"/v1/customers/{created['id']}"
    headers = {**customers.auth("customers:write"), "If-Match": '"1"'}
    responses = await asyncio.gather(
        *[customers.client.patch(url, json={"region": f"Region {n}"}, headers=headers) for n in range(3)]
    )
    assert sorted(r.status_code for r in responses) == [200, 412, 412]
    current = (await customers.client.get(url, headers=customers.auth("customers:read"))).json()
    assert current["version"] == 2
    assert await customers.outbox_count() == 2  # registered + exactly one update


@pytest.mark.parametrize(
    ("method", "url", "body"),
    [
        pytest.param("post", "/v1/customers", {**ACME, "name": "Acme\u0000"}, id="nul-in-body"),
        pytest.param("post", "/v1/customers", {**ACME, "contacts": [{"name": "x\u0000"}]}, id="nul-nested"),
        pytest.param("get", "/v1/customers?region=East%00", None, id="nul-in-query"),
    ],
)
async def test_nul_characters_are_refused_on_every_database(
    customers: ServiceHarness, method: str, url: str, body: dict[str, object] | None
) -> None:
    kwargs = {"json": body} if body is not None else {}
    response = await customers.client.request(method, url, headers=customers.auth("admin"), **kwargs)
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert await customers.count("customers") == 0
