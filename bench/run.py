"""`make bench`: every path of issue 11 against its baseline measured in the same run, in ONE table.

    .venv/bin/python -m bench.run            # full sizes (about 15-25 minutes on the 2-core box)
    .venv/bin/python -m bench.run --quick    # small sizes (a few minutes): the same table, noisier
    .venv/bin/python -m bench.run --only get,events --database postgresql

Parts: get (GET by id vs bare FastAPI, wrk), events (latency and per-consumer throughput), relay (outbox
relay vs raw producer, inbox consumer vs raw SQL), bulk (billing run over HTTP vs raw unnest INSERTs), import
(a streamed NDJSON import to its job finished vs the bulk endpoint),
sweep (chunked sweep over HTTP vs raw SQL, payments meanwhile). PostgreSQL at CREDITFLOW_BENCH_PG_URL (default
postgresql://postgres@127.0.0.1:5432/postgres). Ratios are what count: the box is shared and loaded.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import traceback
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

from bench.common import PG_ADMIN_URL, Figure, asyncpg_url, table

SIZES = {
    "full": {
        "get_seconds": 10,
        "events": 20000,
        "samples": 200,
        "sweep_events": 5000,
        "relay": 20000,
        "bulk": 10_000,
        "import": 50_000,
        "sweep": 1_000_000,
    },
    "quick": {
        "get_seconds": 4,
        # Each type must span several fetches (consumer_batch_size 1,000): the first is left out of the rate.
        "events": 20000,
        "samples": 60,
        "sweep_events": 2000,
        "relay": 5000,
        "bulk": 10_000,
        "import": 50_000,
        "sweep": 100_000,
    },
}


async def _get(databases: list[str], size: dict[str, int]) -> list[Figure]:
    from bench import get_bench

    return await get_bench.run(databases, size["get_seconds"], 32)


async def _events(databases: list[str], size: dict[str, int]) -> list[Figure]:
    from bench import events_bench

    return await events_bench.run(databases, size["events"], size["samples"], sweep_invoices=size["sweep_events"])


async def _relay(databases: list[str], size: dict[str, int]) -> list[Figure]:
    from bench import relay_bench

    figures = []
    for database in databases:
        os.environ.pop("CREDITFLOW_BENCH_DATABASE_URL", None)
        if database == "postgresql":
            os.environ["CREDITFLOW_BENCH_DATABASE_URL"] = asyncpg_url()
        figures += await relay_bench.main(size["relay"])
    return figures


async def _bulk(databases: list[str], size: dict[str, int]) -> list[Figure]:
    from bench import bulk_bench

    return await bulk_bench.run(databases, size["bulk"])


async def _import(databases: list[str], size: dict[str, int]) -> list[Figure]:
    from bench import import_bench

    return await import_bench.run(databases, size["import"])


async def _billing(databases: list[str], size: dict[str, int]) -> list[Figure]:
    from bench import billing_bench

    return await billing_bench.run(databases, size["bulk"])


async def _sweep(databases: list[str], size: dict[str, int]) -> list[Figure]:
    from bench import sweep_bench

    return await sweep_bench.measure(PG_ADMIN_URL, size["sweep"])


PARTS: dict[str, Callable[[list[str], dict[str, int]], Awaitable[list[Figure]]]] = {
    "get": _get,
    "events": _events,
    "relay": _relay,
    "bulk": _bulk,
    "import": _import,
    "billing": _billing,
    "sweep": _sweep,
}


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="small sizes: minutes, not tens of minutes")
    parser.add_argument("--only", default=",".join(PARTS), help=f"comma-separated parts of {', '.join(PARTS)}")
    parser.add_argument("--database", choices=("sqlite", "postgresql", "both"), default="both")
    args = parser.parse_args()
    size = SIZES["quick" if args.quick else "full"]
    databases = ["sqlite", "postgresql"] if args.database == "both" else [args.database]
    started = datetime.now(UTC)
    load = os.getloadavg()
    figures: list[Figure] = []
    failed: list[str] = []
    for name in args.only.split(","):
        print(f"--- {name}", flush=True)
        try:
            figures += await PARTS[name](databases, size)
        except Exception:
            traceback.print_exc()
            failed.append(name)
    print()
    print(
        f"creditflow bench {'quick' if args.quick else 'full'}, {started:%Y-%m-%d %H:%M} UTC, "
        f"{os.cpu_count()} CPUs, load average at start {load[0]:.1f} / end {os.getloadavg()[0]:.1f}, "
        f"Python {platform.python_version()}"
    )
    print(table(figures))
    met = sum(figure.met for figure in figures)
    print(f"\n{met} of {len(figures)} targets met" + (f"; parts that failed: {', '.join(failed)}" if failed else ""))


if __name__ == "__main__":
    asyncio.run(main())
