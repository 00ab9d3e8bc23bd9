"""Letters rendered per tone from the Jinja2 templates, values escaped."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from services.collections.domain.actions import LetterTone
from services.collections.letters import format_amount, render_letter
from shared.errors import DomainRuleViolation


def _render(tone: LetterTone, **changes: object) -> str:
    fields: dict[str, object] = {
        "customer_name": "Acme Trading Co.",
        "invoice_number": "INV-1001",
        "currency": "CNY",
        "amount_due": Decimal("60000"),
        "due_date": date(2026, 2, 9),
        "days_overdue": 35,
        "reply_by": date(2026, 3, 30),
        "letter_date": date(2026, 3, 16),
    } | changes
    return render_letter(tone, **fields).html  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("tone", "subject", "phrase"),
    [
        pytest.param(LetterTone.REMINDER, "Payment reminder: invoice INV-1001", "Our records show", id="reminder"),
        pytest.param(
            LetterTone.FIRM, "Second notice: invoice INV-1001 is 35 days overdue", "without further delay", id="firm"
        ),
        pytest.param(
            LetterTone.FINAL_DEMAND, "Final demand: invoice INV-1001", "This is our final demand", id="final-demand"
        ),
    ],
)
def test_each_tone_renders_its_letter(tone: LetterTone, subject: str, phrase: str) -> None:
    letter = render_letter(
        tone,
        customer_name="Acme Trading Co.",
        invoice_number="INV-1001",
        currency="CNY",
        amount_due=Decimal("60000"),
        due_date=date(2026, 2, 9),
        days_overdue=35,
        reply_by=date(2026, 3, 30),
        letter_date=date(2026, 3, 16),
    )
    assert letter.tone is tone
    assert letter.subject == subject
    assert f"<title>{subject}</title>" in letter.html
    assert phrase in letter.html
    for value in (
        "Acme Trading Co.",
        "INV-1001",
        "CNY 60,000.00",
        "2026-02-09",
        "<td>35</td>",
        "2026-03-30",
        "2026-03-16",
    ):
        assert value in letter.html
    assert "Penalty interest accrued" not in letter.html


def test_penalty_interest_and_total_are_shown_when_accrued() -> None:
    html = _render(LetterTone.FIRM, penalty_interest=Decimal("1050.5"))
    assert "CNY 1,050.50" in html
    assert "CNY 61,050.50" in html  # 60,000.00 + 1,050.50


def test_values_are_escaped() -> None:
    html = _render(LetterTone.REMINDER, customer_name="<script>alert(1)</script> & Sons")
    assert "<script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; Sons" in html


def test_rendering_is_a_pure_function_of_its_inputs() -> None:
    assert _render(LetterTone.FINAL_DEMAND) == _render(LetterTone.FINAL_DEMAND)


@pytest.mark.parametrize(
    ("amount", "text"),
    [("60000", "60,000.00"), ("1234.565", "1,234.57"), ("0.5", "0.50"), ("1000000.004", "1,000,000.00")],
)
def test_format_amount(amount: str, text: str) -> None:
    assert format_amount(Decimal(amount)) == text


def test_negative_amount_is_refused() -> None:
    with pytest.raises(DomainRuleViolation):
        _render(LetterTone.REMINDER, amount_due=Decimal("-1"))


@pytest.mark.parametrize("tone", list(LetterTone))
@pytest.mark.parametrize("penalty_interest", [Decimal("0"), Decimal("1050.5")])
def test_a_letter_is_exactly_what_jinja_renders(tone: LetterTone, penalty_interest: Decimal) -> None:
    hostile = '<b>"O\'Neil" & {{ x }} \x01</b>'
    fields: dict[str, object] = {
        "customer_name": f"Acme {hostile}",
        "invoice_number": f"INV-<1> {hostile}",
        "currency": "C&Y",
        "amount_due": Decimal("60000"),
        "due_date": date(2026, 2, 9),
        "days_overdue": 35,
        "reply_by": date(2026, 3, 30),
        "letter_date": date(2026, 3, 16),
        "penalty_interest": penalty_interest,
        "creditor_name": f"Credit {hostile}",
    }
    fast = render_letter(tone, **fields)  # type: ignore[arg-type]
    assert fast == render_letter(tone, **fields, through_jinja=True)  # type: ignore[arg-type]
    assert "<b>" not in fast.html and "&lt;b&gt;" in fast.html
