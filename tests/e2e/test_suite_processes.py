"""The whole suite as real processes: `creditflow up` starts the broker, migrates, and runs the four
services; a customer created over HTTP shows up in credit, collections and survey; Ctrl-C (SIGINT)
stops everything cleanly."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from services.customers.settings import CustomersSettings
from shared.auth import mint_token
from shared.broker import free_port
from shared.processes import start_tied_child
from shared.registry import SERVICES
from tests.support.databases import DatabaseFactory

pytestmark = pytest.mark.e2e


@pytest.fixture
async def suite(databases: DatabaseFactory, tmp_path: Path) -> Iterator[dict[str, str]]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CREDITFLOW_")}
    urls: dict[str, str] = {}
    for service in SERVICES:
        port = free_port()
        prefix = f"CREDITFLOW_{service.upper()}_"
        env[prefix + "PORT"] = str(port)
        env[prefix + "DATABASE_URL"] = await databases.create(service)
        env[prefix + "DATA_DIR"] = str(tmp_path)
        env[prefix + "RELAY_POLL_INTERVAL_SECONDS"] = "0.05"
        urls[service] = f"http://127.0.0.1:{port}"
    console_port = free_port()
    env["CREDITFLOW_CONSOLE_PORT"] = str(console_port)
    urls["console"] = f"http://127.0.0.1:{console_port}"
    log = open(tmp_path / "suite.log", "wb")
    process = start_tied_child(  # a killed test run takes the suite (and its broker) down with it
        [sys.executable, "-m", "shared.cli", "up", "--broker-port", str(free_port())],
        env=env,
        cwd=tmp_path,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        yield urls
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(40)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        log.close()
    assert process.returncode == 0, (tmp_path / "suite.log").read_text()[-3000:]


# Deadlines catch a hang, not slowness: five processes importing at once on a busy two-core box (the other
# test worker, other engineers' runs) take well over a minute to be ready now and then.
READY_DEADLINE_SECONDS = 180.0


def _wait(probe, what: str, timeout: float = READY_DEADLINE_SECONDS):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if result := probe():
                return result
        except httpx.HTTPError:
            pass
        time.sleep(0.25)
    raise AssertionError(f"timed out waiting for {what}")


async def test_customer_created_over_http_reaches_every_service(suite: dict[str, str]) -> None:
    token = mint_token(CustomersSettings(), ["admin"], now=datetime.now(UTC))
    headers = {"Authorization": f"Bearer {token}"}
    started = time.monotonic()
    with httpx.Client(timeout=READY_DEADLINE_SECONDS) as http:
        for service, url in suite.items():
            # The console (beside the services) answers readiness through its proxy.
            ready = f"{url}/api/customers/readyz" if service == "console" else f"{url}/readyz"
            _wait(lambda ready=ready: http.get(ready).status_code == 200, f"{service} /readyz")
        assert time.monotonic() - started < READY_DEADLINE_SECONDS, "the suite did not become ready"
        created = http.post(
            f"{suite['customers']}/v1/customers",
            headers=headers,
            json={
                "name": "Acme Trading Co.",
                "kind": "commercial",
                "lifecycle": "active",
                "tax_id": "91310000MA1K000001",
                "region": "East China",
            },
        )
        assert created.status_code == 201, created.text
        customer_id = created.json()["id"]
        paths = {
            "credit": f"/v1/profiles/{customer_id}",
            "collections": f"/v1/customers/{customer_id}",
            "survey": f"/v1/customers/{customer_id}",
        }
        for service, path in paths.items():
            body = _wait(
                lambda s=service, p=path: (
                    (r := http.get(f"{suite[s]}{p}", headers=headers)).status_code == 200 and r.json()
                ),
                f"{service} to learn the customer",
            )
            assert body["name"] == "Acme Trading Co."
        proxied = http.get(f"{suite['console']}/api/credit/v1/profiles/{customer_id}", headers=headers)
        assert proxied.status_code == 200 and proxied.json()["name"] == "Acme Trading Co."
