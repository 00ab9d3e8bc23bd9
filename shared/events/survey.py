"""Events produced by the survey service (topic ``creditflow.survey``)."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import ClassVar

from shared.events.base import Event


class ResponseSubmitted(Event):
    """A SERVQUAL response was scored (gaps = perception − expectation, 4 dp)."""

    event_type: ClassVar[str] = "creditflow.survey.response_submitted.v1"
    campaign_id: uuid.UUID
    response_id: uuid.UUID
    weighted_gap: Decimal
    unweighted_gap: Decimal
    dimension_gaps: dict[str, Decimal]


class QualityAlert(Event):
    """A customer's weighted SERVQUAL gap fell below the campaign's threshold."""

    event_type: ClassVar[str] = "creditflow.survey.quality_alert.v1"
    campaign_id: uuid.UUID
    response_id: uuid.UUID
    weighted_gap: Decimal
    threshold: Decimal
