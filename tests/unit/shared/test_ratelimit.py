"""The per-caller rate limit: a sliding-window counter, exact at the window's edges, no threads."""

from __future__ import annotations

from shared.ratelimit import SlidingWindowLimiter


class FakeClock:
    def __init__(self) -> None:
        self.now = 600.0

    def __call__(self) -> float:
        return self.now


def test_the_limit_holds_within_a_window_and_per_caller() -> None:
    clock = FakeClock()
    limiter = SlidingWindowLimiter(3, 60, clock)
    assert [limiter.hit("alice") for _ in range(4)] == [True, True, True, False]
    assert limiter.hit("bob")
    assert 1 <= limiter.retry_after("alice") <= 60


def test_the_previous_window_counts_by_how_much_of_it_the_sliding_window_still_covers() -> None:
    clock = FakeClock()
    limiter = SlidingWindowLimiter(10, 60, clock)
    assert all(limiter.hit("alice") for _ in range(10))
    clock.now += 60  # the next window starts: the previous ten still weigh fully
    assert not limiter.hit("alice")
    assert limiter.retry_after("alice") == 1
    clock.now += 0.5  # they weigh a little less than ten: one more passes
    assert limiter.hit("alice")
    assert not limiter.hit("alice")
    assert limiter.retry_after("alice") == 6  # a tenth of the window in, the ten weigh nine: room for a second
    clock.now += 6
    assert limiter.hit("alice")
    assert not limiter.hit("alice")
    clock.now += 120  # two windows later nothing weighs
    assert all(limiter.hit("alice") for _ in range(10))


def test_refused_requests_are_not_counted() -> None:
    clock = FakeClock()
    limiter = SlidingWindowLimiter(2, 1, clock)
    assert [limiter.hit("alice") for _ in range(5)] == [True, True, False, False, False]
    clock.now += 2
    assert limiter.hit("alice")
