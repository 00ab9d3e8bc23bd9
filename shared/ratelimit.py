"""A per-caller request rate counted in memory, in O(1) per request and without threads.

A sliding-window counter: the requests of the current fixed window plus those of the previous window,
weighted by the share of it the sliding window still covers. ``limits``' moving window kept one entry per
request (an insertion at the head of a list, so O(limit) per request) and its memory storage started a
thread every 10 ms to expire them: more CPU than a GET by id at a high limit.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable

_PRUNE_ABOVE = 10_000


class SlidingWindowLimiter:
    """At most ``amount`` requests per caller in any ``seconds`` (approximately: previous window weighted)."""

    def __init__(self, amount: int, seconds: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.amount = amount
        self.seconds = seconds
        self.clock = clock
        # caller -> (window index, requests in that window, requests in the window before it)
        self._windows: dict[str, tuple[int, int, int]] = {}

    def _counts(self, caller: str, now: float) -> tuple[int, int, int, float]:
        index = int(now // self.seconds)
        start, current, previous = self._windows.get(caller, (index, 0, 0))
        if start != index:
            previous = current if start == index - 1 else 0
            current = 0
        elapsed = (now - index * self.seconds) / self.seconds
        return index, current, previous, elapsed

    def hit(self, caller: str) -> bool:
        """Count one request of ``caller``; False (and not counted) when it would pass the rate."""
        now = self.clock()
        index, current, previous, elapsed = self._counts(caller, now)
        allowed = current + previous * (1 - elapsed) < self.amount
        if allowed:
            current += 1
        if len(self._windows) > _PRUNE_ABOVE and caller not in self._windows:
            self._windows = {key: value for key, value in self._windows.items() if value[0] >= index - 1}
        self._windows[caller] = (index, current, previous)
        return allowed

    def retry_after(self, caller: str) -> int:
        """Whole seconds (at least 1) until ``caller`` may send another request."""
        now = self.clock()
        _index, current, previous, elapsed = self._counts(caller, now)
        if current >= self.amount:
            wait = (1 - elapsed) * self.seconds  # the rest of this window; then this window's count decays
        elif previous:
            # current + previous * (1 - elapsed') < amount  <=>  elapsed' > 1 - (amount - current) / previous
            wait = max(0.0, 1 - (self.amount - current) / previous - elapsed) * self.seconds
        else:
            wait = 0.0
        return max(1, math.ceil(wait))
