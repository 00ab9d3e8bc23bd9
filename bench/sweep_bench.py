"""Sweep benchmark: 1,000,000 open invoices in PostgreSQL, one sweep moving about half of them.

Seeds (generate_series) 1,000,000 open invoices of 1,000 customers, each with a case at the letter
stage, due 1..58 days before ``as_of``: the 29 of 58 due dates at 30+ days overdue move to visit
(about 500,000 cases). In the same run, on the same rows, it times:

* raw SQL: one ``WITH moved AS (UPDATE cases … RETURNING …) INSERT INTO outbox … SELECT`` statement
  (the event JSON built in SQL), the floor for "move the rows and write an event each";
* the service's sweep (``services.collections.service.daily_sweep.run_sweep``): open cases, move cases (SQL CASE
  compiled from the policy), history rows, stage_entered / receivables_changed outbox rows, write-off
  review flags, agency recalls — everything a real sweep does, in one transaction.

Each is rolled back afterwards, so both start from the same data. Usage:

    .venv/bin/python -m bench.sweep_bench [--admin-url postgresql://postgres@127.0.0.1:5432/postgres]
                                          [--invoices 1000000] [--keep]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from datetime import UTC, date, datetime, timedelta

import asyncpg
import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine

from bench.common import Figure
from bench.get_bench import server, service_server
from services.collections.service import daily_sweep
from shared.auth import mint_token
from shared.migrations import upgrade
from shared.registry import settings_class

DB = "cf_bench"
AS_OF = date(2026, 6, 30)
NOW = datetime(2026, 6, 30, 9, tzinfo=UTC)

SEED = """
INSERT INTO known_customers (id, name, kind, lifecycle, segment, region, registered_at, updated_at)
SELECT ('00000000-0000-4000-8000-' || lpad(to_hex(c), 12, '0'))::uuid, 'Customer ' || c, 'commercial', 'active',
       'general', NULL, now(), now()
FROM generate_series(1, 1000) AS c;

INSERT INTO invoices (id, customer_id, number, number_key, issue_date, due_date, currency, amount, credit_terms,
                      principal_outstanding, interest_outstanding, interest_accrued_to, costs_outstanding,
                      discount_granted, status, paid_on, version, created_at, updated_at)
SELECT ('10000000-0000-4000-8000-' || lpad(to_hex(i), 12, '0'))::uuid,
       ('00000000-0000-4000-8000-' || lpad(to_hex(1 + i % 1000), 12, '0'))::uuid,
       'INV-' || i, 'inv-' || i, DATE '{as_of}' - (31 + i % 58), DATE '{as_of}' - (1 + i % 58), 'CNY', 5000.00, 'n/30',
       5000.00, 0, NULL, 0, 0, 'open', NULL, 1, now(), now()
FROM generate_series(1, {n}) AS i;

INSERT INTO cases (id, invoice_id, customer_id, stage, stage_rank, previous_stage, last_broken_promise, status,
                   segment, route, clause_kind, commission, due_date, currency, outstanding, disputed_amount,
                   promise_to_pay, malicious, write_off_review, resolution, opened_at, closed_at, version,
                   created_at, updated_at)
SELECT ('20000000-0000-4000-8000-' || lpad(to_hex(i), 12, '0'))::uuid,
       ('10000000-0000-4000-8000-' || lpad(to_hex(i), 12, '0'))::uuid,
       ('00000000-0000-4000-8000-' || lpad(to_hex(1 + i % 1000), 12, '0'))::uuid,
       'letter', 0, NULL, NULL, 'open', 'general', 'court', 'court', NULL, DATE '{as_of}' - (1 + i % 58), 'CNY',
       5000.00, 0, NULL, false, false, NULL, now(), NULL, 1, now(), now()
FROM generate_series(1, {n}) AS i;
ANALYZE;
"""

RAW = """
WITH moved AS (
    UPDATE cases SET previous_stage = stage, stage = 'visit', stage_rank = 1, updated_at = now(),
                     version = version + 1
    WHERE status = 'open' AND stage = 'letter' AND due_date <= DATE '{as_of}' - 30
    RETURNING id, invoice_id, customer_id, previous_stage, stage, due_date, currency, outstanding
)
INSERT INTO outbox (event_id, topic, key, event_type, source, subject, occurred_at, data, headers, created_at)
SELECT gen_random_uuid(), 'creditflow.collections', customer_id::text, 'creditflow.collections.stage_entered.v1',
       '/creditflow/collections', customer_id::text, now(),
       json_build_object('customer_id', customer_id, 'case_id', id, 'invoice_id', invoice_id, 'stage', stage,
                         'previous_stage', previous_stage, 'rule', 'visit: days_overdue >= 30',
                         'reason', (DATE '{as_of}' - due_date) || ' days overdue', 'policy_version', 1,
                         'days_overdue', DATE '{as_of}' - due_date, 'currency', currency,
                         'amount', outstanding::text, 'stop_supply', false, 'entered_at', now())::text,
       '{{}}', now()
