"""The OpenAPI document of a service, shaped for generated clients.

FastAPI's document is post-processed once, centrally, so routers stay plain:

* errors: each operation lists only the problems it can answer, derived from what the route depends
  on (a token -> 401/403, a path parameter -> 404, ``If-Match`` -> 412/428, a body -> 400/413/422,
  a write -> 409, the database -> 503), each under ``application/problem+json`` with the ``Problem``
  schema;
* schemas: one schema per model (no ``-Input``/``-Output`` twins), every property of a schema that
  only responses use is required (the service always sends it), decimals are strings;
* lint hygiene: scopes as ``x-required-scopes`` (HTTP bearer schemes carry none), ``security: []``
  on public probes, every tag declared, every parameter described, contact and licence in ``info``.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

from fastapi import APIRouter, FastAPI, routing
from fastapi.dependencies.models import Dependant
from fastapi.openapi.utils import get_openapi
from fastapi.security.base import SecurityBase

from shared.auth import current_principal
from shared.events.asyncapi import CONTACT
from shared.http import IF_MATCH_OPTIONAL, IF_MATCH_WHEN_EXISTS
from shared.problems import PROBLEM_JSON, PROBLEM_RESPONSES, FieldError, Problem

SCHEMA_REF = "#/components/schemas/"


def operation_id(route: routing.APIRoute) -> str:
    """Stable operationIds: the endpoint function's name (unique within a service)."""
    return route.name


def api_router(*, tags: list[str], prefix: str = "/v1") -> APIRouter:
    """A router of a service's API: its prefix, tags, problem responses and operationIds set where its routes are
    defined, so an app takes the routes as they are (``shared.app.add_routes``)."""
    return APIRouter(
        prefix=prefix, tags=list(tags), responses=PROBLEM_RESPONSES, generate_unique_id_function=operation_id
    )


# What a decimal looks like on the wire. Inputs also accept JSON numbers (README: "Amounts"), but the
# contract is the string: it survives every JSON parser without turning into a binary float.
DECIMAL_PATTERN = r"^-?\d+(\.\d+)?$"
WRITE_METHODS = {"post", "put", "patch", "delete"}
# Field errors are built by hand in many places: `type` is only there for validation errors.
PARTIAL_SCHEMAS = {"FieldError"}

ERROR_DESCRIPTIONS: dict[int, str] = {
    400: "Malformed request (unparseable JSON body, or a cursor this API did not issue)",
    401: "Missing or invalid bearer token",
    403: "The token lacks the scope this operation needs",
    404: "A resource named in the path does not exist",
    409: "Conflict with the current state (a duplicate, an illegal transition, or a concurrent change)",
    412: "If-Match names a version other than the current one",
    413: "Request body too large",
    422: "Validation failed, or a business rule refused the request; nothing was written",
    428: "If-Match is required and was not sent",
    503: "The database is busy or unreachable; retry after Retry-After seconds",
}
_RETRY_AFTER = {
    "Retry-After": {"description": "seconds to wait before retrying", "schema": {"type": "integer", "minimum": 0}}
}
_WWW_AUTHENTICATE = {"WWW-Authenticate": {"description": "the bearer challenge", "schema": {"type": "string"}}}
_EXTRA_HEADERS: dict[int, dict[str, Any]] = {401: _WWW_AUTHENTICATE, 503: _RETRY_AFTER}
HEADER_DESCRIPTIONS = {
    "ETag": "version of the resource; send it back as If-Match to change it",
    "Location": "URL of the created resource",
}


# The paths of each app's document, by its title and routes: every app of a service (a test run makes hundreds)
# has the same operations, and building the document costs about a second of CPU.
_PATHS: dict[tuple[Any, ...], dict[str, Any]] = {}


def operations_of(app: Any) -> dict[str, Any]:
    """The ``paths`` of the app's OpenAPI document (what middlewares read: security, scopes, x- markers), built
    once per distinct set of routes in the process. Settings that only change descriptions or servers do not
    change it."""
    routes = tuple(
        (
            getattr(route, "path", ""),
            tuple(sorted(getattr(route, "methods", None) or ())),
            f"{route.endpoint.__module__}.{route.endpoint.__qualname__}",
        )
        for route in app.routes
        if hasattr(route, "endpoint")
    )
    key = (app.title, routes)
    if key not in _PATHS:
        _PATHS[key] = app.openapi().get("paths", {})
    return _PATHS[key]


