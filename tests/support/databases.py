"""Fresh, migrated databases for tests: SQLite files, or PostgreSQL when CREDITFLOW_TEST_DATABASE_URL is set.

Each service is migrated once into a template (a file / a template database); every test database
is a copy of it, which keeps a fresh database per test cheap.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import shutil
import uuid
from pathlib import Path

from shared.migrations import upgrade

ADMIN_URL_ENV = "CREDITFLOW_TEST_DATABASE_URL"


def _asyncpg_dsn(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://", 1)


def _with_database(url: str, name: str) -> str:
    base, _, _ = url.rpartition("/")
    return f"{base}/{name}"


class DatabaseFactory:
    def __init__(self, workdir: Path) -> None:
        self.admin_url = os.environ.get(ADMIN_URL_ENV) or None
        self.workdir = workdir
        self.run_id = uuid.uuid4().hex[:8]
        self._templates: dict[str, str] = {}
        self._created: list[str] = []
        self._counter = itertools.count()
        self._lock = asyncio.Lock()

    @property
    def dialect(self) -> str:
        return "postgresql" if self.admin_url else "sqlite"

    async def _admin(self, sql: str) -> None:
        import asyncpg

        assert self.admin_url is not None
        conn = await asyncpg.connect(_asyncpg_dsn(self.admin_url))
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    async def _template(self, service: str) -> str:
        async with self._lock:
            if service not in self._templates:
                if self.admin_url:
                    name = f"cf_tpl_{service}_{self.run_id}"
                    await self._admin(f'CREATE DATABASE "{name}"')
                    self._created.append(name)
                    await asyncio.to_thread(upgrade, service, _with_database(self.admin_url, name))
                    self._templates[service] = name
                else:
                    path = self.workdir / f"template_{service}.db"
                    await asyncio.to_thread(upgrade, service, f"sqlite+aiosqlite:///{path}")
                    self._templates[service] = str(path)
            return self._templates[service]

    async def create(self, service: str) -> str:
        """A new database for ``service`` at the head revision; returns its async URL."""
        template = await self._template(service)
        number = next(self._counter)
        if self.admin_url:
            name = f"cf_{service}_{self.run_id}_{number}"
            await self._admin(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
            self._created.append(name)
            return _with_database(self.admin_url, name)
        path = self.workdir / f"{service}_{number}.db"
        shutil.copyfile(template, path)
        return f"sqlite+aiosqlite:///{path}"

    async def drop_all(self) -> None:
        if not self.admin_url:
            return
        for name in reversed(self._created):
            try:
                await self._admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            except Exception:  # best effort: a test that leaked a connection must not fail the run
                pass
