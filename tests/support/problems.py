"""Assertions on RFC 9457 problem responses, shared by the API tests of every service."""

from __future__ import annotations

from typing import Any


def assert_problem(response: Any, status: int, field: str | None = None) -> dict[str, Any]:
    """``response`` is a problem+json with ``status``; with ``field``, one error names it (or a part of it:
    ``body.expectations`` matches ``body.expectations.3`` and ``body.rows[0]`` matches ``body.rows[0].amount``)."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    problem = dict(response.json())
    assert problem["status"] == status, problem
    if field is not None:
        fields = [str(error["field"]) for error in problem["errors"]]
        assert any(name == field or name.startswith((f"{field}.", f"{field}[")) for name in fields), problem
    return problem
