"""Reporting periods: [start, end] split into days, weeks or calendar months, for reports over time."""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum


class Interval(StrEnum):
    """Length of one reporting period."""

    DAY = "day"
    WEEK = "week"
    MONTH = "month"


@dataclass(frozen=True)
class Period:
    """One reporting period, both days included."""

    start: date
    end: date


def _next_start(day: date, interval: Interval) -> date:
    if interval is Interval.DAY:
        return day + timedelta(days=1)
    if interval is Interval.WEEK:  # weeks run Monday to Sunday
        return day + timedelta(days=7 - day.weekday())
    last = calendar.monthrange(day.year, day.month)[1]
    return date(day.year, day.month, last) + timedelta(days=1)


def periods(start: date, end: date, interval: Interval) -> list[Period]:
    """[start, end] cut at calendar boundaries of ``interval``; the first and last periods may be partial."""
    found: list[Period] = []
    day = start
    while day <= end:
        following = _next_start(day, interval)
        found.append(Period(day, min(following - timedelta(days=1), end)))
        day = following
    return found
