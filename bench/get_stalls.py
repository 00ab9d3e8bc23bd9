"""Where a GET's p99 goes: each service under the GET bench's load, with the event-loop stall probe.

Runs a service as ``bench/get_bench.py`` does (uvicorn, one worker, JSON access log) but through
``bench/stall_probe.py``, drives it with wrk (32 connections), then prints wrk's figures and the probe's
report: the loop lag, the garbage collections by generation, and the loop thread's stacks during stalls.

    .venv/bin/python -m bench.get_stalls [customers credit collections] [--database postgresql] [--seconds 10]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import subprocess
import time

import httpx

from bench.get_bench import PYTHON, ROOT, factory_for, seed, service_server, wrk
from shared.processes import start_tied_child


def probe(service: str, database: str, seconds: int, connections: int, stall_ms: float) -> None:
    factory = factory_for(database)
    try:
        url = asyncio.run(factory.create(service))
        _command, env, port = service_server(service, url)
        command = [PYTHON, "-m", "bench.stall_probe", service, "--stall-ms", str(stall_ms)]
        process = start_tied_child(
            command, cwd=ROOT, env={**os.environ, **env}, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    if httpx.get(f"{base}/livez").status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if time.monotonic() > deadline or process.poll() is not None:
                    raise RuntimeError("server did not start")
                time.sleep(0.2)
            path, token = asyncio.run(seed(service, url, base))
            wrk(base + path, token, 2, connections)
            process.send_signal(signal.SIGUSR1)  # the probe counts from here
            time.sleep(0.2)
            rps, p99 = wrk(base + path, token, seconds, connections)
            print(f"{database} {service}: {rps:,.0f} req/s, p99 {p99:.1f} ms", flush=True)
        finally:
            process.terminate()
            _out, err = process.communicate(timeout=30)
        print("\n".join(line for line in err.decode().splitlines() if not line.startswith("{")), flush=True)
    finally:
        asyncio.run(factory.drop_all())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("services", nargs="*", default=["customers", "credit", "collections"])
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="postgresql")
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--stall-ms", type=float, default=15.0)
    args = parser.parse_args()
    for service in args.services:
        probe(service, args.database, args.seconds, args.connections, args.stall_ms)


if __name__ == "__main__":
    main()
