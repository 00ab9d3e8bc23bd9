"""Chaos run: the suite as separate processes on PostgreSQL, a workload, kill -9 of the broker and of each
service at random moments, restarts; then the invariants, checked straight in the four databases.

Workload: customers registered over HTTP, bulk invoices (due in H1 2026), two sweeps that open and escalate
cases, payments. Faults, at random moments while the workload runs: the memory-only broker killed with
SIGKILL and restarted empty (twice), every service killed with SIGKILL and restarted (credit twice).
Clients retry with the same Idempotency-Key, as a real client would.

Invariants (polled until they hold or --converge-timeout passes):
  1. every outbox row of every service is published;
  2. every consumer's inbox holds every event of the types it subscribes to, once;
  3. credit's open receivables, overdue amount and collection stage per customer equal what collections'
     rows imply (re-summed from every open invoice of collections' database: tests/support/receivables.py);
  4. the registry's overview agrees: the same figures, the open cases and their stages, credit's hold;
     a customer whose furthest open stage is past the stop-supply stage is on hold.

Prints the figures (events, faults, seconds to converge after the last fault) and exits 1 on any violation.

    .venv/bin/python bench/chaos.py [--admin-url postgresql://postgres@127.0.0.1:5432/postgres]
                                    [--customers 200] [--invoices 25] [--payments 300] [--seed 7]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import asyncpg
import httpx

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from shared.auth import mint_token  # noqa: E402
from shared.broker import EmbeddedBroker, free_port  # noqa: E402
from shared.processes import start_tied_child  # noqa: E402
from shared.registry import SERVICES, app_factory, settings_class  # noqa: E402

STABLE_CHECKS = 4
STOP_SUPPLY_RANK = 2  # agency: the default stop-supply stage of credit's policy
STAGE_RANKS = {"letter": 0, "visit": 1, "agency": 2, "arbitration": 3, "litigation": 3}


class Suite:
    """The broker and the four service processes, each killable and restartable."""

    def __init__(self, admin_url: str, workdir: Path) -> None:
        self.admin_url = admin_url
        self.workdir = workdir
        self.broker_port = free_port()
        self.broker: EmbeddedBroker | None = None
        self.ports = {name: free_port() for name in SERVICES}
        self.processes: dict[str, subprocess.Popen[bytes]] = {}
        self.faults: list[tuple[float, str]] = []
        self.lock = threading.Lock()

    def database(self, name: str) -> str:
        return f"cf_chaos_{name}"

    def url(self, name: str, driver: str = "postgresql+asyncpg") -> str:
        base = self.admin_url.rsplit("/", 1)[0].split("://", 1)[1]
        return f"{driver}://{base}/{self.database(name)}"

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("CREDITFLOW_")}
        for name in SERVICES:
            prefix = f"CREDITFLOW_{name.upper()}_"
            env |= {
                prefix + "PORT": str(self.ports[name]),
                prefix + "DATABASE_URL": self.url(name),
                prefix + "KAFKA_BOOTSTRAP_SERVERS": f"127.0.0.1:{self.broker_port}",
                prefix + "LOG_LEVEL": "WARNING",
                prefix + "HTTP_RATE_LIMIT": "",
                prefix + "RELAY_BROKER_CHECK_INTERVAL_SECONDS": "2",
                prefix + "CONSUMER_MAX_RETRY_BACKOFF_SECONDS": "2",
            }
        env["CREDITFLOW_COLLECTIONS_SWEEP_ENABLED"] = "false"
        return env

    async def create_databases(self) -> None:
        admin = await asyncpg.connect(self.admin_url.replace("+asyncpg", ""))
        try:
            for name in SERVICES:
                await admin.execute(f'DROP DATABASE IF EXISTS "{self.database(name)}" WITH (FORCE)')
                await admin.execute(f'CREATE DATABASE "{self.database(name)}"')
        finally:
            await admin.close()

    def migrate(self) -> None:
        subprocess.run([sys.executable, "-m", "shared.cli", "migrate"], env=self.env(), check=True, cwd=self.workdir)

    def start_broker(self) -> None:
        from shared.kafka import create_suite_topics

        self.broker = EmbeddedBroker(self.broker_port, log_path=self.workdir / "broker.log").start()
        asyncio.run(create_suite_topics(f"127.0.0.1:{self.broker_port}"))

    def start(self, name: str) -> None:
        log = open(self.workdir / f"{name}.log", "ab")  # the child process owns it
        self.processes[name] = start_tied_child(
            [sys.executable, "-m", "shared.cli", "serve", name],
            env=self.env(),
            cwd=self.workdir,
            stdout=log,
            stderr=log,
        )

    def kill(self, target: str, started: float) -> None:
        """SIGKILL the broker or a service, wait a moment, start it again."""
        with self.lock:
            if target == "broker":
                assert self.broker is not None and self.broker.process is not None
                os.kill(self.broker.process.pid, signal.SIGKILL)
                self.broker.process.wait()
                time.sleep(random.uniform(1, 3))
                self.start_broker()
            else:
                process = self.processes[target]
                os.kill(process.pid, signal.SIGKILL)
                process.wait()
                time.sleep(random.uniform(1, 3))
                self.start(target)
            self.faults.append((time.monotonic() - started, target))
            print(f"  fault: kill -9 {target} at {self.faults[-1][0]:.1f}s", flush=True)

    def stop(self) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in self.processes.values():
            try:
                process.wait(20)
            except subprocess.TimeoutExpired:
                process.kill()
        if self.broker is not None:
            self.broker.stop()


class Client:
    """HTTP with retries: connection errors, 5xx and 429 are retried with the same Idempotency-Key."""

    def __init__(self, suite: Suite) -> None:
        settings = settings_class("customers")()
        token = mint_token(settings, ["admin"], now=datetime.now(UTC), ttl=timedelta(hours=12))
        self.http = httpx.Client(timeout=60, headers={"Authorization": f"Bearer {token}"})
        self.suite = suite

    def call(self, method: str, service: str, path: str, body: Any = None, deadline: float = 600) -> Any:
        url = f"http://127.0.0.1:{self.suite.ports[service]}{path}"
        headers = {"Idempotency-Key": uuid.uuid4().hex} if method == "POST" else {}
        give_up = time.monotonic() + deadline
        while True:
            try:
                response = self.http.request(method, url, json=body, headers=headers)
                if response.status_code < 500 and response.status_code != 429:
                    if response.status_code >= 400:
                        raise RuntimeError(f"{method} {path}: {response.status_code} {response.text[:300]}")
                    return response.json()
            except httpx.HTTPError:
                pass
            if time.monotonic() > give_up:
                raise RuntimeError(f"{method} {path}: no answer within {deadline}s")
            time.sleep(0.5)


def workload(client: Client, suite: Suite, customers: int, invoices: int, payments: int) -> dict[str, int]:
    """Register customers, bill them, sweep twice, take payments; returns what it did."""
    ids = []
    for n in range(customers):
        body = {"name": f"Chaos {n}", "kind": "commercial", "lifecycle": "active", "tax_id": f"CHAOS-{n:05d}"}
        ids.append(client.call("POST", "customers", "/v1/customers", body)["id"])
    wait_until(lambda: asyncio.run(count(suite, "collections", "known_customers")) >= customers, "collections")
    invoice_ids: list[str] = []
    for customer_index, customer_id in enumerate(ids):
        billing_run = [
            {
                "customer_id": customer_id,
                "number": f"CH-{customer_index}-{n}",
                "issue_date": str(date(2026, 1, 1) + timedelta(days=n)),
                "due_date": str(date(2026, 2, 1) + timedelta(days=(n * 7 + customer_index) % 120)),
                "currency": "CNY",
                "amount": f"{1000 + (n * 37 + customer_index) % 9000}.{n % 100:02d}",
            }
            for n in range(invoices)
        ]
        created = client.call("POST", "collections", "/v1/invoices/bulk", {"invoices": billing_run})
        invoice_ids += [item["id"] for item in created["items"]]
    for as_of in ("2026-06-30", "2026-09-30"):
        client.call("POST", "collections", "/v1/sweeps", {"as_of": as_of}, deadline=900)
    paid = 0
    for invoice_id in random.sample(invoice_ids, min(payments, len(invoice_ids))):
        try:
            client.call("POST", "collections", f"/v1/invoices/{invoice_id}/payments", {"amount": "100.00"})
            paid += 1
        except RuntimeError as refused:  # e.g. a written-off invoice: a business answer, not a fault
            print(f"  payment refused: {refused}", flush=True)
    return {"customers": len(ids), "invoices": len(invoice_ids), "payments": paid}


def wait_until(probe: Callable[[], bool], what: str, timeout: float = 600) -> None:
    deadline = time.monotonic() + timeout
    while not probe():
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out waiting for {what}")
        time.sleep(1)


async def count(suite: Suite, service: str, table: str) -> int:
    connection = await asyncpg.connect(suite.url(service, "postgresql"))
    try:
        return int(await connection.fetchval(f"SELECT count(*) FROM {table}"))
    finally:
        await connection.close()


async def violations(suite: Suite) -> tuple[list[str], dict[str, int]]:
    """Every invariant broken right now (empty when the suite has converged), and the event counts."""
    from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine

    from tests.support.receivables import resummed_receivables_events

    found: list[str] = []
    db = {name: await asyncpg.connect(suite.url(name, "postgresql")) for name in SERVICES}
    try:
        published = {name: int(await db[name].fetchval("SELECT count(*) FROM outbox")) for name in SERVICES}
        for name in SERVICES:
            pending = await db[name].fetchval("SELECT count(*) FROM outbox WHERE published_at IS NULL")
            if pending:
                found.append(f"{name}: {pending} outbox rows unpublished")
        for name in SERVICES:
            types = sorted(event.event_type for event in app_factory(name)(configure_logs=False).state.spec.handlers)
            expected: set[str] = set()
            for producer in SERVICES:
                rows = await db[producer].fetch("SELECT event_id FROM outbox WHERE event_type = ANY($1)", types)
                expected |= {str(row["event_id"]) for row in rows}
            applied = await db[name].fetch(
                "SELECT event_id, count(*) AS n FROM inbox WHERE consumer = $1 GROUP BY event_id", f"creditflow-{name}"
            )
            seen = {row["event_id"]: row["n"] for row in applied}
            missing = expected - set(seen)
            twice = [event for event, n in seen.items() if n > 1]
            if missing:
                found.append(f"{name}: {len(missing)} subscribed events not in its inbox")
            if twice:
                found.append(f"{name}: {len(twice)} events applied more than once")

        engine = create_async_engine(suite.url("collections"))
        try:
            async with AsyncSession(engine) as session:
                customer_ids = {row["id"] for row in await db["collections"].fetch("SELECT id FROM known_customers")}
                truth = {
                    event.customer_id: event
                    for event in await resummed_receivables_events(
                        session, customer_ids, datetime.now(UTC).date(), datetime.now(UTC)
                    )
                    if event.currency == "CNY"
                }
        finally:
            await engine.dispose()
        credit = {
            row["customer_id"]: row
            for row in await db["credit"].fetch(
                "SELECT customer_id, open_receivables, overdue_amount, collection_stage, on_hold FROM credit_profiles"
            )
        }
        overview = {
            row["customer_id"]: row
            for row in await db["customers"].fetch(
                "SELECT customer_id, open_receivables, overdue_amount, open_case_stages, credit_hold"
                " FROM customer_overview"
            )
        }
        open_cases: dict[uuid.UUID, dict[str, str]] = {}
        for row in await db["collections"].fetch(
            "SELECT id, customer_id, stage FROM cases WHERE status IN ('open', 'on_hold')"
        ):
            open_cases.setdefault(row["customer_id"], {})[str(row["id"])] = row["stage"]
        disagree = {"credit figures": 0, "credit stage": 0, "registry figures": 0, "registry stages": 0}
        disagree |= {"registry hold": 0, "hold past stop-supply": 0}
        for customer_id, expected_event in truth.items():
            figures = (expected_event.open_receivables, expected_event.overdue_amount)
            profile = credit.get(customer_id)
            if profile is None or (profile["open_receivables"], _money(profile["overdue_amount"])) != figures:
                disagree["credit figures"] += 1
            elif profile["collection_stage"] != expected_event.highest_open_stage:
                disagree["credit stage"] += 1
            row = overview.get(customer_id)
            if row is None or (_money(row["open_receivables"]), _money(row["overdue_amount"])) != figures:
                disagree["registry figures"] += 1
                continue
            if _json(row["open_case_stages"]) != open_cases.get(customer_id, {}):
                disagree["registry stages"] += 1
            if profile is not None and row["credit_hold"] != profile["on_hold"]:
                disagree["registry hold"] += 1
            furthest = max((STAGE_RANKS[s] for s in open_cases.get(customer_id, {}).values()), default=-1)
            if (
                furthest >= STOP_SUPPLY_RANK
                and expected_event.overdue_amount > 0
                and not (profile and profile["on_hold"])
            ):
                disagree["hold past stop-supply"] += 1
        found += [f"{what}: {n} of {len(truth)} customers disagree" for what, n in disagree.items() if n]
        return found, published
    finally:
        for connection in db.values():
            await connection.close()


def _money(value: Any) -> Decimal | None:
    return None if value is None else Decimal(value).quantize(Decimal("0.01"))


def _json(value: Any) -> Any:
    import json

    return json.loads(value) if isinstance(value, str) else value


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--admin-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--customers", type=int, default=200)
    parser.add_argument("--invoices", type=int, default=25, help="per customer, in one bulk request")
    parser.add_argument("--payments", type=int, default=300)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--converge-timeout", type=float, default=900)
    args = parser.parse_args()
    random.seed(args.seed)
    workdir = REPO / "var" / "chaos"
    workdir.mkdir(parents=True, exist_ok=True)
    suite = Suite(args.admin_url, workdir)
    started = time.monotonic()
    try:
        asyncio.run(suite.create_databases())
        suite.migrate()
        suite.start_broker()
        for name in SERVICES:
            suite.start(name)
        client = Client(suite)
        for name in SERVICES:
            wait_until(lambda name=name: _ready(client, suite, name), f"{name} /readyz", 120)
        plan = ["broker", "broker", "customers", "credit", "credit", "collections", "survey"]
        random.shuffle(plan)
        done = threading.Event()

        def inject() -> None:
            for target in plan:
                if done.wait(random.uniform(5, 25)):
                    return
                suite.kill(target, started)

        injector = threading.Thread(target=inject, daemon=True)
        injector.start()
        figures = workload(client, suite, args.customers, args.invoices, args.payments)
        injector.join()  # every planned fault happens, even if the workload finished first
        done.set()
        last_fault = time.monotonic()  # the workload is over and every fault has happened
        print(f"workload done at {last_fault - started:.1f}s: {figures}; checking invariants ...", flush=True)
        deadline = last_fault + args.converge_timeout
        # Converged = the invariants hold on STABLE_CHECKS checks in a row, 5 s apart: a relay that notices a
        # lost broker a moment later marks its outbox for republishing, which a single check could miss.
        streak_started: float | None = None
        streak = 0
        while True:
            broken, published = asyncio.run(violations(suite))
            if broken:
                streak_started, streak = None, 0
            else:
                streak_started = streak_started or time.monotonic()
                streak += 1
            if streak >= STABLE_CHECKS or time.monotonic() > deadline:
                break
            time.sleep(5)
        converged = (streak_started or time.monotonic()) - last_fault
        print(f"events published per service: {published} (total {sum(published.values())})")
        print(f"faults: {len(suite.faults)} ({', '.join(f'{target}@{at:.0f}s' for at, target in suite.faults)})")
        if broken or streak < STABLE_CHECKS:
            print(f"NOT converged {converged:.0f}s after the workload ended; violations:")
            for violation in broken:
                print(f"  - {violation}")
            return 1
        since_fault = converged + last_fault - started - suite.faults[-1][0]
        print(f"converged {converged:.1f}s after the workload ended ({since_fault:.1f}s after the last fault)")
        print("0 violations")
        return 0
    finally:
        suite.stop()


def _ready(client: Client, suite: Suite, name: str) -> bool:
    try:
        return client.http.get(f"http://127.0.0.1:{suite.ports[name]}/readyz").status_code == 200
    except httpx.HTTPError:
        return False


if __name__ == "__main__":
    sys.exit(main())
