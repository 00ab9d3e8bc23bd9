"""HTTP API of the survey service: instrument, campaigns, invitations, responses and scores."""

from __future__ import annotations

import uuid
from typing import Annotated, cast

from fastapi import APIRouter, Depends, Query, Request, Response, Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from services.survey import repository, service
from services.survey.domain.instrument import (
    DIMENSION_ITEMS,
    DIMENSION_LABELS,
    ITEM_COUNT,
    SERVQUAL_1991,
    InstrumentVersion,
    Language,
    Wording,
)
from services.survey.domain.weights import DEFAULT_WEIGHTS
from services.survey.models import KnownCustomer
from services.survey.schemas import (
    BenchmarkCreate,
    CampaignCreate,
    CampaignRead,
    DimensionRead,
    InstrumentRead,
    InvitationBatch,
    InvitationCreate,
    ItemRead,
    ReminderBatch,
    ReminderCreate,
    ResponseCreate,
    ResponseRead,
    ScalePointRead,
    ScoresRead,
    TrendOrder,
    TrendRead,
    WordingRead,
)
from services.survey.settings import SurveySettings
from shared.app import ClockDep, RuntimeDep, Session
from shared.auth import Principal, current_principal
from shared.directory_api import KnownCustomerRead
from shared.errors import NotFound
from shared.http import IdempotencyDep, Page, etag, keyset_position, next_keyset_cursor
from shared.problems import PROBLEM_RESPONSES

router = APIRouter(prefix="/v1", tags=["survey"], responses=PROBLEM_RESPONSES)
# The directory route of the thin slice, declared here: shared.directory_api's factory defines its
# ``Reader`` inside a function, which ``from __future__ import annotations`` turns into an unresolvable
# forward reference (the principal became a required query parameter and /openapi.json failed).
directory = APIRouter(prefix="/v1", tags=["customers"], responses=PROBLEM_RESPONSES)

Reader = Annotated[Principal, Security(current_principal, scopes=["survey:read"])]
Writer = Annotated[Principal, Security(current_principal, scopes=["survey:write"])]


@directory.get(
    "/customers/{customer_id}",
    response_model=KnownCustomerRead,
    summary="A customer as this service knows it from the registry",
)
async def get_known_customer(customer_id: uuid.UUID, session: Session, _principal: Reader) -> KnownCustomer:
    """404 until the registry's `customer_registered` event has been applied here."""
    row = await session.get(KnownCustomer, customer_id)
    if row is None:
        raise NotFound(f"customer {customer_id} is not known here (yet)")
    return row


_optional_bearer = HTTPBearer(auto_error=False, description="staff JWT (survey:write); not needed with a token")

ROUNDING = (
    "All scores are computed exactly (fractions) and presented as decimal strings rounded to "
    "4 decimal places, ROUND_HALF_UP (halves away from zero: 0.00005 → 0.0001, −0.00005 → −0.0001); "
    "nothing is rounded before the end, and verdicts are read on the presented values."
)


def _settings(runtime: RuntimeDep) -> SurveySettings:
    return cast(SurveySettings, runtime.settings)


async def _optional_principal(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_optional_bearer)],
) -> Principal | None:
    if credentials is None or credentials.scheme.lower() != "bearer":
        return None
    principal: Principal = request.app.state.token_verifier.verify(credentials.credentials)
    return principal


SettingsDep = Annotated[SurveySettings, Depends(_settings)]
OptionalPrincipal = Annotated[Principal | None, Depends(_optional_principal)]


def _wording(wording: Wording, language: Language | None) -> WordingRead:
    return WordingRead(
        en=wording.en if language in (None, Language.EN) else None,
        zh_hans=wording.zh_hans if language in (None, Language.ZH_HANS) else None,
    )


@router.get(
    "/instrument",
    response_model=InstrumentRead,
    summary="The SERVQUAL questionnaire",
    responses={404: {"description": "the wording of that instrument version is not served"}},
)
async def get_instrument(
    version: InstrumentVersion = InstrumentVersion.SERVQUAL_1991,
    language: Annotated[Language | None, Query(description="only this language's wording; both by default")] = None,
) -> InstrumentRead:
    """The 22 items (1991 revised, positively worded) with their dimensions, in English and Simplified Chinese,
    and the 1–7 agreement scale answered once for expectation (E) and once for perception (P).

    Only the 1991 wording is served; answers recorded against `servqual-1988` are accepted by campaigns of
    that version and reverse-scored (items 10–13 and 18–22) before scoring. Public: no token needed.
    """
    if version is not InstrumentVersion.SERVQUAL_1991:
        raise NotFound(
            f"the wording of {version.value} is not served; campaigns of that version reverse-score "
            "its negatively worded items"
        )
    instrument = SERVQUAL_1991
    return InstrumentRead(
        version=instrument.version,
        languages=[language] if language else list(Language),
        item_count=ITEM_COUNT,
        scale=[ScalePointRead(value=point.value, label=_wording(point.label, language)) for point in instrument.scale],
        dimensions=[
            DimensionRead(
                dimension=dimension,
                label=_wording(DIMENSION_LABELS[dimension], language),
                items=list(numbers),
                default_weight=DEFAULT_WEIGHTS[dimension],
            )
            for dimension, numbers in DIMENSION_ITEMS.items()
        ],
        items=[
            ItemRead(
                number=item.number,
                dimension=item.dimension,
                expectation=_wording(item.expectation, language),
                perception=_wording(item.perception, language),
            )
            for item in instrument.items
        ],
    )


