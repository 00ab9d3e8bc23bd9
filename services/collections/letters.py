"""Collection letters rendered from Jinja2 templates (HTML, autoescaped), one template per tone.

A sweep sends thousands of letters, so each template is rendered through Jinja once per tone (and with or
without penalty interest, the one thing a template decides on) with a marker for each value, and a letter is
that text with each value escaped into its place, as Jinja escapes it: no Jinja context and block calls per
letter. The templates only print the values (``{{ name }}``); a test holds the result equal to Jinja's.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup, escape

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
    through_jinja: bool = False,
) -> RenderedLetter:
    """Render the letter of ``tone`` for one overdue invoice; every value is escaped into the HTML."""
    require_non_negative(amount_due, "amount_due")
    require_non_negative(penalty_interest, "penalty_interest")
    subject = _SUBJECTS[tone].format(invoice=invoice_number, days=days_overdue)
    values = {
        "tone": str(tone),
        "subject": subject,
        "customer_name": customer_name,
        "invoice_number": invoice_number,
        "currency": currency,
        "amount_due": format_amount(amount_due),
        "penalty_interest": format_amount(penalty_interest),
        "total_due": format_amount(amount_due + penalty_interest),
        "due_date": due_date.isoformat(),
        "days_overdue": days_overdue,
        "reply_by": reply_by.isoformat(),
        "letter_date": letter_date.isoformat(),
        "creditor_name": creditor_name,
    }
    if through_jinja:  # the reference the skeleton must equal (tests)
        html = _ENVIRONMENT.get_template(f"{tone}.j2").render(**values, has_penalty_interest=penalty_interest > 0)
        return RenderedLetter(tone=tone, subject=subject, html=html)
    texts, names = _skeleton(tone, penalty_interest > 0)
    parts = [texts[0]]
    for name, text in zip(names, texts[1:], strict=True):
        parts += (_escaped(values[name]), text)
    return RenderedLetter(tone=tone, subject=subject, html="".join(parts))


_SPECIAL = frozenset("&<>'\"")


def _escaped(value: object) -> str:
    """The value as Jinja's autoescape prints it: text without a character to escape (dates, amounts, most
    names) is printed as it is, without the ``Markup`` object ``escape`` makes of every value."""
    text = str(value)
    return str(escape(text)) if not _SPECIAL.isdisjoint(text) else text


_VALUES = (
    "tone",
    "subject",
    "customer_name",
    "invoice_number",
    "currency",
    "amount_due",
    "penalty_interest",
    "total_due",
    "due_date",
    "days_overdue",
    "reply_by",
    "letter_date",
    "creditor_name",
)
_MARK = "\x00"


@functools.cache
def _skeleton(tone: LetterTone, has_penalty_interest: bool) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The template of ``tone`` rendered once with a marker for each value: the texts between the values, and
    the name of the value in each gap (StrictUndefined: a template printing any other name fails here)."""
    markers = {name: Markup(f"{_MARK}{name}{_MARK}") for name in _VALUES}
    html = _ENVIRONMENT.get_template(f"{tone}.j2").render(**markers, has_penalty_interest=has_penalty_interest)
    pieces = html.split(_MARK)
    return tuple(pieces[0::2]), tuple(pieces[1::2])
