"""Money: cent rounding (ROUND_HALF_UP) and, in the API, ``Decimal`` in and a string with two places out.

Pure module (no I/O) so domain code may use it.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Annotated

from pydantic import Field, PlainSerializer, WithJsonSchema

CENT = Decimal("0.01")
ZERO = Decimal("0")


def to_cents(amount: Decimal) -> Decimal:
    """Round an amount to cents, ROUND_HALF_UP: the suite's one rounding rule for money."""
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


def money_string(value: Decimal) -> str:
    """The JSON form of an amount: two decimal places, half-up (amounts are stored with two already)."""
    return str(to_cents(Decimal(value)))


MONEY_PATTERN = r"^-?\d+\.\d{2}$"
_as_string = PlainSerializer(money_string, return_type=str, when_used="json")
# Responses document the exact form; requests are described by shared.openapi (a decimal string).
_response_schema = WithJsonSchema(
    {"type": "string", "pattern": MONEY_PATTERN, "examples": ["60000.00"]},
    mode="serialization",
)

Money = Annotated[Decimal, Field(max_digits=18, decimal_places=2, examples=["60000.00"]), _as_string, _response_schema]
PositiveMoney = Annotated[
    Decimal, Field(gt=0, max_digits=18, decimal_places=2, examples=["60000.00"]), _as_string, _response_schema
]