def install_openapi(app: FastAPI, tag_descriptions: dict[str, str] | None = None) -> None:
    """Replace ``app.openapi`` with the post-processed document (built once, then cached)."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = get_openapi(
                title=app.title,
                version=app.version,
                openapi_version=app.openapi_version,
                description=app.description,
                routes=app.routes,
                tags=app.openapi_tags,
                servers=app.servers,
            )
            app.openapi_schema = shape_document(document, app, tag_descriptions or {})
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def shape_document(document: dict[str, Any], app: FastAPI, tag_descriptions: dict[str, str]) -> dict[str, Any]:
    """Apply every rule of the module docstring to FastAPI's ``document`` (returns it, changed)."""
    schemas: dict[str, Any] = document.setdefault("components", {}).setdefault("schemas", {})
    _add_problem_schemas(schemas)
    for context in routing.iter_route_contexts(app.routes):
        route: Any = context  # an effective route: the APIRoute with its routers' prefixes and responses
        if isinstance(context.original_route, routing.APIRoute) and route.include_in_schema:
            for method in route.methods:
                operation = document["paths"].get(route.path_format, {}).get(method.lower())
                if operation is not None:
                    _shape_operation(operation, route, method.lower())
    _merge_twins(document)
    _decimals_as_strings(document)
    _require_response_properties(document)
    _prune_unused_schemas(document)
    _declare_tags(document, tag_descriptions)
    info = document["info"]
    info.setdefault("contact", dict(CONTACT))
    info.setdefault("license", {"name": "Proprietary", "url": "https://creditflow.dev/license"})
    shaped: dict[str, Any] = _sorted(document)
    return shaped


# --- errors -------------------------------------------------------------------------------------


def _dependants(dependant: Dependant) -> Iterator[Dependant]:
    yield dependant
    for child in dependant.dependencies:
        yield from _dependants(child)


def _calls(route: Any) -> set[Any]:
    return {dependant.call for dependant in _dependants(route.dependant) if dependant.call is not None}


def _header_params(route: Any) -> dict[str, Any]:
    return {
        param.alias: param.field_info for dependant in _dependants(route.dependant) for param in dependant.header_params
    }


def _query_names(route: Any) -> set[str]:
    return {param.alias for dependant in _dependants(route.dependant) for param in dependant.query_params}


def error_statuses(route: Any, method: str) -> set[int]:
    """The problem statuses ``route`` can answer, from what it depends on."""
    from shared.app import _reads_by_key, _session  # the app module imports this one

    calls = _calls(route)
    headers = _header_params(route)
    statuses: set[int] = set()
    if current_principal in calls or any(isinstance(call, SecurityBase) for call in calls):
        statuses |= {401, 403}  # an optional bearer too: a bad token is refused, not ignored
    if route.dependant.path_params:
        statuses |= {404, 422}
    if route.body_field is not None:
        statuses |= {400, 413, 422}
    if _query_names(route) or headers:
        statuses.add(422)
    if "cursor" in _query_names(route):
        statuses.add(400)
    if "If-Match" in headers:
        statuses.add(412)
        if headers["If-Match"].description != IF_MATCH_OPTIONAL:
            statuses.add(428)
    if method in WRITE_METHODS:
        statuses |= {409, 422}
    if _session in calls or _reads_by_key in calls:
        statuses.add(503)
    # Statuses a route declares itself (not the router-wide list) are kept.
    for status, declared in route.responses.items():
        if str(status).isdigit() and int(status) >= 400 and declared is not PROBLEM_RESPONSES.get(status):
            if declared.get("model", Problem) is Problem:
                statuses.add(int(status))
    return statuses


