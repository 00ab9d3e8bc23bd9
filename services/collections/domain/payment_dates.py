"""When a payment may be dated: not in the future, not before its invoice, and far back only with leave.

A payment dated in year 3000 accrued 177 times the invoice in interest; one dated 0001-01-01, or a
November payment dated back into September, earned an early-payment discount. Dates past the
backdating window need the scope ``collections:backdate`` and are recorded with who set them.
"""

from __future__ import annotations

from datetime import date, timedelta

BACKDATE_SCOPE = "collections:backdate"


def payment_date_problem(paid_on: date, issue_date: date, today: date) -> str | None:
    """Why ``paid_on`` can never be a payment date for an invoice issued on ``issue_date``; None if it can."""
    if paid_on > today:
        return f"a payment cannot be dated in the future (today is {today})"
    if paid_on < issue_date:
        return f"a payment cannot be dated before the invoice was issued ({issue_date})"
    return None


def is_backdated(paid_on: date, today: date, window_days: int) -> bool:
    """Whether ``paid_on`` lies further back than the backdating window (which then needs its own scope)."""
    return paid_on < today - timedelta(days=window_days)
