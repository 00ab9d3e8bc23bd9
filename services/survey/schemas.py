"""Request and response models of the survey API.

Scores are decimal strings with 4 decimal places, rounded ROUND_HALF_UP (halves away from zero)
from exact fractions; nothing is rounded before the end.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from services.survey.domain.instrument import ITEM_COUNT, SCALE_MAX, SCALE_MIN, Dimension, InstrumentVersion, Language
from services.survey.domain.verdicts import DEFAULT_TOLERANCE, Verdict
from shared.inputs import VisibleText

STRICT = ConfigDict(extra="forbid", str_strip_whitespace=True)

DEFAULT_ALERT_THRESHOLD = Decimal("-1.0000")

# A scale point: strictly a JSON integer 1–7 (true, "5" and 5.0 are refused).
ScalePoint = Annotated[int, Field(strict=True, ge=SCALE_MIN, le=SCALE_MAX)]
Answers = Annotated[list[ScalePoint], Field(min_length=ITEM_COUNT, max_length=ITEM_COUNT)]
Points = Annotated[Decimal, Field(ge=0, le=100, max_digits=7, decimal_places=4)]
Gap = Annotated[Decimal, Field(ge=-6, le=6, max_digits=6, decimal_places=4)]

WEIGHTS_DESCRIPTION = (
    "importance points per dimension (tangibles, reliability, responsiveness, assurance, "
    "empathy), exactly the five, summing to 100"
)
WEIGHTS_EXAMPLE: dict[str, Any] = {
    "tangibles": "11",
    "reliability": "32",
    "responsiveness": "22",
    "assurance": "19",
    "empathy": "16",
}


# --- instrument -------------------------------------------------------------------------------


class WordingRead(BaseModel):
    en: str | None = Field(None, description="English")
    zh_hans: str | None = Field(None, description="Simplified Chinese (zh-Hans)")


class ItemRead(BaseModel):
    number: int = Field(ge=1, le=ITEM_COUNT)
    dimension: Dimension
    expectation: WordingRead = Field(description="statement about excellent companies")
    perception: WordingRead = Field(description="statement about the rated company (placeholder XYZ)")


class ScalePointRead(BaseModel):
    value: int
    label: WordingRead


class DimensionRead(BaseModel):
    dimension: Dimension
    label: WordingRead
    items: list[int]
    default_weight: Decimal


class InstrumentRead(BaseModel):
    """The SERVQUAL questionnaire: 22 items in five dimensions, each answered for E and P on a 1–7 scale."""

    version: InstrumentVersion
    languages: list[Language]
    item_count: int
    scale: list[ScalePointRead]
    dimensions: list[DimensionRead]
    items: list[ItemRead]


# --- campaigns --------------------------------------------------------------------------------


class CampaignCreate(BaseModel):
    """A campaign for a list of known customers, or for every known customer matching a segment and/or region."""

    model_config = ConfigDict(
        extra="forbid",
        str_strip_whitespace=True,
        json_schema_extra={
            "examples": [
                {
                    "name": "2026 H1 key accounts",
                    "customer_ids": ["3f0c1e4e-7a61-4a4f-9d7e-2a8c1b5e6f70"],
                    "weights": WEIGHTS_EXAMPLE,
                    "tolerance": "0.25",
                    "alert_threshold": "-1.0",
                    "closes_at": "2026-06-30T23:59:59Z",
                }
            ]
        },
    )

    name: VisibleText = Field(min_length=1, max_length=200)
    customer_ids: list[uuid.UUID] | None = Field(
        None, min_length=1, max_length=10000, description="customers known from the registry's events"
    )
    segment: str | None = Field(
        None, min_length=1, max_length=20, description="instead of customer_ids: every known customer in this segment"
    )
    region: str | None = Field(
        None, min_length=1, max_length=100, description="instead of customer_ids: every known customer in this region"
    )
    weights: dict[str, Points] | None = Field(
        None,
        description=WEIGHTS_DESCRIPTION + "; default reliability 32, responsiveness 22, assurance 19, "
        "empathy 16, tangibles 11",
        examples=[WEIGHTS_EXAMPLE],
    )
    tolerance: Annotated[Decimal, Field(ge=0, le=6, max_digits=6, decimal_places=4)] = Field(
        DEFAULT_TOLERANCE, description="|gap| within this reads as satisfactory (P ≈ E)"
    )
    alert_threshold: Gap = Field(
        DEFAULT_ALERT_THRESHOLD, description="a customer's weighted gap strictly below this raises quality_alert"
    )
    instrument_version: InstrumentVersion = InstrumentVersion.SERVQUAL_1991
    closes_at: datetime | None = Field(None, description="no responses after this instant; caps invitation expiry")


class CampaignRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    name: str
    instrument_version: InstrumentVersion
    weights: dict[Dimension, Decimal]
    tolerance: Decimal
    alert_threshold: Decimal
    segment: str | None
    region: str | None
    closes_at: datetime | None
    customer_ids: list[uuid.UUID]
    invitations: int = Field(description="invitations issued")
    responses: int = Field(description="responses received (through invitations or entered by staff)")
    invited_responses: int = Field(description="invitations used")
    response_rate: Decimal = Field(description="invitations used / invitations issued, 4 dp (0.4286 = 42.86 %)")
    reminders: int = Field(0, description="reminders sent, over all the campaign's invitations")
    last_reminded_at: datetime | None = Field(None, description="when the latest reminder was sent")
    created_by: str
    version: int
    created_at: datetime
    updated_at: datetime


class InvitationCreate(BaseModel):
    """Whom to invite; by default every customer of the campaign."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{}]})
    customer_ids: list[uuid.UUID] | None = Field(
        None, min_length=1, max_length=10000, description="a subset of the campaign's customers"
    )


