"""`creditflow serve SERVICE` with two probes for event-loop stalls, reported on stderr when it stops.

* a watchdog thread posts a mark to the loop every 5 ms; when a mark waits longer than ``--stall-ms`` it
  samples the loop thread's stack (every 5 ms while the stall lasts), so the report names what ran;
* ``gc.callbacks`` time every collection by generation.

Used by ``bench/get_stalls.py``; not part of the services.

    .venv/bin/python -m bench.stall_probe SERVICE [--stall-ms 15]
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import gc
import os
import signal
import sys
import threading
import time
import traceback
from typing import Any


class Probe:
    def __init__(self, stall_ms: float) -> None:
        self.stall_s = stall_ms / 1000
        self.lags: list[float] = []
        self.stacks: collections.Counter[str] = collections.Counter()
        self.gc_times: dict[int, list[float]] = collections.defaultdict(list)
        self._gc_start = 0.0
        self._stop = threading.Event()
        self.loop_thread = threading.get_ident()

    def reset(self) -> None:
        self.lags = []
        self.stacks = collections.Counter()
        self.gc_times = collections.defaultdict(list)

    def on_gc(self, phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            self._gc_start = time.perf_counter()
        else:
            self.gc_times[info["generation"]].append(time.perf_counter() - self._gc_start)

    def watch(self, loop: asyncio.AbstractEventLoop) -> None:
        while not self._stop.is_set():
            ran = threading.Event()
            posted = time.perf_counter()
            loop.call_soon_threadsafe(ran.set)
            while not ran.wait(0.005):
                if time.perf_counter() - posted > self.stall_s:
                    frame = sys._current_frames().get(self.loop_thread)
                    if frame is not None:
                        lines = traceback.format_stack(frame)[-14:]
                        self.stacks["".join(lines)] += 1
                if self._stop.is_set():
                    return
            lag = time.perf_counter() - posted
            self.lags.append(lag)
            time.sleep(0.005)

    def report(self) -> None:
        out = sys.stderr
        lags = sorted(self.lags)
        if lags:
            n = len(lags)
            print(
                f"PROBE loop lag: {n} marks, p50 {lags[n // 2] * 1000:.1f} ms, p99 {lags[int(n * 0.99)] * 1000:.1f} ms,"
                f" max {lags[-1] * 1000:.1f} ms, >{self.stall_s * 1000:.0f} ms: "
                f"{sum(1 for lag in lags if lag > self.stall_s)}",
                file=out,
            )
        for generation, times in sorted(self.gc_times.items()):
            times.sort()
            print(
                f"PROBE gc gen{generation}: {len(times)} runs, total {sum(times) * 1000:.0f} ms,"
                f" max {times[-1] * 1000:.1f} ms, >5 ms: {sum(1 for t in times if t > 0.005)}",
                file=out,
            )
        for stack, count in self.stacks.most_common(12):
            print(f"PROBE stall samples {count}:\n{stack}", file=out)
        out.flush()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("service")
    parser.add_argument("--stall-ms", type=float, default=15.0)
    args = parser.parse_args()
    probe = Probe(args.stall_ms)
    gc.callbacks.append(probe.on_gc)

    import uvicorn

    original_serve = uvicorn.Server.serve

    async def serve(self: Any, sockets: Any = None) -> None:
        loop = asyncio.get_running_loop()
        probe.loop_thread = threading.get_ident()
        threading.Thread(target=probe.watch, args=(loop,), daemon=True).start()
        try:
            await original_serve(self, sockets)
        finally:
            probe._stop.set()
            probe.report()

    uvicorn.Server.serve = serve  # type: ignore[method-assign]
    # uvicorn raises the SIGTERM it caught again once it has shut down: an exception here, so the report prints.
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    signal.signal(signal.SIGUSR1, lambda _signum, _frame: probe.reset())  # after the warm-up
    from shared.cli import serve as creditflow_serve

    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    creditflow_serve(args.service)


if __name__ == "__main__":
    main()
