"""Property-based API contract harness every service reuses: schemathesis against the service's own
OpenAPI document, with a valid token, looking for 5xx responses and responses the document does not allow."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

from shared.auth import mint_token
from shared.broker import free_port
from shared.processes import start_tied_child
from shared.registry import settings_class

CHECKS = (
    "not_a_server_error,status_code_conformance,content_type_conformance,"
    "response_headers_conformance,response_schema_conformance"
)


# A hang detector, not a speed claim: a service process importing beside the other test worker on a busy
# two-core box has taken over 30 s to answer /livez.
START_DEADLINE_SECONDS = 180.0


def run_contract(
    service: str, database_url: str, workdir: Path, *, max_examples: int = 10, seed: int = 20261127
) -> subprocess.CompletedProcess[str]:
    """Serve ``service`` as a process and run schemathesis against its /openapi.json; return the run."""
    port = free_port()
    prefix = f"CREDITFLOW_{service.upper()}_"
    env = {k: v for k, v in os.environ.items() if not k.startswith("CREDITFLOW_")}
    env.update(
        {
            prefix + "PORT": str(port),
            prefix + "DATABASE_URL": database_url,
            prefix + "RELAY_ENABLED": "false",
            prefix + "CONSUMER_ENABLED": "false",
            prefix + "KAFKA_CREATE_TOPICS": "false",
            prefix + "KAFKA_BOOTSTRAP_SERVERS": "127.0.0.1:9",
            prefix + "LOG_LEVEL": "WARNING",
        }
    )
    server = start_tied_child(
        [sys.executable, "-m", "shared.cli", "serve", service],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=open(workdir / f"{service}.log", "w"),
    )
    try:
        deadline = time.monotonic() + START_DEADLINE_SECONDS
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/livez", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline or server.poll() is not None:
                raise RuntimeError(f"{service} did not start: {(workdir / f'{service}.log').read_text()[-2000:]}")
            time.sleep(0.2)
        token = mint_token(settings_class(service)(), ["admin"], now=datetime.now(UTC), ttl=timedelta(hours=1))
        st = Path(sys.executable).parent / "st"
        return subprocess.run(
            [
                str(st),
                "run",
                f"http://127.0.0.1:{port}/openapi.json",
                "-H",
                f"Authorization: Bearer {token}",
                "--checks",
                CHECKS,
                "--max-examples",
                str(max_examples),
                "--seed",
                str(seed),
                "--phases",
                "examples,fuzzing",
                "--workers",
                "1",
                "--request-timeout",
                "10",
                "--suppress-health-check",
                "all",
                "--no-color",
                # /readyz answers a documented 503 without a broker (none runs here): not a server fault.
                "--exclude-path",
                "/readyz",
            ],
            capture_output=True,
            text=True,
            timeout=300,
            cwd=workdir,
            env={
                **os.environ,
                "NO_COLOR": "1",
                "SCHEMATHESIS_HOOKS": str(Path(__file__).with_name("contract_hooks.py")),
            },
        )
    finally:
        server.terminate()
        server.wait(15)