def _problem_response(status: int, description: str | None) -> dict[str, Any]:
    response: dict[str, Any] = {
        "description": description or ERROR_DESCRIPTIONS.get(status, "Problem"),
        "content": {PROBLEM_JSON: {"schema": {"$ref": SCHEMA_REF + "Problem"}}},
    }
    if status in _EXTRA_HEADERS:
        response["headers"] = copy.deepcopy(_EXTRA_HEADERS[status])
    return response


def _shape_operation(operation: dict[str, Any], route: Any, method: str) -> None:
    responses: dict[str, Any] = operation["responses"]
    own: dict[str, Any] = {}
    for status in list(responses):
        if status.isdigit() and int(status) >= 400:
            declared = route.responses.get(int(status)) or route.responses.get(status)
            if declared is not None and declared.get("model", Problem) is not Problem:
                continue  # a typed non-problem error body (readiness): keep FastAPI's rendering
            if declared is not None and declared is not PROBLEM_RESPONSES.get(int(status)):
                own[status] = declared.get("description")
            del responses[status]
    for code in sorted(error_statuses(route, method)):
        responses[str(code)] = _problem_response(code, own.get(str(code)))
    for response in responses.values():
        for name, header in response.get("headers", {}).items():
            header.setdefault("description", HEADER_DESCRIPTIONS.get(name, name))
    _shape_security(operation)
    _shape_parameters(operation, route)


def _shape_security(operation: dict[str, Any]) -> None:
    security = operation.get("security")
    if not security:
        operation["security"] = []
        return
    scopes = sorted({scope for requirement in security for scopes in requirement.values() for scope in scopes})
    operation["security"] = [{scheme: [] for scheme in requirement} for requirement in security]
    if scopes:
        operation["x-required-scopes"] = scopes
        needs = " and ".join(f"`{scope}`" for scope in scopes)
        if "admin" not in scopes:
            needs += " (or `admin`)"
        operation["description"] = (operation.get("description", "").rstrip() + f"\n\nScope: {needs}.").lstrip()


def _shape_parameters(operation: dict[str, Any], route: Any) -> None:
    for parameter in operation.get("parameters", []):
        if parameter["name"] == "If-Match":
            required = parameter.get("description") not in (IF_MATCH_OPTIONAL, IF_MATCH_WHEN_EXISTS)
            parameter["required"] = required
            parameter["schema"] = {"type": "string", "description": parameter.get("description", "")}
        if not parameter.get("description"):
            parameter["description"] = parameter.get("schema", {}).get("description") or _describe(parameter)


def _describe(parameter: dict[str, Any]) -> str:
    name: str = parameter["name"]
    if parameter["in"] == "path" and name.endswith("_id"):
        return f"id of the {name.removesuffix('_id').replace('_', ' ')}"
    if name == "cursor":
        return "`next_cursor` of the previous page; omit for the first page"
    if name == "limit":
        return "page size"
    return name.replace("_", " ")


# --- schemas ------------------------------------------------------------------------------------


def _add_problem_schemas(schemas: dict[str, Any]) -> None:
    for model in (Problem, FieldError):
        rendered = model.model_json_schema(ref_template=SCHEMA_REF + "{model}", mode="serialization")
        for name, definition in rendered.pop("$defs", {}).items():
            schemas.setdefault(name, definition)
        schemas[model.__name__] = rendered
    schemas["Problem"]["additionalProperties"] = True  # problem types may add members (RFC 9457 §3.2)


def _walk(node: Any) -> Iterator[dict[str, Any]]:
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from _walk(value)
    elif isinstance(node, list):
        for value in node:
            yield from _walk(value)


def _merge_twins(document: dict[str, Any]) -> None:
    """``X-Input`` + ``X-Output`` -> ``X``: a model used both ways is documented once, as requests see it."""
    schemas = document["components"]["schemas"]
    renames: dict[str, str] = {}
    for name in list(schemas):
        if name.endswith("-Input"):
            base = name.removesuffix("-Input")
            schemas[base] = schemas.pop(name)
            schemas.pop(base + "-Output", None)
            renames[SCHEMA_REF + name] = renames[SCHEMA_REF + base + "-Output"] = SCHEMA_REF + base
    for name in list(schemas):
        if name.endswith("-Output"):  # used by responses only: no twin
            base = name.removesuffix("-Output")
            schemas[base] = schemas.pop(name)
            renames[SCHEMA_REF + name] = SCHEMA_REF + base
    for node in _walk(document):
        if node.get("$ref") in renames:
            node["$ref"] = renames[node["$ref"]]