FROM moved
"""


async def prepare(admin_url: str, invoices: int) -> str:
    admin = await asyncpg.connect(admin_url)
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{DB}" WITH (FORCE)')
        await admin.execute(f'CREATE DATABASE "{DB}"')
    finally:
        await admin.close()
    dsn = admin_url.rsplit("/", 1)[0] + f"/{DB}"
    await asyncio.to_thread(upgrade, "collections", dsn.replace("postgresql://", "postgresql+asyncpg://", 1))
    conn = await asyncpg.connect(dsn)
    try:
        started = time.perf_counter()
        await conn.execute(SEED.format(as_of=AS_OF.isoformat(), n=invoices))
        print(f"seeded {invoices:,} open invoices with cases in {time.perf_counter() - started:.1f} s")
    finally:
        await conn.close()
    return dsn


async def timed_raw(dsn: str) -> tuple[float, int]:
    conn = await asyncpg.connect(dsn)
    try:
        transaction = conn.transaction()
        await transaction.start()
        started = time.perf_counter()
        status = await conn.execute(RAW.format(as_of=AS_OF.isoformat()))
        elapsed = time.perf_counter() - started
        await transaction.rollback()
    finally:
        await conn.close()
    return elapsed, int(status.split()[-1])


async def timed_sweep(dsn: str) -> tuple[float, int, dict[str, int]]:
    engine = create_async_engine(dsn.replace("postgresql://", "postgresql+asyncpg://", 1))
    sessions = async_sessionmaker(engine, expire_on_commit=False)
    try:
        async with sessions() as session:
            transaction = await session.begin()
            started = time.perf_counter()
            outcome = await daily_sweep.run_sweep(session, AS_OF, NOW)
            elapsed = time.perf_counter() - started
            outbox = await session.scalar(text("SELECT count(*) FROM outbox"))
            await transaction.rollback()
    finally:
        await engine.dispose()
    print(
        f"  sweep: {outcome.cases_moved:,} cases moved, {outbox:,} outbox rows, stages {dict(outcome.stages_entered)}"
    )
    return elapsed, outcome.cases_moved, dict(outcome.stages_entered)


async def timed_chunked_sweep_with_payments(dsn: str, payments_per_second: float) -> tuple[float, int, list[float]]:
    """The sweep as deployed (POST /v1/sweeps to a collections process: keyset chunks, one transaction each)
    while payments are posted to invoices it sweeps; returns (seconds, cases moved, payment latencies ms)."""
    url = dsn.replace("postgresql://", "postgresql+asyncpg://", 1)
    command, env, port = service_server("collections", url)
    token = mint_token(settings_class("collections")(), ["admin"], now=datetime.now(UTC), ttl=timedelta(hours=2))
    latencies: list[float] = []
    with server(command, env, port) as base:
        async with httpx.AsyncClient(
            base_url=base, timeout=600, headers={"Authorization": f"Bearer {token}"}
        ) as client:
            done = asyncio.Event()

            async def pay() -> None:
                n = 0
                while not done.is_set():
                    n += 1
                    # Invoices due 30+ days before as_of: the ones the sweep moves to visit.
                    invoice = 29 + 58 * n + (n % 29)
                    invoice_id = f"10000000-0000-4000-8000-{invoice:012x}"
                    started = time.perf_counter()
                    response = await client.post(
                        f"/v1/invoices/{invoice_id}/payments",
                        json={"amount": "10.00", "paid_on": AS_OF.isoformat(), "reference": f"BENCH-{n}"},
                    )
                    if response.status_code != 201:
                        raise RuntimeError(f"payment failed: {response.status_code} {response.text[:300]}")
                    latencies.append((time.perf_counter() - started) * 1000)
                    await asyncio.sleep(1 / payments_per_second)

            payer = asyncio.create_task(pay())
            await asyncio.sleep(1.0)  # payments before the sweep too: the figure is the whole window
            started = time.perf_counter()
            response = await client.post("/v1/sweeps", json={"as_of": AS_OF.isoformat()})
            elapsed = time.perf_counter() - started
            done.set()
            await payer
            if response.status_code != 200:
                raise RuntimeError(f"sweep failed: {response.status_code} {response.text[:300]}")
            moved = int(response.json()["cases_moved"])
    return elapsed, moved, latencies


async def measure(admin_url: str, invoices: int, keep: bool = False) -> list[Figure]:
    dsn = await prepare(admin_url, invoices)
    raw_seconds, raw_rows = await timed_raw(dsn)
    print(f"raw SQL UPDATE … RETURNING + outbox INSERT … SELECT: {raw_rows:,} rows in {raw_seconds:.2f} s")
    raw_again, _ = await timed_raw(dsn)
    print(f"raw SQL again (cache warm): {raw_again:.2f} s")
    baseline = min(raw_seconds, raw_again)
    sweep_seconds, moved, latencies = await timed_chunked_sweep_with_payments(dsn, payments_per_second=10)
    latencies.sort()
    p50 = statistics.median(latencies)
    p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
    print(
        f"service sweep (chunked, over HTTP): {moved:,} cases in {sweep_seconds:.2f} s; "
        f"{len(latencies)} payments meanwhile: p50 {p50:.0f} ms, p99 {p99:.0f} ms"
    )
    ratio = baseline / sweep_seconds
    print(f"speed ratio sweep / raw = {ratio:.2f} (target >= 0.50): {'met' if ratio >= 0.5 else 'NOT met'}")
    if not keep:
        admin = await asyncpg.connect(admin_url)
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{DB}" WITH (FORCE)')
        finally:
            await admin.close()
    return [
        Figure(
            "sweep (keyset chunks, over HTTP)",
            "postgresql",
            moved / sweep_seconds,
            "cases/s",
            baseline=raw_rows / baseline,
            baseline_label="raw set-based SQL",
            min_ratio=0.5,
            note=f"{invoices:,} invoices, {moved:,} moved",
        ),
        Figure(
            "payment posted during the sweep, p99",
            "postgresql",
            p99,
            "ms",
            max_value=250,
            note=f"{len(latencies)} payments, p50 {p50:.0f} ms",
        ),
    ]


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--admin-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--invoices", type=int, default=1_000_000)
    parser.add_argument("--keep", action="store_true", help="keep the cf_bench database afterwards")
    args = parser.parse_args()
    await measure(args.admin_url, args.invoices, args.keep)


if __name__ == "__main__":
    asyncio.run(main())
