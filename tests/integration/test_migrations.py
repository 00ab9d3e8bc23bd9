"""Each service's migrations produce exactly the tables its models describe, and downgrade cleanly."""

from __future__ import annotations

import asyncio
import importlib

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.ext.asyncio import create_async_engine

from shared.migrations import downgrade, upgrade
from shared.registry import SERVICES
from shared.tables import platform_metadata
from tests.support.databases import DatabaseFactory


@pytest.mark.parametrize("service", SERVICES)
async def test_migrations_match_models_and_round_trip(databases: DatabaseFactory, service: str) -> None:
    url = await databases.create(service)
    models = importlib.import_module(f"services.{service}.models")
    metadata = [models.Base.metadata, platform_metadata]
    engine = create_async_engine(url)
    try:
        async with engine.connect() as conn:
            diff = await conn.run_sync(lambda sync: compare_metadata(MigrationContext.configure(sync), metadata))
        assert diff == [], f"models and migrations of {service} differ: {diff}"
    finally:
        await engine.dispose()
    await asyncio.to_thread(downgrade, service, url, "base")
    await asyncio.to_thread(upgrade, service, url)
