"""Invoices a billing system publishes: when a republished invoice is the one already recorded."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from shared.errors import DomainRuleViolation
from shared.terms import parse_terms


@dataclass(frozen=True, slots=True)
class BilledInvoice:
    """What an invoice states; due date and terms may be left for the contract or the defaults to fill."""

    issue_date: date
    currency: str
    amount: Decimal
    due_date: date | None = None
    credit_terms: str | None = None


def same_invoice(published: BilledInvoice, recorded: BilledInvoice) -> bool:
    """Whether ``published`` (same customer and number) says what ``recorded`` says: then it is a redelivery.

    Issue date, currency and amount must agree; due date and terms only where the publisher stated them (the
    recorded ones were completed from the contract or the defaults). Terms compare by meaning ("n/30" is
    "N/30"); amounts by value (60000 is 60000.00).
    """
    if (published.issue_date, published.currency.upper(), published.amount) != (
        recorded.issue_date,
        recorded.currency.upper(),
        recorded.amount,
    ):
        return False
    if published.due_date is not None and published.due_date != recorded.due_date:
        return False
    if published.credit_terms is not None:
        return _terms(published.credit_terms) == _terms(recorded.credit_terms)
    return True


def _terms(text: str | None) -> str | None:
    try:
        return str(parse_terms(text)) if text is not None else None
    except DomainRuleViolation:
        return text
