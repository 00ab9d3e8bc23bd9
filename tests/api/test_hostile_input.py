"""Hostile input from outside gets a clear 4xx problem and writes nothing; a crash keeps its request id.

Each case was a 500 (or a silent acceptance) found by fuzzing the running suite.
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import jwt
import pytest

from shared.context import request_id_var
from tests.support.databases import DatabaseFactory
from tests.support.harness import ServiceHarness, running_service

ACME = {"name": "Acme Trading Co.", "kind": "commercial", "lifecycle": "active", "tax_id": "91310000MA1K000001"}


@pytest.fixture
async def customers(databases: DatabaseFactory) -> AsyncIterator[ServiceHarness]:
    async with running_service("customers", await databases.create("customers")) as harness:
        yield harness


@pytest.fixture
async def credit(databases: DatabaseFactory) -> AsyncIterator[ServiceHarness]:
    async with running_service("credit", await databases.create("credit")) as harness:
        yield harness


def with_nested_contacts(depth: int, leaf: str) -> str:
    """The customer body with ``contacts`` nested ``depth`` arrays deep (written out: json.dumps recurses)."""
    contacts = "[" * depth + json.dumps(leaf) + "]" * depth
    return json.dumps(ACME)[:-1] + ', "contacts": ' + contacts + "}"


@pytest.mark.parametrize(
    ("depth", "leaf"),
    [
        pytest.param(2000, "\u0000", id="2000-deep-with-nul"),
        pytest.param(2000, "x", id="2000-deep"),
        pytest.param(65, "x", id="just-over-the-cap"),
    ],
)
async def test_json_nested_too_deep_is_400(customers: ServiceHarness, depth: int, leaf: str) -> None:
    body = with_nested_contacts(depth, leaf)
    headers = {**customers.auth("customers:write"), "Content-Type": "application/json"}
    response = await customers.client.post("/v1/customers", content=body, headers=headers)
    assert response.status_code == 400, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert "nested deeper than 64" in response.json()["detail"]
    assert await customers.count("customers") == 0


async def test_json_nested_within_the_cap_is_judged_on_its_content(customers: ServiceHarness) -> None:
    body = with_nested_contacts(60, "x")
    response = await customers.client.post(
        "/v1/customers", content=body, headers={**customers.auth("customers:write"), "Content-Type": "application/json"}
    )
    assert response.status_code == 422  # a well-formed body of the wrong shape, not a 400
    assert await customers.count("customers") == 0


def _forged_scope(h: ServiceHarness, scope: object) -> str:
    now = datetime.now(UTC)
    claims = {
        "sub": "tester",
        "iss": h.settings.jwt_issuer,
        "aud": h.settings.expected_audience,
        "scope": scope,
        "iat": int(now.timestamp()),
        "exp": int((now + timedelta(hours=1)).timestamp()),
    }
    return jwt.encode(claims, h.settings.jwt_secret.get_secret_value(), algorithm="HS256")


@pytest.mark.parametrize("scope", [7, None, 1.5, {"customers:write": True}, ["customers:write", 3], True])
async def test_token_whose_scope_is_not_text_is_401(customers: ServiceHarness, scope: object) -> None:
    token = _forged_scope(customers, scope)
    response = await customers.client.post("/v1/customers", json=ACME, headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401, response.text
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert await customers.count("customers") == 0


@pytest.mark.parametrize(
    ("issue_date", "payment_date"),
    [
        ("9999-12-31", "9999-12-31"),
        ("9999-12-15", "2026-03-01"),
        ("0001-01-01", "0001-01-02"),
        ("1899-12-31", "1900-01-05"),
    ],
)
async def test_terms_quote_outside_the_business_date_range_is_422(
    credit: ServiceHarness, issue_date: str, payment_date: str
) -> None:
    body = {"terms": "2/10, n/30", "amount": "1000.00", "issue_date": issue_date, "payment_date": payment_date}
    response = await credit.client.post("/v1/terms/quote", json=body, headers=credit.auth("credit:read"))
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"


async def test_terms_quote_at_the_edges_of_the_range_is_answered(credit: ServiceHarness) -> None:
    body = {"terms": "2/10, n/30", "amount": "1000.00", "issue_date": "2199-11-01", "payment_date": "2199-12-31"}
    response = await credit.client.post("/v1/terms/quote", json=body, headers=credit.auth("credit:read"))
    assert response.status_code == 200, response.text


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("name", "Acme\u200bTrading"),  # zero-width space
        ("name", "Acme\u202eTrading"),  # right-to-left override
        ("name", "Acme\tTrading"),
        ("name", "Acme\u0085Trading"),  # next line (C1 control)
    ],
)
async def test_names_with_control_or_format_characters_are_422(
    customers: ServiceHarness, field: str, value: str
) -> None:
    response = await customers.client.post(
        "/v1/customers", json={**ACME, field: value}, headers=customers.auth("customers:write")
    )
    assert response.status_code == 422, response.text
    assert "control or format" in response.text
    assert await customers.count("customers") == 0


async def test_names_in_any_script_with_spaces_are_accepted(customers: ServiceHarness) -> None:
    response = await customers.client.post(
        "/v1/customers", json={**ACME, "name": "Ünïcødé 商贸 Co.\u00a0Ltd"}, headers=customers.auth("customers:write")
    )
    assert response.status_code == 201, response.text


@pytest.mark.parametrize("amount", ["１００", "١٠٠", "100\u0660", "1e3\u00b2"])
async def test_amounts_in_non_ascii_digits_are_422(credit: ServiceHarness, amount: str) -> None:
    body = {"terms": "2/10, n/30", "amount": amount, "issue_date": "2026-03-01", "payment_date": "2026-03-05"}
    response = await credit.client.post("/v1/terms/quote", json=body, headers=credit.auth("credit:read"))
    assert response.status_code == 422, response.text
    assert "ASCII digits" in response.text


async def test_an_unhandled_error_answers_a_problem_with_the_request_id_in_body_header_and_log(
    customers: ServiceHarness, caplog: pytest.LogCaptureFixture
) -> None:
    async def explode() -> None:
        raise RuntimeError("a bug")

    customers.app.add_api_route("/v1/explode", explode)
    seen_ids: list[str | None] = []

    class RequestIdOfRecords(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            if record.getMessage() == "unhandled error":
                seen_ids.append(request_id_var.get())

    handler = RequestIdOfRecords()
    logging.getLogger().addHandler(handler)
    try:
        response = await customers.client.get("/v1/explode", headers={"X-Request-Id": "req-crash-1"})
    finally:
        logging.getLogger().removeHandler(handler)
    assert response.status_code == 500
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["x-request-id"] == "req-crash-1"
    assert response.json()["request_id"] == "req-crash-1"
    assert "a bug" not in response.text  # nothing of the internals leaks
    assert seen_ids == ["req-crash-1"]