@router.post(
    "/campaigns",
    status_code=201,
    response_model=CampaignRead,
    summary="Create a survey campaign",
    responses={201: {"headers": {"Location": {"schema": {"type": "string"}}, "ETag": {"schema": {"type": "string"}}}}},
)
async def create_campaign(
    body: CampaignCreate, session: Session, clock: ClockDep, principal: Writer, idempotency: IdempotencyDep
) -> Response:
    """A campaign for customers known from the registry's events: `customer_ids`, or every known customer
    matching `segment` and/or `region`. Weights default to reliability 32, responsiveness 22, assurance 19,
    empathy 16, tangibles 11 and must be the five dimensions summing to 100 (else 422)."""
    now = clock.now()

    async def create() -> CampaignRead:
        campaign = await service.create_campaign(session, body, principal.subject, now)
        return await service.read_campaign(session, campaign)

    return await idempotency.run(session, now, create, location=lambda read: f"/v1/campaigns/{read.id}")  # type: ignore[attr-defined]


@router.get("/campaigns", response_model=Page[CampaignRead], summary="List campaigns")
async def list_campaigns(
    session: Session,
    _principal: Reader,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: Annotated[str | None, Query(max_length=500, description="next_cursor of the previous page")] = None,
) -> Page[CampaignRead]:
    """Campaigns in creation order, with their response rates."""
    rows = await repository.page_campaigns(session, limit=limit + 1, after=keyset_position(cursor))
    items = await service.read_campaigns(session, list(rows[:limit]))
    return Page[CampaignRead](items=items, next_cursor=next_keyset_cursor(list(rows), limit))


@router.get(
    "/campaigns/{campaign_id}",
    response_model=CampaignRead,
    summary="Get a campaign",
    responses={200: {"headers": {"ETag": {"schema": {"type": "string"}}}}},
)
async def get_campaign(
    campaign_id: uuid.UUID, session: Session, _principal: Reader, response: Response
) -> CampaignRead:
    """The campaign, its customers, invitations issued, responses and response rate (used / issued)."""
    campaign = await service.get_campaign(session, campaign_id)
    response.headers["ETag"] = etag(campaign.version)
    return await service.read_campaign(session, campaign)


@router.post(
    "/campaigns/{campaign_id}/invitations",
    status_code=201,
    response_model=InvitationBatch,
    summary="Issue single-use invitation tokens",
)
async def issue_invitations(
    campaign_id: uuid.UUID,
    body: InvitationCreate,
    session: Session,
    clock: ClockDep,
    principal: Writer,
    settings: SettingsDep,
    idempotency: IdempotencyDep,
) -> Response:
    """One invitation per customer (all of the campaign's by default): an HMAC-signed token valid for
    `invitation_ttl_hours` (never past the campaign's `closes_at`). A token answers once (409 after),
    a forged one is 401, an expired one 410. Tokens are not stored (except as the replay of an Idempotency-Key)."""
    now = clock.now()

    async def create() -> InvitationBatch:
        campaign = await service.get_campaign(session, campaign_id)
        items = await service.issue_invitations(session, campaign, body.customer_ids, settings, principal.subject, now)
        return InvitationBatch(campaign_id=campaign.id, items=items)

    return await idempotency.run(session, now, create)


@router.post(
    "/campaigns/{campaign_id}/reminders",
    status_code=201,
    response_model=ReminderBatch,
    summary="Remind the customers who have not answered yet",
)
async def send_reminders(
    campaign_id: uuid.UUID,
    body: ReminderCreate,
    session: Session,
    clock: ClockDep,
    _principal: Writer,
    settings: SettingsDep,
    idempotency: IdempotencyDep,
) -> Response:
    """Records a reminder (count and time) on every invitation still unused and unexpired, optionally only
    on those not reminded within `min_hours_since_last` hours (never-reminded ones always qualify), and
    returns them with their reminder number and their (unchanged) token to send again. An empty list when
    nobody is due. A closed campaign is 409. The periodic reminder job (`reminders_enabled`) does the same
    every `reminder_interval_hours` for all open campaigns."""
    now = clock.now()

    async def create() -> ReminderBatch:
        campaign = await service.get_campaign(session, campaign_id)
        return await service.send_reminders(session, campaign, body.min_hours_since_last, settings, now)

    return await idempotency.run(session, now, create)


