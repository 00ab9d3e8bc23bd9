"""Sweep benchmark: 1,000,000 open invoices in PostgreSQL, one sweep moving about half of them.

Seeds (generate_series) 1,000,000 open invoices of 1,000 customers, each with a case at the letter
stage, due 1..58 days before ``as_of``: the 29 of 58 due dates at 30+ days overdue move to visit
(about 500,000 cases). The seeded database is a template (vacuumed and frozen); every measurement runs
on a fresh copy of it, so each starts from the same rows and pages:

* raw SQL: one ``WITH moved AS (UPDATE cases … RETURNING …) INSERT INTO outbox … SELECT`` statement
  (the event JSON built in SQL), the floor for "move the rows and write an event each" — the baseline,
  measured before and after the sweep, the faster of the two counts;
* raw SQL of the same writes (informational): the same statement plus one history row per move with its
  reason, and the event with every field the service writes;
* the service's sweep as deployed: ``POST /v1/sweeps`` to a collections process (keyset chunks, one
  transaction each: open cases, move cases with the CASE compiled from the policy, history rows,
  stage_entered / receivables_changed outbox rows, write-off review flags, agency recalls) while payments
  are posted (10/s) on invoices it sweeps, spread over the whole range it walks (``paid_invoice``).

Usage:

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

from bench.common import Figure
from bench.get_bench import server, service_server
from shared.auth import mint_token
from shared.migrations import upgrade
from shared.registry import settings_class

DB = "cf_bench"
SEED_DB = "cf_bench_seed"
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

# The event JSON built with to_json(row), as the service's sweep builds it: json_build_object looks every
# argument's type up again on each row and costs about 3x as much, which would flatter the sweep's ratio.
RAW = """
WITH moved AS (
    UPDATE cases SET previous_stage = stage, stage = 'visit', stage_rank = 1, updated_at = now(),
                     version = version + 1
    WHERE status = 'open' AND stage = 'letter' AND due_date <= DATE '{as_of}' - 30
    RETURNING id, invoice_id, customer_id, previous_stage, stage, due_date, currency, outstanding
)
INSERT INTO outbox (event_id, topic, key, event_type, source, subject, occurred_at, data, headers, created_at)
SELECT gen_random_uuid(), 'creditflow.collections', event.customer_id::text,
       'creditflow.collections.stage_entered.v1', '/creditflow/collections', event.customer_id::text, now(),
       to_json(event)::text, '{{}}', now()
FROM (SELECT customer_id, id AS case_id, invoice_id, stage, previous_stage, 'visit: days_overdue >= 30' AS rule,
             (DATE '{as_of}' - due_date) || ' days overdue' AS reason, 1 AS policy_version,
             DATE '{as_of}' - due_date AS days_overdue, currency, outstanding::text AS amount, false AS stop_supply,
             now() AS entered_at
      FROM moved) AS event
"""

# The same writes as the service's sweep (each move's history row with its reason, the event with every
# field StageEntered has), still one set-based statement: what "the sweep's work in raw SQL" costs.
RAW_SAME_WRITES = """
WITH moved AS (
    UPDATE cases SET previous_stage = stage, stage = 'visit', stage_rank = 1, last_broken_promise = promise_to_pay,
                     promise_to_pay = NULL, updated_at = now(), version = version + 1
    WHERE status = 'open' AND stage = 'letter' AND due_date <= DATE '{as_of}' - 30
    RETURNING id, invoice_id, customer_id, previous_stage, stage, due_date, currency, outstanding, disputed_amount
), reasons AS (
    SELECT moved.*, DATE '{as_of}' - due_date AS days,
           (DATE '{as_of}' - due_date) || ' days overdue since due date ' || due_date || ' (threshold 30); amount '
           || (outstanding - disputed_amount) || '; segment general; clause court; policy v1' AS reason
    FROM moved
), history_rows AS (
    INSERT INTO case_history (case_id, as_of, event, from_stage, to_stage, at, rule, reason, policy_version, actor)
    SELECT id, DATE '{as_of}', 'stage_entered', previous_stage, stage, now(), 'visit', reason, 1, 'sweep' FROM reasons
)
INSERT INTO outbox (event_id, topic, key, event_type, source, subject, occurred_at, data, headers, created_at)
SELECT gen_random_uuid(), 'creditflow.collections', event.customer_id::text,
       'creditflow.collections.stage_entered.v1', '/creditflow/collections', event.customer_id::text, now(),
       to_json(event)::text, '{{}}', now()
