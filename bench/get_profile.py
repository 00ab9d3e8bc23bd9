"""One GET by id in-process, without a server or a client: the service's own cost per request, profiled.

Builds the service app as deployed (JSON access log to a null stream, the per-caller rate limit on but high),
seeds one record, then calls the app's ASGI interface directly N times in sequence and prints the CPU
(process time) and wall time per request, next to the bare FastAPI endpoint of ``bench/bare_app.py`` driven
the same way. ``--profile`` adds a cProfile of the service's requests (top functions by cumulative time).

    .venv/bin/python -m bench.get_profile customers|credit|collections [--database sqlite|postgresql] [-n 2000]
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import io
import logging
import os
import pstats
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from bench.common import asyncpg_url
from bench.get_bench import seed
from shared.registry import app_factory, settings_class
from tests.support.databases import ADMIN_URL_ENV, DatabaseFactory


async def call(app: Any, path: str, token: str | None) -> int:
    """One GET through the ASGI interface; returns the status (the body is read and dropped)."""
    headers = [(b"host", b"bench"), (b"accept", b"*/*")]
    if token:
        headers.append((b"authorization", f"Bearer {token}".encode()))
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": headers,
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 80),
        "state": {},
    }
    status = 0

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]

    await app(scope, receive, send)
    return status


async def timed(app: Any, path: str, token: str | None, n: int) -> tuple[float, float]:
    """(CPU µs, wall µs) per request over ``n`` sequential requests."""
    for _ in range(50):
        assert await call(app, path, token) == 200
    cpu, wall = time.process_time(), time.perf_counter()
    for _ in range(n):
        await call(app, path, token)
    return (time.process_time() - cpu) / n * 1e6, (time.perf_counter() - wall) / n * 1e6


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("service", choices=("customers", "credit", "collections"))
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("-n", type=int, default=2000)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--rate-limit", default="1000000/minute", help="the per-caller limit ('' turns it off)")
    args = parser.parse_args()
    if args.database == "postgresql":
        os.environ[ADMIN_URL_ENV] = asyncpg_url()
    else:
        os.environ.pop(ADMIN_URL_ENV, None)
    factory = DatabaseFactory(Path(tempfile.mkdtemp(prefix="cf-profile-")))
    try:
        url = await factory.create(args.service)
        settings = settings_class(args.service)(
            database_url=url,
            relay_enabled=False,
            consumer_enabled=False,
            kafka_create_topics=False,
            kafka_bootstrap_servers="127.0.0.1:9",
            http_rate_limit=args.rate_limit,
        )
        app = app_factory(args.service)(settings)
        async with app.router.lifespan_context(app):
            logging.getLogger().handlers[0].stream = io.StringIO()  # type: ignore[attr-defined]
            async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://bench") as client:
                path, token = await seed(args.service, url, client)
            from bench.bare_app import app as bare

            bare_cpu, bare_wall = await timed(bare, "/items/00000000-0000-4000-8000-000000000001", None, args.n)
            cpu, wall = await timed(app, path, token, args.n)
            print(f"bare FastAPI: {bare_cpu:7.0f} µs CPU, {bare_wall:7.0f} µs wall per request")
            print(f"{args.service} GET ({args.database}): {cpu:7.0f} µs CPU, {wall:7.0f} µs wall per request")
            if args.profile:
                profiler = cProfile.Profile()
                profiler.enable()
                for _ in range(args.n):
                    await call(app, path, token)
                profiler.disable()
                stats = pstats.Stats(profiler)
                stats.sort_stats("cumulative").print_stats(60)
                stats.sort_stats("tottime").print_stats(40)
    finally:
        await factory.drop_all()


if __name__ == "__main__":
    asyncio.run(main())
