"""What every credit model shares: strict input, reading from rows, scores."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

from pydantic import ConfigDict, Field

from services.credit.domain.limits import LimitPolicy

DEFAULT_LIMIT_POLICY = LimitPolicy()


STRICT = ConfigDict(extra="forbid", str_strip_whitespace=True)


READ = ConfigDict(from_attributes=True)


Score = Annotated[Decimal, Field(max_digits=7, decimal_places=2, description="0–100")]
