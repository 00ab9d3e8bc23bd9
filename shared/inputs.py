"""Input types every service's schemas share: business dates in a sane range, text without hidden characters.

A date far outside business use (0001-01-01, 9999-12-31) overflows date arithmetic (due dates, interest
days) and is never meant; a name or number with a zero-width space, a bidi override or a control
character looks like another one and breaks uniqueness: both are refused at the edge with a 422.
"""

from __future__ import annotations

import unicodedata
from datetime import date
from typing import Annotated

from pydantic import AfterValidator, Field

EARLIEST_BUSINESS_DATE = date(1900, 1, 1)
LATEST_BUSINESS_DATE = date(2199, 12, 31)

BusinessDate = Annotated[
    date,
    Field(
        ge=EARLIEST_BUSINESS_DATE,
        le=LATEST_BUSINESS_DATE,
        description=f"a date from {EARLIEST_BUSINESS_DATE} to {LATEST_BUSINESS_DATE}",
    ),
]

_HIDDEN_CATEGORIES = frozenset({"Cc", "Cf"})  # control characters, format characters (zero-width, bidi)


def refuse_hidden_characters(value: str) -> str:
    """The text unchanged, or a ValueError naming the first control or format character in it."""
    if value.isprintable():
        # Printable text has no character of categories Cc or Cf (one C-level scan: 10,000 invoice
        # numbers a billing run); the loop below names the culprit otherwise (NBSP and such pass there).
        return value
    for character in value:
        if unicodedata.category(character) in _HIDDEN_CATEGORIES:
            raise ValueError(
                f"must not contain control or format characters (found U+{ord(character):04X} "
                f"{unicodedata.name(character, 'unnamed')})"
            )
    return value


VisibleText = Annotated[str, AfterValidator(refuse_hidden_characters)]
"""A name, number or label: no control (Cc) or format (Cf) characters such as NUL, tab, ZWSP or RLO."""


def identity_key(text: str) -> str:
    """The form under which two identifiers (invoice numbers ...) are the same one.

    NFKC (full-width and compatibility forms fold), every dash or minus sign becomes "-", runs of
    white space (NBSP included) become one space, the ends are trimmed, and case is folded:
    "INV-1", " inv‐1 " and "ＩＮＶ－１" share the key "inv-1". Keep the text as given for display.
    """
    if text.isascii():
        # ASCII: NFKC changes nothing, "-" is the only dash (Pd) and casefold() is lower(): the same key
        # without a Python-level loop over the characters.
        return " ".join(text.split()).lower()
    folded = unicodedata.normalize("NFKC", text)
    folded = "".join("-" if unicodedata.category(c) == "Pd" or c == "\u2212" else c for c in folded)
    return " ".join(folded.split()).casefold()