FROM (SELECT customer_id, id AS case_id, invoice_id, stage, previous_stage, 'visit' AS rule, reason,
             1 AS policy_version, days AS days_overdue, currency, (outstanding - disputed_amount)::text AS amount,
             false AS stop_supply, now() AS entered_at, DATE '{as_of}' AS as_of, false AS keep_supplying,
             NULL::text AS as_of_at
      FROM reasons) AS event
"""


def _dsn(admin_url: str, database: str) -> str:
    return admin_url.rsplit("/", 1)[0] + f"/{database}"


async def prepare(admin_url: str, invoices: int) -> str:
    """Seed the template database (vacuumed and frozen: a copy starts with every page clean)."""
    admin = await asyncpg.connect(admin_url)
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{SEED_DB}" WITH (FORCE)')
        await admin.execute(f'CREATE DATABASE "{SEED_DB}"')
    finally:
        await admin.close()
    dsn = _dsn(admin_url, SEED_DB)
    await asyncio.to_thread(upgrade, "collections", dsn.replace("postgresql://", "postgresql+asyncpg://", 1))
    conn = await asyncpg.connect(dsn)
    try:
        started = time.perf_counter()
        await conn.execute(SEED.format(as_of=AS_OF.isoformat(), n=invoices))
        await conn.execute("VACUUM (FREEZE, ANALYZE)")
        print(f"seeded {invoices:,} open invoices with cases in {time.perf_counter() - started:.1f} s")
    finally:
        await conn.close()
    return dsn


async def fresh_copy(admin_url: str) -> str:
    """A new copy of the seeded template: every measurement starts from the same rows and pages."""
    admin = await asyncpg.connect(admin_url)
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{DB}" WITH (FORCE)')
        await admin.execute(f'CREATE DATABASE "{DB}" TEMPLATE "{SEED_DB}" STRATEGY FILE_COPY')
    finally:
        await admin.close()
    return _dsn(admin_url, DB)


async def drop(admin_url: str, *databases: str) -> None:
    admin = await asyncpg.connect(admin_url)
    try:
        for database in databases:
            await admin.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
    finally:
        await admin.close()


async def timed_raw(admin_url: str, statement: str = RAW) -> tuple[float, int]:
    """``statement`` on a fresh copy: (seconds, cases moved)."""
    conn = await asyncpg.connect(await fresh_copy(admin_url))
    try:
        transaction = conn.transaction()
        await transaction.start()
        started = time.perf_counter()
        status = await conn.execute(statement.format(as_of=AS_OF.isoformat()))
        elapsed = time.perf_counter() - started
        await transaction.rollback()
    finally:
        await conn.close()
    return elapsed, int(status.split()[-1])


# Payment n goes to the n-th step of this stride through the 58-invoice groups of the seed, so the payments
# land all over the range the sweep walks (in no order the sweep could favour), not only in its first chunks.
# A prime: coprime with the group count of every seed size (1,724 at 100,000; 17,241 at 1,000,000), so no
# invoice is paid twice before every group has had one.
PAYMENT_STRIDE = 7919


def paid_invoice(n: int, invoices: int) -> int:
    """The seed's invoice number paid by payment ``n`` (1, 2, …): due 30+ days before as_of (one the sweep
    moves to visit), in a group spread over the whole range of ``invoices``."""
    group = (n * PAYMENT_STRIDE) % max(1, invoices // 58)
    return 29 + 58 * group + (n % 29)


async def timed_chunked_sweep_with_payments(
    dsn: str, payments_per_second: float, invoices: int
) -> tuple[float, int, list[float]]:
    """The sweep as deployed (POST /v1/sweeps to a collections process: keyset chunks, one transaction each)
    while payments are posted to invoices it sweeps, spread over its whole range; returns (seconds, cases
    moved, payment latencies ms)."""
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
                    # Until 2026-11-30 invoice 29 + 58 n + n % 29: the first ~3 % of the cases, which the
                    # sweep passed in its first chunk or two, so almost no payment met a chunk in flight.
                    invoice = paid_invoice(n, invoices)
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

            # One payment first, not counted: a fresh process's first request (imports, first compiled
            # statements) is not what a sweep costs a payment.
            warm_up = await client.post(
                "/v1/invoices/10000000-0000-4000-8000-000000000001/payments",
                json={"amount": "10.00", "paid_on": AS_OF.isoformat(), "reference": "BENCH-warm-up"},
            )
            if warm_up.status_code != 201:
                raise RuntimeError(f"payment failed: {warm_up.status_code} {warm_up.text[:300]}")
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


async def outbox_by_type(dsn: str) -> dict[str, int]:
    conn = await asyncpg.connect(dsn)
    try:
        rows = await conn.fetch("SELECT event_type, count(*) AS n FROM outbox GROUP BY event_type ORDER BY 2 DESC")
    finally:
        await conn.close()
    return {row["event_type"].removeprefix("creditflow.collections."): int(row["n"]) for row in rows}


async def measure(admin_url: str, invoices: int, keep: bool = False) -> list[Figure]:
    await prepare(admin_url, invoices)
    raw_before, raw_rows = await timed_raw(admin_url)
    print(f"raw SQL UPDATE … RETURNING + outbox INSERT … SELECT: {raw_rows:,} rows in {raw_before:.2f} s")
    same_before, _ = await timed_raw(admin_url, RAW_SAME_WRITES)
    print(f"raw SQL of the same writes (+ history rows, full events): {same_before:.2f} s")
    dsn = await fresh_copy(admin_url)
    sweep_seconds, moved, latencies = await timed_chunked_sweep_with_payments(
        dsn, payments_per_second=10, invoices=invoices
    )
    events = await outbox_by_type(dsn)
    raw_after, _ = await timed_raw(admin_url)
    same_after, _ = await timed_raw(admin_url, RAW_SAME_WRITES)
    print(f"after the sweep: raw SQL {raw_after:.2f} s, raw SQL of the same writes {same_after:.2f} s")
    baseline, same_writes = min(raw_before, raw_after), min(same_before, same_after)
    latencies.sort()
    p50 = statistics.median(latencies)
    p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
    print(
        f"service sweep (chunked, over HTTP): {moved:,} cases in {sweep_seconds:.2f} s; "
        f"{len(latencies)} payments meanwhile: p50 {p50:.0f} ms, p99 {p99:.0f} ms"
    )
    print(f"outbox rows by type after the sweep ({len(latencies)} payments' events included): {events}")
    ratio = baseline / sweep_seconds
    print(f"speed ratio sweep / raw = {ratio:.2f} (target >= 0.50): {'met' if ratio >= 0.5 else 'NOT met'}")
    print(f"speed ratio sweep / raw SQL of the same writes = {same_writes / sweep_seconds:.2f}")
    if not keep:
        await drop(admin_url, DB, SEED_DB)
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
            "sweep (keyset chunks, over HTTP), for information",
            "postgresql",
            moved / sweep_seconds,
            "cases/s",
            baseline=raw_rows / same_writes,
            baseline_label="raw SQL of the same writes: + history rows, full events",
            note="no target of its own",
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
    parser.add_argument(
        "--keep", action="store_true", help="keep the cf_bench databases (seeded template, swept copy) afterwards"
    )
    args = parser.parse_args()
    await measure(args.admin_url, args.invoices, args.keep)


if __name__ == "__main__":
    asyncio.run(main())
