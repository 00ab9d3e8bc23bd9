"""A billing run too large for one request: POST /v1/invoice-imports (NDJSON, streamed) to its job finished,
against the bulk endpoint in the same run.

Collections runs as deployed (uvicorn, one worker, the import worker polling); N lines (default 50,000)
for 1,000 known customers are uploaded in 64 KiB pieces, and the clock stops when the job reports
``finished_at``: staging, the worker's chunks through the bulk path and every line's result. Baseline:
``POST /v1/invoices/bulk`` with 10,000 invoices (the per-request limit) against the same service, once
before and once after the import.

    .venv/bin/python -m bench.import_bench [--lines 50000] [--database sqlite|postgresql|both]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import httpx

from bench.bulk_bench import _run, _seed_customers
from bench.common import Figure, table
from bench.get_bench import factory_for, server, service_server
from shared.auth import mint_token
from shared.registry import settings_class

BULK = 10_000
PIECE = 64 * 1024


async def _pieces(body: bytes) -> AsyncIterator[bytes]:
    for start in range(0, len(body), PIECE):
        yield body[start : start + PIECE]


async def _bulk(client: httpx.AsyncClient, customers: list[uuid.UUID], tag: str) -> float:
    """Seconds of one POST /v1/invoices/bulk of BULK invoices."""
    started = time.perf_counter()
    response = await client.post("/v1/invoices/bulk", json={"invoices": _run(customers, BULK, tag)})
    assert response.status_code == 201, response.text[:500]
    return time.perf_counter() - started


async def _import(client: httpx.AsyncClient, body: bytes) -> tuple[float, float, dict[str, object]]:
    """Seconds from the upload's start to the job finished, seconds until the 202, and the finished job."""
    started = time.perf_counter()
    response = await client.post(
        "/v1/invoice-imports", content=_pieces(body), headers={"Content-Type": "application/x-ndjson"}
    )
    assert response.status_code == 202, response.text[:500]
    staged = time.perf_counter() - started
    location = response.headers["location"]
    while True:
        job = (await client.get(location)).json()
        if job["finished_at"]:
            return time.perf_counter() - started, staged, job
        await asyncio.sleep(0.05)


async def run(databases: list[str], lines: int) -> list[Figure]:
    figures = []
    for database in databases:
        factory = factory_for(database)
        try:
            url = await factory.create("collections")
            customers = await _seed_customers(url)
            body = b"".join(json.dumps(item).encode() + b"\n" for item in _run(customers, lines, "IMP"))
            command, env, port = service_server("collections", url)
            env["CREDITFLOW_COLLECTIONS_IMPORT_POLL_SECONDS"] = "0.05"
            token = mint_token(settings_class("collections")(), ["admin"], now=datetime.now(UTC))
            with server(command, env, port) as base:
                async with httpx.AsyncClient(
                    base_url=base, timeout=600, headers={"Authorization": f"Bearer {token}"}
                ) as client:
                    warm = await client.post("/v1/invoices/bulk", json={"invoices": _run(customers, 50, "WARM")})
                    warm.raise_for_status()
                    # The baseline runs before and after the import (the box's load moves within a run).
                    bulk_seconds = await _bulk(client, customers, "BULK-A")
                    seconds, staged, job = await _import(client, body)
                    assert job["status"] == "succeeded" and job["accepted"] == lines, job
                    bulk_seconds += await _bulk(client, customers, "BULK-B")
        finally:
            await factory.drop_all()
        rate, bulk_rate = lines / seconds, 2 * BULK / bulk_seconds
        print(
            f"{database} import {lines:,}: {rate:,.0f} invoices/s ({staged:.1f} s of {seconds:.1f} s staging the "
            f"upload); bulk {bulk_rate:,.0f}/s",
            flush=True,
        )
        figures.append(
            Figure(
                f"POST /v1/invoice-imports, {lines:,} NDJSON lines, upload to job finished",
                database,
                rate,
                "invoices/s",
                baseline=bulk_rate,
                baseline_label=f"POST /v1/invoices/bulk, {BULK:,}",
                min_ratio=0.5,
            )
        )
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lines", type=int, default=50_000)
    parser.add_argument("--database", choices=("sqlite", "postgresql", "both"), default="both")
    args = parser.parse_args()
    databases = ["sqlite", "postgresql"] if args.database == "both" else [args.database]
    print(table(asyncio.run(run(databases, args.lines))))


if __name__ == "__main__":
    main()
