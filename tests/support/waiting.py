"""Polling helpers for asynchronous effects (events crossing the broker)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

T = TypeVar("T")


async def eventually(
    probe: Callable[[], Awaitable[T]], *, timeout: float = 90.0, interval: float = 0.1, what: str = "condition"
) -> T:
    """Await ``probe`` until it returns a truthy value; fail with ``what`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    last: T | None = None
    while time.monotonic() < deadline:
        last = await probe()
        if last:
            return last
        await asyncio.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what} (last: {last!r})")


def until(probe: Callable[[], T], *, timeout: float = 90.0, interval: float = 0.1, what: str = "condition") -> T:
    """Call ``probe`` until it returns a truthy value; fail with ``what`` after ``timeout`` seconds (no event loop)."""
    deadline = time.monotonic() + timeout
    last: T | None = None
    while time.monotonic() < deadline:
        last = probe()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what} (last: {last!r})")