SUBMIT_DESCRIPTION = """22 expectations and 22 perceptions, each a JSON integer 1–7
(`true`, `"5"` and `5.0` are refused), and optional importance points (the five dimensions, summing to 100).

Respondents send their `invitation_token` and need no staff account: the token is used up in the same
transaction (409 when used, 401 when forged, 410 when expired). Staff send a Bearer JWT with
`survey:write` plus `campaign_id` and `customer_id`. Emits `creditflow.survey.response_submitted.v1`,
and `creditflow.survey.quality_alert.v1` when the weighted gap is below the campaign's alert threshold.
"""


@router.post(
    "/responses",
    status_code=201,
    response_model=ResponseRead,
    summary="Submit a SERVQUAL response",
    description=SUBMIT_DESCRIPTION + ROUNDING,
    openapi_extra={"security": [{}]},  # public with an invitation_token: the bearer is optional
    responses={201: {"headers": {"Location": {"schema": {"type": "string"}}}}},
)
async def submit_response(
    body: ResponseCreate,
    session: Session,
    clock: ClockDep,
    settings: SettingsDep,
    principal: OptionalPrincipal,
    idempotency: IdempotencyDep,
) -> Response:
    now = clock.now()

    async def create() -> ResponseRead:
        return await service.submit_response(session, body, principal, settings, now)

    return await idempotency.run(session, now, create, location=lambda read: f"/v1/campaigns/{read.campaign_id}/scores")  # type: ignore[attr-defined]


@router.get(
    "/campaigns/{campaign_id}/scores",
    response_model=ScoresRead,
    summary="SERVQUAL gap scores",
    description=(
        "Per item and per dimension mean E, mean P and gap (P − E); unweighted SERVQUAL (mean of the five "
        "dimension gaps); weighted SERVQUAL (mean over respondents of Σ weight × dimension gap / 100, "
        "each respondent's own points where given, else the campaign's weights); verdicts "
        "(quality_surprise above +tolerance, satisfactory within ±tolerance, unacceptable below "
        "−tolerance; overall on the weighted score); Cronbach's alpha per dimension for E, P and gaps "
        "(null when undefined). Narrow to one `customer_id`, `segment` or `region`; `compare_with` "
        "another campaign for benchmarking (difference = this − other). " + ROUNDING
    ),
)
async def get_campaign_scores(
    campaign_id: uuid.UUID,
    session: Session,
    _principal: Reader,
    customer_id: uuid.UUID | None = None,
    segment: Annotated[str | None, Query(min_length=1, max_length=20)] = None,
    region: Annotated[str | None, Query(min_length=1, max_length=100)] = None,
    compare_with: Annotated[uuid.UUID | None, Query(description="another campaign to benchmark against")] = None,
) -> ScoresRead:
    campaign = await service.get_campaign(session, campaign_id)
    read, _ = await service.scores(
        session, campaign, customer_id=customer_id, segment=segment, region=region, compare_with=compare_with
    )
    return read


@router.post(
    "/campaigns/{campaign_id}/benchmark",
    response_model=ScoresRead,
    summary="Compare a campaign with entered benchmark scores (标杆管理)",
    description=(
        "The campaign's scores with a comparison against entered dimension gaps (e.g. a "
        "competitor's published SERVQUAL scores); the benchmark's weighted score uses the "
        "campaign's weights. Nothing is stored. " + ROUNDING
    ),
)
async def benchmark_campaign(
    campaign_id: uuid.UUID, body: BenchmarkCreate, session: Session, _principal: Reader
) -> ScoresRead:
    campaign = await service.get_campaign(session, campaign_id)
    return await service.benchmark(session, campaign, body)


@router.get(
    "/scores/trend",
    response_model=TrendRead,
    summary="SERVQUAL scores over time",
    description=(
        "One point per campaign with responses from the `customer_id` (or from the known customers of "
        "`segment` and/or `region`), ordered by the campaign's `created_at` (default) or `closes_at` "
        "(campaigns without one last): respondents, unweighted and weighted SERVQUAL, verdict, the five "
        "dimension gaps, and `change` = this point − the previous one (null for the first; positive = "
        "better). Give `customer_id` or `segment`/`region` (not both; one of them is required, else 422). " + ROUNDING
    ),
)
async def get_score_trend(
    session: Session,
    _principal: Reader,
    customer_id: uuid.UUID | None = None,
    segment: Annotated[str | None, Query(min_length=1, max_length=20)] = None,
    region: Annotated[str | None, Query(min_length=1, max_length=100)] = None,
    order_by: Annotated[TrendOrder, Query(description="order the campaigns by created_at or closes_at")] = "created_at",
) -> TrendRead:
    return await service.trend(session, customer_id=customer_id, segment=segment, region=region, order_by=order_by)
