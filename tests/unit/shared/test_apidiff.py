"""The breaking-change check between two OpenAPI documents: what breaks a client, what does not."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest

from shared.apidiff import breaking_changes, check_compatible

BASE: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {"title": "t", "version": "1.4.0"},
    "paths": {
        "/v1/things/{thing_id}": {
            "get": {
                "parameters": [
                    {"name": "thing_id", "in": "path", "required": True, "schema": {"type": "string"}},
                    {"name": "view", "in": "query", "required": False, "schema": {"$ref": "#/components/schemas/View"}},
                ],
                "responses": {
                    "200": {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/ThingRead"}}}}
                },
            },
            "delete": {"responses": {"204": {"description": "gone"}}},
        },
        "/v1/things": {
            "post": {
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ThingCreate"}}},
                },
                "responses": {
                    "201": {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/ThingRead"}}}}
                },
            }
        },
    },
    "components": {
        "schemas": {
            "View": {"type": "string", "enum": ["short", "full"]},
            "ThingCreate": {
                "type": "object",
                "required": ["name"],
                "properties": {
                    "name": {"type": "string"},
                    "note": {"type": "string"},
                    "view": {"$ref": "#/components/schemas/View"},
                },
            },
            "ThingRead": {
                "type": "object",
                "required": ["id", "name", "amount"],
                "properties": {
                    "id": {"type": "string"},
                    "name": {"type": "string"},
                    "amount": {"type": "string", "pattern": r"^-?\d+\.\d{2}$"},
                    "tags": {"type": "array", "items": {"$ref": "#/components/schemas/Tag"}},
                },
            },
            "Tag": {"type": "object", "required": ["label"], "properties": {"label": {"type": "string"}}},
        }
    },
}

Change = Callable[[dict[str, Any]], None]


def _schemas(document: dict[str, Any]) -> dict[str, Any]:
    schemas: dict[str, Any] = document["components"]["schemas"]
    return schemas


BREAKING: list[tuple[str, Change, str]] = [
    ("path removed", lambda d: d["paths"].pop("/v1/things"), "path removed"),
    ("operation removed", lambda d: d["paths"]["/v1/things/{thing_id}"].pop("delete"), "operation removed"),
    ("response field removed", lambda d: _schemas(d)["ThingRead"]["properties"].pop("amount"), "field removed"),
    ("response field optional", lambda d: _schemas(d)["ThingRead"]["required"].remove("amount"), "no longer required"),
    (
        "nested response field removed",
        lambda d: _schemas(d)["Tag"]["properties"].pop("label"),
        "tags[].label: response field removed",
    ),
    ("new required request field", lambda d: _schemas(d)["ThingCreate"]["required"].append("note"), "new required"),
    (
        "new required parameter",
        lambda d: d["paths"]["/v1/things/{thing_id}"]["get"]["parameters"].append(
            {"name": "tenant", "in": "header", "required": True, "schema": {"type": "string"}}
        ),
        "new required header parameter tenant",
    ),
    (
        "parameter made required",
        lambda d: d["paths"]["/v1/things/{thing_id}"]["get"]["parameters"][1].update(required=True),
        "new required",
    ),
    ("enum narrowed", lambda d: _schemas(d)["View"]["enum"].remove("full"), "enum lost ['full']"),
    ("type changed", lambda d: _schemas(d)["ThingRead"]["properties"]["amount"].update(type="number"), "type changed"),
    (
        "success response removed",
        lambda d: d["paths"]["/v1/things"]["post"]["responses"].pop("201"),
        "response 201 removed",
    ),
]

COMPATIBLE: list[tuple[str, Change]] = [
    ("nothing changed", lambda d: None),
    ("path added", lambda d: d["paths"].update({"/v1/other": {"get": {"responses": {}}}})),
    (
        "optional request field added",
        lambda d: _schemas(d)["ThingCreate"]["properties"].update(extra={"type": "string"}),
    ),
    ("response field added", lambda d: _schemas(d)["ThingRead"]["properties"].update(extra={"type": "string"})),
    ("required request field relaxed", lambda d: _schemas(d)["ThingCreate"]["required"].remove("name")),
    ("enum widened", lambda d: _schemas(d)["View"]["enum"].append("raw")),
    (
        "optional parameter added",
        lambda d: d["paths"]["/v1/things/{thing_id}"]["get"]["parameters"].append(
            {"name": "lang", "in": "query", "required": False, "schema": {"type": "string"}}
        ),
    ),
    (
        "error response added",
        lambda d: d["paths"]["/v1/things"]["post"]["responses"].update({"409": {"description": "x"}}),
    ),
    ("type made nullable", lambda d: _schemas(d)["ThingCreate"]["properties"]["note"].update(type=["string", "null"])),
    (
        "a string becomes a named enum of strings",
        lambda d: _schemas(d)["ThingRead"]["properties"].update(
            name={"anyOf": [{"$ref": "#/components/schemas/View"}, {"type": "null"}]}
        ),
    ),
]


@pytest.mark.parametrize(("name", "change", "expected"), BREAKING, ids=[case[0] for case in BREAKING])
def test_a_breaking_change_is_reported(name: str, change: Change, expected: str) -> None:
    new = copy.deepcopy(BASE)
    change(new)
    problems = breaking_changes(BASE, new)
    assert any(expected in problem for problem in problems), problems
    assert check_compatible(BASE, new) == problems  # same major: refused


@pytest.mark.parametrize(("name", "change"), COMPATIBLE, ids=[case[0] for case in COMPATIBLE])
def test_a_compatible_change_is_not_reported(name: str, change: Change) -> None:
    new = copy.deepcopy(BASE)
    change(new)
    assert breaking_changes(BASE, new) == []


@pytest.mark.parametrize(("version", "allowed"), [("2.0.0", True), ("1.5.0", False), ("1.4.0", False), ("v2", True)])
def test_a_breaking_change_needs_a_new_major_version(version: str, allowed: bool) -> None:
    new = copy.deepcopy(BASE)
    new["paths"].pop("/v1/things")
    new["info"]["version"] = version
    assert (check_compatible(BASE, new) == []) is allowed
