"""The customer directory route each downstream service exposes is authenticated and documented."""

from __future__ import annotations

import pytest

from tests.support.databases import DatabaseFactory
from tests.support.harness import new_id, running_service


@pytest.mark.parametrize("service", ["collections"])
async def test_directory_requires_token_and_scope(databases: DatabaseFactory, service: str) -> None:
    async with running_service(service, await databases.create(service)) as h:
        url = f"/v1/customers/{new_id()}"
        assert (await h.client.get(url)).status_code == 401
        assert (await h.client.get(url, headers=h.auth("credit:read"))).status_code == 403
        missing = await h.client.get(url, headers=h.auth(f"{service}:read"))
        assert missing.status_code == 404
        assert (await h.client.get("/openapi.json")).status_code == 200
