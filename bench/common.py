"""What every bench returns, and the one table `make bench` prints."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import httpx

    from shared.consumer import InboxConsumer
    from shared.db import Database

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

PG_ADMIN_URL = os.environ.get("CREDITFLOW_BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
"""The PostgreSQL the benches use (a plain libpq URL; asyncpg form derived from it)."""


def asyncpg_url(url: str = PG_ADMIN_URL) -> str:
    return url.replace("postgresql://", "postgresql+asyncpg://", 1)


CUSTOMERS = 1000
"""Known customers a billing run is spread over."""


async def seed_customers(url: str) -> list[uuid.UUID]:
    """CUSTOMERS known customers in a collections database (as if their registration events had arrived)."""
    from services.collections.models import KnownCustomer
    from shared.db import Database

    ids = [uuid.uuid4() for _ in range(CUSTOMERS)]
    now = datetime.now(UTC)
    db = Database(url)
    try:
        async with db.transaction() as session:
            await session.execute(
                KnownCustomer.__table__.insert(),  # type: ignore[attr-defined]
                [
                    {
                        "id": i,
                        "name": f"C {n}",
                        "kind": "commercial",
                        "lifecycle": "active",
                        "segment": "general",
                        "registered_at": now,
                        "updated_at": now,
                    }
                    for n, i in enumerate(ids)
                ],
            )
    finally:
        await db.dispose()
    return ids


def billing_run(customers: list[uuid.UUID], count: int, tag: str) -> list[dict[str, str]]:
    """``count`` bulk items over ``customers``, numbered ``<tag>-000000`` on."""
    return [
        {
            "customer_id": str(customers[n % len(customers)]),
            "number": f"{tag}-{n:06d}",
            "issue_date": "2026-01-01",
            "currency": "CNY",
            "amount": "1250.00",
            "credit_terms": "n/30",
        }
        for n in range(count)
    ]


@asynccontextmanager
async def collections_over_http(
    url: str, customers: list[uuid.UUID], env: dict[str, str] | None = None
) -> AsyncIterator[httpx.AsyncClient]:
    """Collections as deployed (uvicorn, one worker) on ``url``, an admin client, warmed with one small bulk call."""
    import httpx

    from bench.get_bench import server, service_server
    from shared.auth import mint_token
    from shared.registry import settings_class

    command, service_env, port = service_server("collections", url)
    service_env.update(env or {})
    token = mint_token(settings_class("collections")(), ["admin"], now=datetime.now(UTC))
    with server(command, service_env, port) as base:
        async with httpx.AsyncClient(
            base_url=base, timeout=600, headers={"Authorization": f"Bearer {token}"}
        ) as client:
            warm = await client.post("/v1/invoices/bulk", json={"invoices": billing_run(customers, 50, "WARM")})
            warm.raise_for_status()
            yield client


async def applied_rate(consumer: InboxConsumer, db: Database, counted: Any, expected: int) -> float:
    """Rows/s ``consumer`` applies (run here, stopped after) from its first row until ``counted`` holds ``expected``.

    Timed from the first applied row, so the group join and the first fetch are not part of the rate.
    """
    from sqlalchemy import func, select

    task = asyncio.create_task(consumer.run())
    first: tuple[float, int] | None = None
    try:
        while True:
            async with db.transaction(read_only=True) as session:
                applied = int(await session.scalar(select(func.count()).select_from(counted)) or 0)
            if applied and first is None:
                first = (time.perf_counter(), applied)
            if applied >= expected:
                break
            await asyncio.sleep(0.02)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await consumer.stop()
    assert first is not None
    if first[1] >= expected:
        raise RuntimeError(
            f"all {expected} rows were applied in the first fetch, which the rate leaves out: measure more rows "
            f"than consumer_batch_size ({consumer.settings.consumer_batch_size})"
        )
    elapsed = time.perf_counter() - first[0]
    return (expected - first[1]) / elapsed if elapsed > 0 else float("inf")


@dataclass
class Figure:
    """One row of the table: a path, its measurement, the baseline of the same run and the target.

    ``ratio`` is measured / baseline for throughput (higher is better). Targets are either a minimum ratio
    (``min_ratio``), a minimum absolute value (``min_value``), or a maximum (``max_value``, latencies).
    """

    path: str
    database: str
    measured: float
    unit: str
    baseline: float | None = None
    baseline_label: str = ""
    min_ratio: float | None = None
    min_value: float | None = None
    max_value: float | None = None
    note: str = ""

    @property
    def ratio(self) -> float | None:
        if self.baseline in (None, 0):
            return None
        return self.measured / self.baseline  # type: ignore[operator]

    @property
    def target(self) -> str:
        parts = []
        if self.min_ratio is not None:
            parts.append(f">= {self.min_ratio:g}x {self.baseline_label or 'baseline'}")
        if self.min_value is not None:
            parts.append(f">= {self.min_value:,g} {self.unit}")
        if self.max_value is not None:
            parts.append(f"<= {self.max_value:,g} {self.unit}")
        return ", ".join(parts) or "-"

    @property
    def met(self) -> bool:
        ok = True
        if self.min_ratio is not None:
            ok = ok and self.ratio is not None and self.ratio >= self.min_ratio
        if self.min_value is not None:
            ok = ok and self.measured >= self.min_value
        if self.max_value is not None:
            ok = ok and self.measured <= self.max_value
        return ok


def _number(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:,.2f}"


def table(figures: list[Figure]) -> str:
    """A Markdown table (pastes into bench/README.md as it is)."""
    lines = [
        "| path | db | measured | baseline (same run) | ratio | target | met |",
        "|---|---|---|---|---|---|---|",
    ]
    for f in figures:
        baseline = f"{_number(f.baseline)} ({f.baseline_label})" if f.baseline is not None else "-"
        ratio = f"{f.ratio:.2f}" if f.ratio is not None else "-"
        note = f" — {f.note}" if f.note else ""
        lines.append(
            f"| {f.path}{note} | {f.database} | {_number(f.measured)} {f.unit} | {baseline} | {ratio} | {f.target} "
            f"| {'yes' if f.met else '**no**'} |"
        )
    return "\n".join(lines)


def bench_main(
    doc: str | None,
    run: Callable[[list[str], int], Awaitable[list[Figure]]],
    count_option: str,
    count: int,
    database: str = "both",
) -> None:
    """The command line of a bench that takes a size (``--<count_option>``) and ``--database``; prints its table."""
    parser = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(f"--{count_option}", type=int, default=count)
    parser.add_argument("--database", choices=("sqlite", "postgresql", "both"), default=database)
    args = parser.parse_args()
    databases = ["sqlite", "postgresql"] if args.database == "both" else [args.database]
    print(table(asyncio.run(run(databases, getattr(args, count_option)))))
