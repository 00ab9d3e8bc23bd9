"""Every service honours its own OpenAPI document: schemathesis, with a valid token, finds no 5xx and
no response (status, content type, headers, body) that the document does not allow."""

from __future__ import annotations

from pathlib import Path

import pytest

from shared.registry import SERVICES
from tests.support.contract import run_contract
from tests.support.databases import DatabaseFactory


@pytest.mark.parametrize("service", SERVICES)
async def test_api_honours_its_openapi_document(databases: DatabaseFactory, tmp_path: Path, service: str) -> None:
    run = run_contract(service, await databases.create(service), tmp_path)
    assert run.returncode == 0, run.stdout[-8000:] + run.stderr[-2000:]
