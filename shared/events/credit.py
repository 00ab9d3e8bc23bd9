"""Events produced by the credit service (topic ``creditflow.credit``)."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import ClassVar

from shared.events.base import Event


class CreditAssessed(Event):
    """A documented credit decision: 6C score and grade."""

    event_type: ClassVar[str] = "creditflow.credit.credit_assessed.v1"
    assessment_id: uuid.UUID
    score: Decimal
    grade: str
    assessed_by: str


class CreditLimitChanged(Event):
    """The customer's credit limit changed (recommendation or approved manual override)."""

    event_type: ClassVar[str] = "creditflow.credit.credit_limit_changed.v1"
    previous_limit: Decimal | None = None
    credit_limit: Decimal
    currency: str
    method: str
    reason: str | None = None


class CreditHoldPlaced(Event):
    """Supply stops for the customer (停止供货)."""

    event_type: ClassVar[str] = "creditflow.credit.credit_hold_placed.v1"
    reasons: list[str]


class CreditHoldReleased(Event):
    """Supply may resume."""

    event_type: ClassVar[str] = "creditflow.credit.credit_hold_released.v1"
    reason: str
