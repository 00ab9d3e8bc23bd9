"""The limitation period for litigation, counted in whole years from the due date."""

from __future__ import annotations

from datetime import date, timedelta


def add_years(day: date, years: int) -> date:
    """The same calendar day ``years`` later (or earlier); 29 February falls back to 28 February."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def limitation_expires_on(due_date: date, years: int) -> date:
    """Last day on which a claim due on ``due_date`` may still be filed in court."""
    return add_years(due_date, years)


def within_limitation(due_date: date, as_of: date, years: int) -> bool:
    """Whether a claim due on ``due_date`` can still go to court on ``as_of`` (the expiry day included)."""
    return as_of <= limitation_expires_on(due_date, years)


def limitation_cutoff_due_date(as_of: date, years: int) -> date:
    """Earliest due date still within limitation on ``as_of``: ``due_date >= cutoff`` iff within limitation.

    For the set-based sweep, which compares due dates in SQL instead of calling ``within_limitation``.
    """
    candidate = add_years(as_of, -years)
    # add_years is monotone but clamps 29 February, so step to the exact boundary.
    while within_limitation(candidate - timedelta(days=1), as_of, years):
        candidate -= timedelta(days=1)
    while not within_limitation(candidate, as_of, years):
        candidate += timedelta(days=1)
    return candidate
