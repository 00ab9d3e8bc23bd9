"""Reporting periods cut at calendar boundaries."""

from __future__ import annotations

from datetime import date

import pytest

from services.collections.domain.periods import Interval, Period, periods

D = date


@pytest.mark.parametrize(
    ("start", "end", "interval", "expected"),
    [
        pytest.param(D(2026, 1, 1), D(2026, 1, 1), Interval.DAY, [Period(D(2026, 1, 1), D(2026, 1, 1))], id="one-day"),
        pytest.param(
            D(2026, 1, 15),
            D(2026, 3, 10),
            Interval.MONTH,
            [
                Period(D(2026, 1, 15), D(2026, 1, 31)),
                Period(D(2026, 2, 1), D(2026, 2, 28)),
                Period(D(2026, 3, 1), D(2026, 3, 10)),
            ],
            id="months-partial-ends",
        ),
        pytest.param(
            D(2028, 2, 1), D(2028, 2, 29), Interval.MONTH, [Period(D(2028, 2, 1), D(2028, 2, 29))], id="leap-february"
        ),
        pytest.param(
            D(2026, 12, 20),
            D(2027, 1, 5),
            Interval.MONTH,
            [Period(D(2026, 12, 20), D(2026, 12, 31)), Period(D(2027, 1, 1), D(2027, 1, 5))],
            id="across-the-year",
        ),
        pytest.param(
            D(2026, 3, 4),  # a Wednesday
            D(2026, 3, 16),
            Interval.WEEK,
            [
                Period(D(2026, 3, 4), D(2026, 3, 8)),
                Period(D(2026, 3, 9), D(2026, 3, 15)),
                Period(D(2026, 3, 16), D(2026, 3, 16)),
            ],
            id="weeks-monday-to-sunday",
        ),
        pytest.param(D(2026, 3, 2), D(2026, 3, 1), Interval.DAY, [], id="empty-when-reversed"),
    ],
)
def test_periods(start: date, end: date, interval: Interval, expected: list[Period]) -> None:
    assert periods(start, end, interval) == expected
