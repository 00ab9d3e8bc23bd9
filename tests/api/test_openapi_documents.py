"""The committed API documents (docs/api/) are what the code generates, compatible with the last ones, and
shaped for generated clients: typed problems per operation, one schema per model, required response fields.

After changing an API: `make docs`, review the diff of docs/api/, commit it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from shared.apidiff import check_compatible
from shared.events.asyncapi import asyncapi_document
from shared.problems import PROBLEM_JSON
from shared.registry import SERVICES, app_factory

DOCS = Path(__file__).resolve().parents[2] / "docs" / "api"
PROBES = {"/livez", "/readyz", "/metrics"}
METHODS = {"get", "put", "post", "patch", "delete"}
MAKE_DOCS = "run `make docs` and commit docs/api/"


def _generated(service: str) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(json.dumps(app_factory(service)(configure_logs=False).openapi()))
    return document


def _committed(name: str) -> dict[str, Any]:
    path = DOCS / name
    assert path.exists(), f"{path} is missing: {MAKE_DOCS}"
    document: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return document


def _operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (path, method, operation)
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if method in METHODS
    ]


@pytest.fixture(scope="module", params=SERVICES)
def service_document(request: pytest.FixtureRequest) -> tuple[str, dict[str, Any]]:
    return request.param, _generated(request.param)


def test_committed_openapi_document_is_what_the_code_generates(service_document: tuple[str, Any]) -> None:
    service, generated = service_document
    committed = _committed(f"{service}.openapi.json")
    # A breaking change must come with a new major version; only then may the committed file move on.
    assert check_compatible(committed, generated) == [], "breaking change without a new major info.version"
    assert committed == generated, MAKE_DOCS


def test_committed_asyncapi_document_is_what_the_code_generates() -> None:
    assert _committed("events.asyncapi.json") == json.loads(json.dumps(asyncapi_document())), MAKE_DOCS


def test_documents_are_written_with_sorted_keys() -> None:
    for path in DOCS.glob("*.json"):
        text = path.read_text(encoding="utf-8")
        assert text == json.dumps(json.loads(text), indent=2, ensure_ascii=False, sort_keys=True) + "\n", path.name


def test_every_error_is_a_typed_problem(service_document: tuple[str, Any]) -> None:
    _, document = service_document
    for path, method, operation in _operations(document):
        errors = {status: r for status, r in operation["responses"].items() if status[0] in "45"}
        if path == "/readyz":
            continue
        assert path in PROBES or any(status.startswith("4") for status in errors), (method, path)
        for status, response in errors.items():
            assert list(response["content"]) == [PROBLEM_JSON], (method, path, status)
            assert response["content"][PROBLEM_JSON]["schema"] == {"$ref": "#/components/schemas/Problem"}


def test_reads_do_not_list_write_preconditions(service_document: tuple[str, Any]) -> None:
    _, document = service_document
    for path, method, operation in _operations(document):
        if method == "get":
            assert not {"409", "412", "428"} & operation["responses"].keys(), (method, path)


def test_if_match_is_required_where_its_absence_is_a_428(service_document: tuple[str, Any]) -> None:
    _, document = service_document
    for path, method, operation in _operations(document):
        if_match = [p for p in operation.get("parameters", []) if p["name"] == "If-Match"]
        if "428" in operation["responses"] and if_match and if_match[0]["required"]:
            continue
        assert not if_match or not if_match[0]["required"] or "428" in operation["responses"], (method, path)
        if if_match:
            assert "412" in operation["responses"], (method, path)


def test_authenticated_operations_list_401_and_403_and_public_ones_neither(service_document: tuple[str, Any]) -> None:
    _, document = service_document
    for path, method, operation in _operations(document):
        secured = bool(operation["security"])
        assert ({"401", "403"} <= operation["responses"].keys()) == secured, (method, path)
        assert all(scopes == [] for requirement in operation["security"] for scopes in requirement.values())


def test_one_schema_per_model_and_response_fields_required(service_document: tuple[str, Any]) -> None:
    _, document = service_document
    schemas = document["components"]["schemas"]
    assert not [name for name in schemas if name.endswith(("-Input", "-Output"))]
    problem = schemas["Problem"]
    assert {"type", "title", "status", "detail", "instance", "request_id", "errors"} <= set(problem["required"])
    text = json.dumps(document)
    assert '{"type": "number"}, {"type": "string"}' not in text  # decimals are documented as strings


def test_money_in_responses_has_two_decimals() -> None:
    document = _generated("collections")
    amount = document["components"]["schemas"]["PaymentRead"]["properties"]["amount"]
    assert amount["type"] == "string" and amount["pattern"] == r"^-?\d+\.\d{2}$"


def test_readiness_is_typed() -> None:
    document = _generated("credit")
    responses = document["paths"]["/readyz"]["get"]["responses"]
    for status in ("200", "503"):
        assert responses[status]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Readiness"}
