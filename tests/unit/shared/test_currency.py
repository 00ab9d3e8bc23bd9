"""One currency vocabulary for the suite: the ISO 4217 active codes, upper-case only."""

from __future__ import annotations

import pytest
from pydantic import TypeAdapter, ValidationError

from shared.currency import ISO_4217, Currency, check_currency, is_currency

CURRENCY = TypeAdapter(Currency)


@pytest.mark.parametrize(
    ("code", "accepted"),
    [
        ("CNY", True),
        ("CZK", True),  # the registry took it, credit refused it: now every service takes it
        ("USD", True),
        ("ZMW", True),
        ("cny", False),  # credit upper-cased it, the registry refused it: now every service refuses it
        ("Cny", False),
        ("XYZ", False),
        ("XAU", False),  # gold is an ISO 4217 code but not a currency an invoice is written in
        ("CN", False),
        ("CNYY", False),
        ("", False),
    ],
)
def test_a_currency_is_an_active_iso_4217_code_in_upper_case(code: str, accepted: bool) -> None:
    assert is_currency(code) is accepted
    if accepted:
        assert check_currency(code) == code
        assert CURRENCY.validate_python(code) == code
    else:
        with pytest.raises(ValueError, match="ISO 4217"):
            check_currency(code)
        with pytest.raises(ValidationError):
            CURRENCY.validate_python(code)


def test_the_list_holds_the_155_active_codes_all_upper_case_three_letters() -> None:
    assert len(ISO_4217) == 155
    assert all(len(code) == 3 and code.isascii() and code.isupper() for code in ISO_4217)


@pytest.mark.parametrize(
    ("code", "active"), [("XCG", True), ("ZWG", True), ("VED", True), ("ANG", False), ("ZWL", False), ("BGN", False)]
)
def test_the_list_follows_recent_iso_4217_amendments(code: str, active: bool) -> None:
    assert is_currency(code) is active