class InvitationRead(BaseModel):
    id: uuid.UUID
    campaign_id: uuid.UUID
    customer_id: uuid.UUID
    token: str = Field(description="single-use signed token; send it to the respondent (e.g. in a link)")
    expires_at: datetime


class InvitationBatch(BaseModel):
    campaign_id: uuid.UUID
    items: list[InvitationRead]


class ReminderCreate(BaseModel):
    """Which open invitations to remind: all unused and unexpired ones, or only those not reminded recently."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"min_hours_since_last": 48}]})
    min_hours_since_last: int | None = Field(
        None,
        ge=0,
        le=24 * 366,
        description="skip invitations reminded less than this many hours ago (never-reminded ones always qualify)",
    )


class ReminderRead(BaseModel):
    invitation_id: uuid.UUID
    customer_id: uuid.UUID
    reminder_number: int = Field(ge=1, description="1 for the first reminder of this invitation, 2 for the second…")
    token: str = Field(description="the invitation's token again (unchanged), to put in the reminder")
    expires_at: datetime


class ReminderBatch(BaseModel):
    campaign_id: uuid.UUID
    reminded_at: datetime
    items: list[ReminderRead]


# --- responses --------------------------------------------------------------------------------


class ResponseCreate(BaseModel):
    """22 expectations and 22 perceptions (integers 1–7) through an invitation token, or entered by staff."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "invitation_token": "AQ...",
                    "expectations": [7, 6, 6, 5, 7, 7, 7, 6, 7, 6, 6, 7, 6, 7, 7, 6, 6, 5, 6, 6, 7, 6],
                    "perceptions": [6, 6, 5, 5, 6, 5, 6, 6, 5, 5, 6, 6, 5, 6, 6, 6, 5, 5, 5, 6, 6, 5],
                    "weights": WEIGHTS_EXAMPLE,
                }
            ]
        },
    )

    invitation_token: str | None = Field(
        None, min_length=1, max_length=500, description="the respondent's token; no staff JWT needed with it"
    )
    campaign_id: uuid.UUID | None = Field(None, description="staff entry only (with a survey:write JWT)")
    customer_id: uuid.UUID | None = Field(None, description="staff entry only (with a survey:write JWT)")
    expectations: Answers = Field(description="items 1–22, expectation E, each an integer 1–7")
    perceptions: Answers = Field(description="items 1–22, perception P, each an integer 1–7")
    weights: dict[str, Points] | None = Field(
        None, description="optional " + WEIGHTS_DESCRIPTION, examples=[WEIGHTS_EXAMPLE]
    )


