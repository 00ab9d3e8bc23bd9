"""Alembic per service: each service's ``migrations/`` holds its own revisions; this module runs them.

``services/<name>/migrations/env.py`` calls ``run_env(metadata)``; ``upgrade(service, url)`` is what
``creditflow migrate`` and the tests call.
"""

from __future__ import annotations

import asyncio
from typing import Any

from alembic import command, context
from alembic.config import Config
from sqlalchemy import MetaData, pool
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import async_engine_from_config

from shared.registry import check_service
from shared.tables import platform_metadata


def alembic_config(service: str, url: str) -> Config:
    check_service(service)
    config = Config()
    config.set_main_option("script_location", f"services.{service}:migrations")
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    config.attributes["service"] = service
    return config


def upgrade(service: str, url: str, revision: str = "head") -> None:
    """Bring the service's database to ``revision`` (sync: call it outside a running event loop)."""
    command.upgrade(alembic_config(service, url), revision)


def downgrade(service: str, url: str, revision: str) -> None:
    command.downgrade(alembic_config(service, url), revision)


def revision(service: str, url: str, message: str) -> None:
    """Autogenerate a revision against a database already at head."""
    command.revision(alembic_config(service, url), message=message, autogenerate=True)


def _run_sync(connection: Connection, metadata: list[MetaData]) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


async def _run_online(metadata: list[MetaData]) -> None:
    config = context.config
    engine = async_engine_from_config(
        config.get_section(config.config_ini_section, {}), prefix="sqlalchemy.", poolclass=pool.NullPool
    )
    async with engine.connect() as connection:
        await connection.run_sync(_run_sync, metadata)
    await engine.dispose()


def run_env(service_metadata: MetaData) -> None:
    """Body of every service's ``env.py``: the service's tables plus the platform tables."""
    metadata = [service_metadata, platform_metadata]
    if context.is_offline_mode():
        context.configure(
            url=context.config.get_main_option("sqlalchemy.url"), target_metadata=metadata, literal_binds=True
        )
        with context.begin_transaction():
            context.run_migrations()
        return
    connectable: Any = context.config.attributes.get("connection")
    if connectable is not None:
        _run_sync(connectable, metadata)
    else:
        asyncio.run(_run_online(metadata))
