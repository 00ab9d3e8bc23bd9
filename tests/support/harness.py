"""Run one service app in-process (lifespan included) with an httpx client against it."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import event, func, select, text

from shared.app import Runtime
from shared.auth import mint_token
from shared.clock import Clock, FixedClock
from shared.registry import app_factory, settings_class
from shared.settings import ServiceSettings
from shared.tables import outbox


@dataclass
class ServiceHarness:
    app: FastAPI
    client: httpx.AsyncClient
    settings: ServiceSettings
    clock: Clock

    @property
    def runtime(self) -> Runtime:
        runtime: Runtime = self.app.state.runtime
        return runtime

    def token(self, *scopes: str, subject: str = "tester") -> str:
        return mint_token(self.settings, list(scopes), subject=subject, now=datetime.now(UTC), ttl=timedelta(hours=1))

    def auth(self, *scopes: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(*scopes)}"}

    async def get_json(self, path: str) -> Any:
        """The body of a GET as admin, or None unless it answered 200 (for polling with ``eventually``)."""
        response = await self.client.get(path, headers=self.auth("admin"))
        return response.json() if response.status_code == 200 else None

    async def post_json(self, path: str, body: dict[str, Any], status: int = 201) -> Any:
        """POST as admin, asserting the status; the body of the answer."""
        response = await self.client.post(path, json=body, headers=self.auth("admin"))
        assert response.status_code == status, response.text
        return response.json()

    async def count(self, table: str) -> int:
        async with self.runtime.db.transaction() as session:
            return int(await session.scalar(text(f"SELECT count(*) FROM {table}")) or 0)

    async def outbox_types(self) -> list[str]:
        async with self.runtime.db.transaction() as session:
            return list((await session.execute(select(outbox.c.event_type).order_by(outbox.c.seq))).scalars())

    @contextmanager
    def statements(self) -> Iterator[list[str]]:
        """Collect the SQL statements run inside the block (to prove a list is not N+1)."""
        seen: list[str] = []

        def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
            seen.append(statement)

        engines = [engine.sync_engine for engine in self.runtime.db.engines]
        for engine in engines:
            event.listen(engine, "before_cursor_execute", record)
        try:
            yield seen
        finally:
            for engine in engines:
                event.remove(engine, "before_cursor_execute", record)

    async def outbox_count(self) -> int:
        async with self.runtime.db.transaction() as session:
            return int(await session.scalar(select(func.count()).select_from(outbox)) or 0)


@asynccontextmanager
async def running_service(
    service: str, database_url: str, *, bootstrap: str | None = None, clock: Clock | None = None, **overrides: Any
) -> AsyncIterator[ServiceHarness]:
    """The service's app with its lifespan; without ``bootstrap`` the relay and consumer stay off."""
    options: dict[str, Any] = {
        "database_url": database_url,
        "kafka_bootstrap_servers": bootstrap or "127.0.0.1:9",
        "relay_enabled": bootstrap is not None,
        "consumer_enabled": bootstrap is not None,
        "kafka_create_topics": bootstrap is not None,
        "relay_poll_interval_seconds": 0.05,
        "relay_broker_check_interval_seconds": 1.0,
        "consumer_retry_backoff_seconds": 0.01,
        "consumer_max_retry_backoff_seconds": 0.5,
        "http_rate_limit": "",  # tests drive many requests as one subject; the limit has its own tests
        "log_json": False,
    }
    options.update(overrides)
    settings = settings_class(service)(**options)
    clock = clock or FixedClock(datetime(2026, 3, 1, 9, 0, tzinfo=UTC))
    app = app_factory(service)(settings, clock, configure_logs=False)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url=f"http://{service}.test") as client:
            yield ServiceHarness(app=app, client=client, settings=settings, clock=clock)


def new_id() -> str:
    return str(uuid.uuid4())