class ResponseRead(BaseModel):
    id: uuid.UUID
    campaign_id: uuid.UUID
    customer_id: uuid.UUID
    invitation_id: uuid.UUID | None
    instrument_version: InstrumentVersion
    dimension_gaps: dict[Dimension, Decimal]
    unweighted_gap: Decimal
    weighted_gap: Decimal
    weights: dict[Dimension, Decimal] = Field(description="the weights the weighted gap used")
    own_weights: bool
    quality_alert: bool = Field(description="weighted gap below the campaign's alert threshold")
    created_at: datetime


# --- scores -----------------------------------------------------------------------------------


class AlphaRead(BaseModel):
    expectation: Decimal | None = Field(description="null when undefined (fewer than 2 respondents, no variance)")
    perception: Decimal | None
    gap: Decimal | None


class ItemScoreRead(BaseModel):
    number: int
    dimension: Dimension
    mean_expectation: Decimal
    mean_perception: Decimal
    gap: Decimal


class DimensionScoreRead(BaseModel):
    mean_expectation: Decimal
    mean_perception: Decimal
    gap: Decimal
    verdict: Verdict
    weight: Decimal = Field(description="the campaign's weight")
    cronbach_alpha: AlphaRead


class ComparisonRowRead(BaseModel):
    subject: Decimal
    benchmark: Decimal
    difference: Decimal = Field(description="subject − benchmark; positive = subject better")


class ComparisonRead(BaseModel):
    benchmark: str = Field(description="what was compared with: a campaign id or the entered label")
    dimensions: dict[Dimension, ComparisonRowRead]
    unweighted: ComparisonRowRead
    weighted: ComparisonRowRead | None


class ScoresRead(BaseModel):
    """Scores of a campaign (or one customer / segment / region of it); all 4 dp ROUND_HALF_UP."""

    campaign_id: uuid.UUID
    customer_id: uuid.UUID | None = None
    segment: str | None = None
    region: str | None = None
    respondents: int
    tolerance: Decimal
    unweighted_servqual: Decimal | None = Field(description="mean of the five dimension gaps; null without responses")
    weighted_servqual: Decimal | None = Field(
        description="mean over respondents of Σ weight × dimension gap / 100 (own points, else campaign weights)"
    )
    verdict: Verdict | None = Field(description="overall, on the weighted score")
    dimensions: dict[Dimension, DimensionScoreRead]
    items: list[ItemScoreRead]
    comparison: ComparisonRead | None = None


class BenchmarkCreate(BaseModel):
    """Entered benchmark scores (e.g. a competitor's published SERVQUAL gaps), per dimension."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "label": "Competitor A 2025",
                    "dimension_gaps": {
                        "tangibles": "-0.50",
                        "reliability": "-0.90",
                        "responsiveness": "-0.70",
                        "assurance": "-0.60",
                        "empathy": "-0.80",
                    },
                }
            ]
        },
    )
    label: VisibleText = Field("benchmark", min_length=1, max_length=200)
    dimension_gaps: dict[str, Gap] = Field(description="gap per dimension, each in −6…+6, all five")


# --- scores over time ---------------------------------------------------------------------------

TrendOrder = Literal["created_at", "closes_at"]


class TrendChangeRead(BaseModel):
    """This point − the previous point (positive = better), 4 dp."""

    unweighted_servqual: Decimal
    weighted_servqual: Decimal
    dimension_gaps: dict[Dimension, Decimal]


class TrendPointRead(BaseModel):
    campaign_id: uuid.UUID
    campaign_name: str
    campaign_created_at: datetime
    closes_at: datetime | None
    respondents: int
    unweighted_servqual: Decimal
    weighted_servqual: Decimal
    verdict: Verdict = Field(description="on the weighted score, with the campaign's tolerance")
    dimension_gaps: dict[Dimension, Decimal]
    change: TrendChangeRead | None = Field(description="the change from the previous point; null for the first")


class TrendRead(BaseModel):
    """SERVQUAL scores of one customer, or of a segment and/or region, campaign after campaign."""

    customer_id: uuid.UUID | None = None
    segment: str | None = None
    region: str | None = None
    order_by: TrendOrder
    points: list[TrendPointRead]
