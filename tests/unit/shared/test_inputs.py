"""Shared input rules: identifier keys, hidden characters, business dates."""

from __future__ import annotations

from datetime import date

import pytest
from pydantic import TypeAdapter, ValidationError

from shared.inputs import BusinessDate, VisibleText, identity_key


@pytest.mark.parametrize(
    "given",
    ["INV-1", "INV-1 ", " INV-1", "inv-1", "INV\u20101", "INV\u20111", "INV\u22121", "INV\u20131", "INV-1\u00a0",
     "ＩＮＶ－１", "Inv-1"],
)  # fmt: skip
def test_identifiers_that_only_look_different_share_a_key(given: str) -> None:
    assert identity_key(given) == "inv-1"


@pytest.mark.parametrize(("a", "b"), [("INV-1", "INV-2"), ("INV-1", "INV1"), ("INV 1", "INV-1"), ("A/1", "A-1")])
def test_different_identifiers_keep_different_keys(a: str, b: str) -> None:
    assert identity_key(a) != identity_key(b)


def test_inner_white_space_runs_count_once() -> None:
    assert identity_key("INV \u00a0 1") == identity_key("inv 1")


@pytest.mark.parametrize("text", ["a\u200bb", "a\u200db", "a\u202eb", "a\x07b", "a\tb", "\ufeffab", "a\u0085b"])
def test_visible_text_refuses_control_and_format_characters(text: str) -> None:
    with pytest.raises(ValidationError, match="control or format"):
        TypeAdapter(VisibleText).validate_python(text)


@pytest.mark.parametrize("text", ["Acme Trading Co.", "商贸 有限公司", "Café\u00a0Müller", "O'Neil & Sons – Ltd"])
def test_visible_text_accepts_any_script(text: str) -> None:
    assert TypeAdapter(VisibleText).validate_python(text) == text


@pytest.mark.parametrize(
    ("value", "ok"),
    [("1900-01-01", True), ("2199-12-31", True), ("1899-12-31", False), ("2200-01-01", False), ("9999-12-31", False)],
)
def test_business_dates_are_bounded(value: str, ok: bool) -> None:
    adapter = TypeAdapter(BusinessDate)
    if ok:
        assert adapter.validate_python(value) == date.fromisoformat(value)
    else:
        with pytest.raises(ValidationError):
            adapter.validate_python(value)
