"""GET by id under load (wrk, 32 connections) against a bare FastAPI endpoint in the same run.

Each service runs as deployed (uvicorn, one worker, JSON access log, relay and consumer off: no broker)
on SQLite or PostgreSQL; the bare endpoint (bench/bare_app.py) is the baseline. Reported per path:
requests/s, ratio to the bare endpoint (target >= 0.4) and p99 latency (target <= 50 ms).

    .venv/bin/python bench/get_bench.py [--seconds 10] [--connections 32] [--database sqlite|postgresql|both]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx

from bench.common import Figure, asyncpg_url, table
from shared.auth import mint_token
from shared.broker import free_port
from shared.db import Database
from shared.processes import start_tied_child
from shared.registry import settings_class
from tests.support.databases import ADMIN_URL_ENV, DatabaseFactory

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable


def factory_for(database: str) -> DatabaseFactory:
    previous = os.environ.pop(ADMIN_URL_ENV, None)
    if database == "postgresql":
        os.environ[ADMIN_URL_ENV] = asyncpg_url()
    try:
        return DatabaseFactory(Path(tempfile.mkdtemp(prefix="cf-bench-")))
    finally:
        os.environ.pop(ADMIN_URL_ENV, None)
        if previous is not None:
            os.environ[ADMIN_URL_ENV] = previous


@contextmanager
def server(args: list[str], env: dict[str, str], port: int) -> Iterator[str]:
    process = start_tied_child(
        args, cwd=ROOT, env={**os.environ, **env}, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"server exited: {process.stderr.read().decode()[-2000:]}")  # type: ignore[union-attr]
            try:
                if httpx.get(f"{base}/livez" if "services" in " ".join(args) else f"{base}/docs").status_code < 500:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("server did not start")
            time.sleep(0.2)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()


def service_server(service: str, database_url: str) -> tuple[list[str], dict[str, str], int]:
    port = free_port()
    prefix = f"CREDITFLOW_{service.upper()}_"
    env = {
        f"{prefix}DATABASE_URL": database_url,
        f"{prefix}PORT": str(port),
        f"{prefix}HOST": "127.0.0.1",
        f"{prefix}RELAY_ENABLED": "false",
        f"{prefix}CONSUMER_ENABLED": "false",
        f"{prefix}KAFKA_CREATE_TOPICS": "false",
        f"{prefix}KAFKA_BOOTSTRAP_SERVERS": "127.0.0.1:9",
        # One caller (wrk) sends every request: the per-caller limit stays on (its cost is measured) but
        # high enough that it never answers 429 (the deployed default, 1200/minute, would refuse most).
        f"{prefix}HTTP_RATE_LIMIT": "1000000/minute",
    }
    return [PYTHON, "-m", "shared.cli", "serve", service], env, port


def wrk(url: str, token: str | None, seconds: int, connections: int) -> tuple[float, float]:
    """(requests/s, p99 ms) of ``url`` under ``connections`` connections; non-2xx responses fail the bench."""
    command = ["wrk", f"-t{min(2, connections)}", f"-c{connections}", f"-d{seconds}s", "--latency", url]
    if token:
        command[1:1] = ["-H", f"Authorization: Bearer {token}"]
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    if "Non-2xx" in output:
        raise RuntimeError(f"non-2xx responses from {url}:\n{output}")
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))  # type: ignore[union-attr]
    value, unit = re.search(r"\s99%\s+([\d.]+)(us|ms|s)", output).groups()  # type: ignore[union-attr]
    p99 = float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]
    return rps, p99


async def seed(service: str, database_url: str, base: str | httpx.AsyncClient) -> tuple[str, str]:
    """Create one record to GET (through ``base``, a URL or a client); returns (path, token)."""
    settings = settings_class(service)()
    now = datetime.now(UTC)
    token = mint_token(settings, ["admin"], now=now, ttl=timedelta(hours=2))
    headers = {"Authorization": f"Bearer {token}"}
    if service == "customers":
        body = {"name": "Acme Trading Co.", "kind": "commercial", "lifecycle": "active", "tax_id": "91310000MA1K0001"}
        response = await _post(base, "/v1/customers", body, headers)
        return f"/v1/customers/{response['id']}", token
    customer_id = uuid.uuid4()
    db = Database(database_url)
    try:
        async with db.transaction() as session:
            if service == "credit":
                from services.credit.models import CreditProfile
                from services.credit.models import KnownCustomer as CreditCustomer

                session.add(
                    CreditCustomer(
                        id=customer_id,
                        name="Acme",
                        kind="commercial",
                        lifecycle="active",
                        segment="general",
                        registered_at=now,
                        updated_at=now,
                    )
                )
                session.add(
                    CreditProfile(
                        customer_id=customer_id,
                        grade="B",
                        currency="CNY",
                        credit_limit=Decimal("100000.00"),
                        open_receivables=Decimal("20000.00"),
                        open_orders=Decimal("0.00"),
                        receivables_by_currency={"CNY": "20000.00"},
                        oldest_overdue_days=0,
                        on_hold=False,
                        hold_reasons=[],
                        version=1,
                        created_at=now,
                        updated_at=now,
                    )
                )
            else:
                from services.collections.models import KnownCustomer as CollectionsCustomer

                session.add(
                    CollectionsCustomer(
                        id=customer_id,
                        name="Acme",
                        kind="commercial",
                        lifecycle="active",
                        segment="general",
                        registered_at=now,
                        updated_at=now,
                    )
                )
    finally:
        await db.dispose()
    if service == "credit":
        return f"/v1/profiles/{customer_id}", token
    body = {
        "customer_id": str(customer_id),
        "number": "INV-1",
        "issue_date": "2026-01-01",
        "currency": "CNY",
        "amount": "60000.00",
        "credit_terms": "n/30",
    }
    response = await _post(base, "/v1/invoices", body, headers)
    return f"/v1/invoices/{response['id']}", token


async def _post(base: str | httpx.AsyncClient, path: str, body: dict[str, str], headers: dict[str, str]) -> Any:
    if isinstance(base, httpx.AsyncClient):
        response = await base.post(path, json=body, headers=headers)
        response.raise_for_status()
        return response.json()
    async with httpx.AsyncClient(base_url=base, headers=headers) as client:
        response = await client.post(path, json=body)
        response.raise_for_status()
        return response.json()


async def run(databases: list[str], seconds: int, connections: int) -> list[Figure]:
    if not shutil.which("wrk"):
        raise RuntimeError("wrk is not installed (apt-get install -y wrk)")
    figures: list[Figure] = []
    port = free_port()
    with server(
        [
            PYTHON,
            "-m",
            "uvicorn",
            "bench.bare_app:app",
            "--port",
            str(port),
            "--log-level",
            "warning",
            "--no-access-log",
        ],
        {},
        port,
    ) as bare:
        bare_url = f"{bare}/items/00000000-0000-4000-8000-000000000001"
        wrk(bare_url, None, 2, connections)  # warm-up
        bare_rps, bare_p99 = wrk(bare_url, None, seconds, connections)
    print(f"bare FastAPI: {bare_rps:,.0f} req/s, p99 {bare_p99:.1f} ms", flush=True)
    for database in databases:
        factory = factory_for(database)
        try:
            for service, label in (("customers", "customer"), ("credit", "credit profile"), ("collections", "invoice")):
                url = await factory.create(service)
                command, env, port = service_server(service, url)
                with server(command, env, port) as base:
                    path, token = await seed(service, url, base)
                    wrk(base + path, token, 2, connections)  # warm-up
                    rps, p99 = wrk(base + path, token, seconds, connections)
                print(f"{database} GET {label}: {rps:,.0f} req/s, p99 {p99:.1f} ms", flush=True)
                figures.append(
                    Figure(
                        f"GET {label} by id, {connections} connections",
                        database,
                        rps,
                        "req/s",
                        baseline=bare_rps,
                        baseline_label="bare FastAPI",
                        min_ratio=0.4,
                    )
                )
                figures.append(Figure(f"GET {label} by id, p99", database, p99, "ms", max_value=50))
        finally:
            await factory.drop_all()
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--database", choices=("sqlite", "postgresql", "both"), default="both")
    args = parser.parse_args()
    databases = ["sqlite", "postgresql"] if args.database == "both" else [args.database]
    print(table(asyncio.run(run(databases, args.seconds, args.connections))))


if __name__ == "__main__":
    main()