def _decimal_branches(node: dict[str, Any]) -> list[dict[str, Any]] | None:
    """The ``number`` and ``string`` branches of pydantic's Decimal validation schema, if ``node`` is one."""
    branches = node.get("anyOf")
    if not isinstance(branches, list):
        return None
    found = [b for b in branches if isinstance(b, dict) and b.get("type") in ("number", "string")]
    return found if sorted(b["type"] for b in found) == ["number", "string"] else None


def _decimals_as_strings(document: dict[str, Any]) -> None:
    """Pydantic's validation schema of a Decimal is ``number | string``; the contract is the string."""
    for node in list(_walk(document)):
        if (found := _decimal_branches(node)) is None:
            continue
        rest = [branch for branch in node["anyOf"] if branch not in found]
        string = {"type": "string", "pattern": DECIMAL_PATTERN}
        if not rest:
            del node["anyOf"]
            node.update(string)
        else:
            node["anyOf"] = [string, *rest]
        if node.get("type") == "string" and isinstance(node.get("default"), int | float):
            node["default"] = str(node["default"])


def _refs(node: Any) -> set[str]:
    return {n["$ref"].removeprefix(SCHEMA_REF) for n in _walk(node) if isinstance(n.get("$ref"), str)}


def _closure(start: set[str], schemas: dict[str, Any]) -> set[str]:
    seen: set[str] = set()
    todo = list(start)
    while todo:
        name = todo.pop()
        if name in seen or name not in schemas:
            continue
        seen.add(name)
        todo.extend(_refs(schemas[name]))
    return seen


def _request_and_response_schemas(document: dict[str, Any]) -> tuple[set[str], set[str]]:
    schemas = document["components"]["schemas"]
    requests: set[str] = set()
    responses: set[str] = set()
    for item in document["paths"].values():
        for operation in item.values():
            requests |= _refs(operation.get("requestBody", {})) | _refs(operation.get("parameters", []))
            responses |= _refs(operation.get("responses", {}))
    return _closure(requests, schemas), _closure(responses, schemas)


def _require_response_properties(document: dict[str, Any]) -> None:
    """A schema only responses use has every property required: the service always sends each one."""
    schemas = document["components"]["schemas"]
    requests, responses = _request_and_response_schemas(document)
    for name in responses - requests - PARTIAL_SCHEMAS:
        properties = schemas[name].get("properties")
        if properties:
            schemas[name]["required"] = sorted(properties)
            # An example inherited from the create model (AgencyRead from AgencyCreate) is not a response.
            examples = [
                e for e in schemas[name].get("examples", []) if isinstance(e, dict) and properties.keys() <= e.keys()
            ]
            if examples:
                schemas[name]["examples"] = examples
            else:
                schemas[name].pop("examples", None)


def _prune_unused_schemas(document: dict[str, Any]) -> None:
    schemas = document["components"]["schemas"]
    used = _closure(_refs(document["paths"]), schemas)
    for name in list(schemas):
        if name not in used:
            del schemas[name]


def _declare_tags(document: dict[str, Any], descriptions: dict[str, str]) -> None:
    declared = {tag["name"]: tag for tag in document.get("tags", [])}
    used = {tag for item in document["paths"].values() for op in item.values() for tag in op.get("tags", [])}
    for name in sorted(used - declared.keys()):
        declared[name] = {"name": name, "description": descriptions.get(name, f"{name.capitalize()} operations")}
    for name, tag in declared.items():
        if name in descriptions:
            tag["description"] = descriptions[name]
    document["tags"] = sorted(declared.values(), key=lambda tag: tag["name"])


def _sorted(node: Any) -> Any:
    """Keys sorted everywhere (a stable file the 'spec matches code' test can compare)."""
    if isinstance(node, dict):
        return {key: _sorted(node[key]) for key in sorted(node)}
    if isinstance(node, list):
        return [_sorted(value) for value in node]
    return node
