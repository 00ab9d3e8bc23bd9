"""Collection letters rendered from Jinja2 templates (HTML, autoescaped), one template per tone."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from services.collections.domain.actions import LetterTone
from services.collections.domain.money import require_non_negative
from shared.money import ZERO, to_cents

TEMPLATES_DIR = Path(__file__).parent / "templates"

# Templates are static files shipped with the package: loading (and compiling) them once keeps rendering a
# pure function, and without auto_reload a letter does not stat its template files (a sweep sends thousands).
_ENVIRONMENT = Environment(
    loader=FileSystemLoader(TEMPLATES_DIR),
    auto_reload=False,
    autoescape=True,
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=True,
)

_SUBJECTS: dict[LetterTone, str] = {
    LetterTone.REMINDER: "Payment reminder: invoice {invoice}",
    LetterTone.FIRM: "Second notice: invoice {invoice} is {days} days overdue",
    LetterTone.FINAL_DEMAND: "Final demand: invoice {invoice}",
}


@dataclass(frozen=True)
class RenderedLetter:
    """A rendered letter: its tone, subject line and HTML body."""

    tone: LetterTone
    subject: str
    html: str


def format_amount(amount: Decimal) -> str:
    """Money for letters: 2 dp HALF_UP with thousands separators, e.g. ``60,000.00``."""
    return f"{to_cents(amount):,}"


def render_letter(
    tone: LetterTone,
    *,
    customer_name: str,
    invoice_number: str,
    currency: str,
    amount_due: Decimal,
    due_date: date,
    days_overdue: int,
    reply_by: date,
    letter_date: date,
    penalty_interest: Decimal = ZERO,
    creditor_name: str = "Credit Control Department",
) -> RenderedLetter:
    """Render the letter of ``tone`` for one overdue invoice; every value is escaped into the HTML."""
    require_non_negative(amount_due, "amount_due")
    require_non_negative(penalty_interest, "penalty_interest")
    subject = _SUBJECTS[tone].format(invoice=invoice_number, days=days_overdue)
    html = _ENVIRONMENT.get_template(f"{tone}.j2").render(
        tone=str(tone),
        subject=subject,
        customer_name=customer_name,
        invoice_number=invoice_number,
        currency=currency,
        amount_due=format_amount(amount_due),
        penalty_interest=format_amount(penalty_interest),
        has_penalty_interest=penalty_interest > 0,
        total_due=format_amount(amount_due + penalty_interest),
        due_date=due_date.isoformat(),
        days_overdue=days_overdue,
        reply_by=reply_by.isoformat(),
        letter_date=letter_date.isoformat(),
        creditor_name=creditor_name,
    )
    return RenderedLetter(tone=tone, subject=subject, html=html)
