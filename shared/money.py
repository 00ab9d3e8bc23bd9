"""Money: cent rounding (ROUND_HALF_UP) and, in the API, ``Decimal`` in and a string with two places out.

Amounts in are written with ASCII digits only: ``Decimal`` itself reads full-width ("１００") and
Arabic-Indic digits, which no billing system means to send. Amounts a client creates (``PositiveMoney``)
are at most ``MAX_AMOUNT`` (999,999,999,999.99): 15 significant digits, which PostgreSQL's NUMERIC(18, 2)
holds exactly and SQLite (whose NUMERIC columns store REAL, a double) reads back exactly at two places,
and sums over many of them still fit every read model.

Pure module (no I/O) so domain code may use it.
"""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal
from typing import Annotated, Any

from pydantic import BeforeValidator, Field, PlainSerializer, WithJsonSchema

CENT = Decimal("0.01")
ZERO = Decimal("0")
MAX_AMOUNT = Decimal("999999999999.99")
_ASCII_DECIMAL = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?", re.ASCII)


def to_cents(amount: Decimal) -> Decimal:
    """Round an amount to cents, ROUND_HALF_UP: the suite's one rounding rule for money."""
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


def money_string(value: Decimal) -> str:
    """The JSON form of an amount: two decimal places, half-up (amounts are stored with two already)."""
    return str(to_cents(Decimal(value)))


def ascii_digits_only(value: Any) -> Any:
    """Refuse an amount written as text with anything but ASCII digits, a sign, a point and an exponent."""
    if isinstance(value, str) and not _ASCII_DECIMAL.fullmatch(value.strip()):
        raise ValueError('an amount is written with ASCII digits, e.g. "1250.00"')
    return value


MONEY_PATTERN = r"^-?\d+\.\d{2}$"
_as_string = PlainSerializer(money_string, return_type=str, when_used="json")
_ascii = BeforeValidator(ascii_digits_only)
# Responses document the exact form; requests are described by shared.openapi (a decimal string).
_response_schema = WithJsonSchema(
    {"type": "string", "pattern": MONEY_PATTERN, "examples": ["60000.00"]},
    mode="serialization",
)

# The ASCII check wraps the decimal's own validation (a before-validator listed after the constraints
# keeps them on the decimal schema, so the JSON schema shows no pydantic-only keywords).
Money = Annotated[
    Decimal, Field(max_digits=18, decimal_places=2, examples=["60000.00"]), _ascii, _as_string, _response_schema
]
PositiveMoney = Annotated[
    Decimal,
    Field(gt=0, le=MAX_AMOUNT, max_digits=18, decimal_places=2, examples=["60000.00"]),
    _ascii,
    _as_string,
    _response_schema,
]
