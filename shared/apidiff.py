"""Breaking changes between two OpenAPI documents of one service.

Breaking for a client written against ``old``: a removed path or operation; a new required parameter or
request-body field; a response field removed or no longer required; a property whose type changed; an
enum that lost a value. Such a change is allowed only with a new major ``info.version``.
"""

from __future__ import annotations

from typing import Any

METHODS = ("get", "put", "post", "delete", "patch", "head", "options")


def _resolve(document: dict[str, Any], schema: Any) -> Any:
    seen: set[str] = set()
    while isinstance(schema, dict) and "$ref" in schema and schema["$ref"] not in seen:
        seen.add(schema["$ref"])
        node: Any = document
        for part in schema["$ref"].removeprefix("#/").split("/"):
            node = node.get(part.replace("~1", "/").replace("~0", "~"), {})
        schema = node
    return schema


def _types(document: dict[str, Any], schema: dict[str, Any]) -> set[str]:
    """The JSON types a schema allows, looking through ``anyOf``/``oneOf`` and their references."""
    found = {schema["type"]} if isinstance(schema.get("type"), str) else set(schema.get("type") or [])
    for branch in schema.get("anyOf", []) + schema.get("oneOf", []):
        resolved = _resolve(document, branch)
        if isinstance(resolved, dict):
            found |= _types(document, resolved)
    return found


class _Comparer:
    def __init__(self, old: dict[str, Any], new: dict[str, Any]) -> None:
        self.old, self.new = old, new
        self.problems: list[str] = []
        self._seen: set[tuple[str, str, str]] = set()

    def schema(self, old: Any, new: Any, where: str, direction: str) -> None:
        """Compare two schemas; ``direction`` is "request" or "response"."""
        key = (
            str(old.get("$ref", id(old))) if isinstance(old, dict) else "",
            str(new.get("$ref", id(new))) if isinstance(new, dict) else "",
            direction,
        )
        if key in self._seen:
            return
        self._seen.add(key)
        old, new = _resolve(self.old, old), _resolve(self.new, new)
        if not isinstance(old, dict) or not isinstance(new, dict):
            return
        old_types, new_types = _types(self.old, old), _types(self.new, new)
        if old_types and new_types and not old_types <= new_types | {"null"} and not new_types <= old_types:
            self.problems.append(f"{where}: type changed from {sorted(old_types)} to {sorted(new_types)}")
        if "enum" in old and "enum" in new:
            lost = [value for value in old["enum"] if value not in new["enum"]]
            if lost:
                self.problems.append(f"{where}: enum lost {lost}")
        old_props, new_props = old.get("properties", {}), new.get("properties", {})
        old_required, new_required = set(old.get("required", [])), set(new.get("required", []))
        if direction == "response":
            for name in old_props:
                if name not in new_props:
                    self.problems.append(f"{where}.{name}: response field removed")
                elif name in old_required and name not in new_required:
                    self.problems.append(f"{where}.{name}: response field no longer required")
        else:
            for name in sorted(new_required - old_required):
                self.problems.append(f"{where}.{name}: new required request field")
        for name in old_props.keys() & new_props.keys():
            self.schema(old_props[name], new_props[name], f"{where}.{name}", direction)
        for part in ("items", "additionalProperties"):
            if isinstance(old.get(part), dict) and isinstance(new.get(part), dict):
                self.schema(old[part], new[part], f"{where}[]", direction)
        for combiner in ("anyOf", "oneOf", "allOf"):
            refs_old = [b for b in old.get(combiner, []) if isinstance(b, dict) and "$ref" in b]
            refs_new = {b["$ref"]: b for b in new.get(combiner, []) if isinstance(b, dict) and "$ref" in b}
            for branch in refs_old:
                if branch["$ref"] in refs_new:
                    self.schema(branch, refs_new[branch["$ref"]], where, direction)

    def operation(self, old: dict[str, Any], new: dict[str, Any], where: str) -> None:
        old_params = {(p.get("in"), p.get("name")): p for p in map(self._param_old, old.get("parameters", []))}
        for param in map(self._param_new, new.get("parameters", [])):
            ident = (param.get("in"), param.get("name"))
            if param.get("required") and not old_params.get(ident, {}).get("required"):
                self.problems.append(f"{where}: new required {ident[0]} parameter {ident[1]}")
            if ident in old_params:
                self.schema(old_params[ident].get("schema"), param.get("schema"), f"{where} {ident[1]}", "request")
        old_body = old.get("requestBody", {}).get("content", {})
        new_body = new.get("requestBody", {}).get("content", {})
        if new.get("requestBody", {}).get("required") and not old.get("requestBody"):
            self.problems.append(f"{where}: new required request body")
        for media, content in old_body.items():
            if media in new_body:
                self.schema(content.get("schema"), new_body[media].get("schema"), f"{where} body", "request")
        for status, response in old.get("responses", {}).items():
            if not status.startswith("2"):
                continue
            new_response = new.get("responses", {}).get(status)
            if new_response is None:
                self.problems.append(f"{where}: response {status} removed")
                continue
            for media, content in response.get("content", {}).items():
                new_content = new_response.get("content", {}).get(media)
                if new_content is None:
                    self.problems.append(f"{where}: response {status} no longer {media}")
                else:
                    self.schema(content.get("schema"), new_content.get("schema"), f"{where} {status}", "response")

    def _param_old(self, param: dict[str, Any]) -> dict[str, Any]:
        resolved: dict[str, Any] = _resolve(self.old, param)
        return resolved

    def _param_new(self, param: dict[str, Any]) -> dict[str, Any]:
        resolved: dict[str, Any] = _resolve(self.new, param)
        return resolved


def breaking_changes(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    """Every change in ``new`` that can break a client of ``old`` (empty when compatible)."""
    comparer = _Comparer(old, new)
    for path, item in old.get("paths", {}).items():
        new_item = new.get("paths", {}).get(path)
        if new_item is None:
            comparer.problems.append(f"{path}: path removed")
            continue
        for method in METHODS:
            if method in item:
                if method not in new_item:
                    comparer.problems.append(f"{method.upper()} {path}: operation removed")
                else:
                    comparer.operation(item[method], new_item[method], f"{method.upper()} {path}")
    return comparer.problems


def major(version: str) -> int:
    head = version.split(".", 1)[0].lstrip("v")
    return int(head) if head.isdigit() else 0


def check_compatible(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    """The breaking changes that are not allowed: all of them, unless the major version went up."""
    if major(new.get("info", {}).get("version", "0")) > major(old.get("info", {}).get("version", "0")):
        return []
    return breaking_changes(old, new)
