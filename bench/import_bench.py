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

import asyncio
import json
import time
import uuid
from collections.abc import AsyncIterator

import httpx

from bench.common import Figure, bench_main, billing_run, collections_over_http, seed_customers
from bench.get_bench import factory_for

BULK = 10_000
PIECE = 64 * 1024


async def _pieces(body: bytes) -> AsyncIterator[bytes]:
    for start in range(0, len(body), PIECE):
        yield body[start : start + PIECE]


async def _bulk(client: httpx.AsyncClient, customers: list[uuid.UUID], tag: str) -> float:
    """Seconds of one POST /v1/invoices/bulk of BULK invoices."""
    started = time.perf_counter()
    response = await client.post("/v1/invoices/bulk", json={"invoices": billing_run(customers, BULK, tag)})
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
            customers = await seed_customers(url)
            body = b"".join(json.dumps(item).encode() + b"\n" for item in billing_run(customers, lines, "IMP"))
            poll = {"CREDITFLOW_COLLECTIONS_IMPORT_POLL_SECONDS": "0.05"}
            async with collections_over_http(url, customers, poll) as client:
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
    bench_main(__doc__, run, "lines", 50_000)


if __name__ == "__main__":
    main()
