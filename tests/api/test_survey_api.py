"""Survey API over HTTP against the real app: instrument, campaigns, invitation tokens, responses, scores.

Known customers are seeded straight into the survey's read model (what the registry's events would
do; the e2e test shows the event path). Bad input gets a 4xx problem and writes nothing.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest

from services.survey.settings import SurveySettings
from shared.clock import FixedClock
from tests.support.databases import DatabaseFactory
from tests.support.harness import ServiceHarness, running_service
from tests.support.problems import assert_problem
from tests.support.survey import (
    HIGH_E,
    HIGH_P,
    LOW_E,
    LOW_P,
    MID_E,
    MID_P,
    START,
    answer,
    create_campaign,
    invite,
    seed,
)

RESPONSE_SUBMITTED = "creditflow.survey.response_submitted.v1"
QUALITY_ALERT = "creditflow.survey.quality_alert.v1"

# Dimension items: tangibles 1–4, reliability 5–9, responsiveness 10–13, assurance 14–17, empathy 18–22.


@pytest.fixture
async def survey(databases: DatabaseFactory) -> AsyncIterator[ServiceHarness]:
    async with running_service(
        "survey", await databases.create("survey"), clock=FixedClock(START), invitation_ttl_hours=48
    ) as harness:
        yield harness


async def scores(h: ServiceHarness, campaign_id: str, **params: str) -> dict[str, Any]:
    response = await h.client.get(f"/v1/campaigns/{campaign_id}/scores", params=params, headers=h.auth("survey:read"))
    assert response.status_code == 200, response.text
    return dict(response.json())


async def snapshot(h: ServiceHarness) -> tuple[int, ...]:
    used = await h.count("invitations WHERE used_at IS NOT NULL")
    return (
        await h.count("campaigns"),
        await h.count("invitations"),
        used,
        await h.count("responses"),
        await h.outbox_count(),
    )


# --- instrument -------------------------------------------------------------------------------


async def test_instrument_has_22_items_in_five_dimensions_in_both_languages(survey: ServiceHarness) -> None:
    response = await survey.client.get("/v1/instrument")
    assert response.status_code == 200
    body = response.json()
    assert body["version"] == "servqual-1991" and body["item_count"] == 22 and len(body["items"]) == 22
    assert [point["value"] for point in body["scale"]] == [1, 2, 3, 4, 5, 6, 7]
    assert {d["dimension"]: d["items"] for d in body["dimensions"]} == {
        "tangibles": [1, 2, 3, 4],
        "reliability": [5, 6, 7, 8, 9],
        "responsiveness": [10, 11, 12, 13],
        "assurance": [14, 15, 16, 17],
        "empathy": [18, 19, 20, 21, 22],
    }
    assert {d["dimension"]: d["default_weight"] for d in body["dimensions"]} == {
        "tangibles": "11",
        "reliability": "32",
        "responsiveness": "22",
        "assurance": "19",
        "empathy": "16",
    }
    first = body["items"][0]
    assert first["dimension"] == "tangibles" and first["expectation"]["en"] and first["expectation"]["zh_hans"]
    assert body["items"][21]["dimension"] == "empathy"
    english = (await survey.client.get("/v1/instrument", params={"language": "en"})).json()
    assert english["languages"] == ["en"] and english["items"][0]["perception"]["zh_hans"] is None
    assert_problem(await survey.client.get("/v1/instrument", params={"version": "servqual-1988"}), 404)
    assert_problem(await survey.client.get("/v1/instrument", params={"version": "v9"}), 422, "query.version")


# --- campaigns, invitations, responses, scores ------------------------------------------------


async def test_campaign_tokens_and_scores_change_as_responses_arrive(survey: ServiceHarness) -> None:
    first, second = await seed(survey), await seed(survey)
    campaign = await create_campaign(survey, customer_ids=[first, second])
    assert campaign["weights"] == {
        "tangibles": "11",
        "reliability": "32",
        "responsiveness": "22",
        "assurance": "19",
        "empathy": "16",
    }
    assert sorted(campaign["customer_ids"]) == sorted([first, second])
    assert campaign["invitations"] == 0 and campaign["response_rate"] == "0.0000"
    empty = await scores(survey, campaign["id"])
    assert empty["respondents"] == 0 and empty["weighted_servqual"] is None

    invitations = await invite(survey, campaign["id"])
    assert {i["customer_id"] for i in invitations} == {first, second}
    tokens = {i["customer_id"]: i["token"] for i in invitations}

    response = await answer(survey, tokens[first], MID_E, MID_P)  # no staff JWT: the token is enough
    assert response.status_code == 201, response.text
    submitted = response.json()
    assert submitted["customer_id"] == first and submitted["quality_alert"] is False
    assert submitted["unweighted_gap"] == "-0.8000" and submitted["weighted_gap"] == "-0.9400"
    after_one = await scores(survey, campaign["id"])
    assert after_one["respondents"] == 1
    assert after_one["unweighted_servqual"] == "-0.8000" and after_one["weighted_servqual"] == "-0.9400"
    assert after_one["dimensions"]["reliability"] == {
        "mean_expectation": "7.0000",
        "mean_perception": "5.0000",
        "gap": "-2.0000",
        "verdict": "unacceptable",
        "weight": "32",
        "cronbach_alpha": {"expectation": None, "perception": None, "gap": None},
    }
    assert after_one["dimensions"]["empathy"]["verdict"] == "satisfactory"
    assert after_one["verdict"] == "unacceptable" and len(after_one["items"]) == 22

    again = await answer(survey, tokens[first], HIGH_E, HIGH_P)
    assert_problem(again, 409)
    assert again.json()["type"].endswith("/invitation-used")
    assert await survey.count("responses") == 1

    assert (await answer(survey, tokens[second], HIGH_E, HIGH_P)).status_code == 201
    after_two = await scores(survey, campaign["id"])
    # Means over the two respondents: unweighted (−0.8 + 1)/2 = 0.1; weighted (−0.94 + 1)/2 = 0.03.
    assert after_two["respondents"] == 2
    assert after_two["unweighted_servqual"] == "0.1000" and after_two["weighted_servqual"] == "0.0300"
    assert after_two["dimensions"]["reliability"]["gap"] == "-0.5000"
    assert after_two["verdict"] == "satisfactory"
    only_first = await scores(survey, campaign["id"], customer_id=first)
    assert only_first["respondents"] == 1 and only_first["weighted_servqual"] == "-0.9400"

    read = (await survey.client.get(f"/v1/campaigns/{campaign['id']}", headers=survey.auth("survey:read"))).json()
    assert read["invitations"] == 2 and read["invited_responses"] == 2 and read["response_rate"] == "1.0000"
    assert await survey.outbox_types() == [RESPONSE_SUBMITTED, RESPONSE_SUBMITTED]


async def test_response_rate_and_cronbach_alpha(survey: ServiceHarness) -> None:
    customers = [await seed(survey) for _ in range(3)]
    campaign = await create_campaign(survey, customer_ids=customers)
    tokens = [i["token"] for i in await invite(survey, campaign["id"])]
    # Tangibles items 1–4 of two respondents: E (7,6,7,6) and (5,5,4,4); P 5 everywhere.
    # Item variances 2, 1/2, 9/2, 2 → Σ 9; totals 26 and 18 → variance 32; α = 4/3 × (1 − 9/32) = 23/24.
    e1, e2 = [7, 6, 7, 6] + [6] * 18, [5, 5, 4, 4] + [6] * 18
    assert (await answer(survey, tokens[0], e1, [5] * 22)).status_code == 201
    assert (await answer(survey, tokens[1], e2, [5] * 22)).status_code == 201
    body = await scores(survey, campaign["id"])
    assert body["dimensions"]["tangibles"]["cronbach_alpha"]["expectation"] == "0.9583"
    assert body["dimensions"]["tangibles"]["cronbach_alpha"]["perception"] is None  # no variance
    read = (await survey.client.get(f"/v1/campaigns/{campaign['id']}", headers=survey.auth("survey:read"))).json()
    assert read["response_rate"] == "0.6667" and read["responses"] == 2


async def test_low_response_raises_quality_alert(survey: ServiceHarness) -> None:
    customer = await seed(survey)
    campaign = await create_campaign(survey, customer_ids=[customer], alert_threshold="-1.5")
    [invitation] = await invite(survey, campaign["id"])
    response = await answer(survey, invitation["token"], LOW_E, LOW_P)
    assert response.status_code == 201 and response.json()["quality_alert"] is True
    assert await survey.outbox_types() == [RESPONSE_SUBMITTED, QUALITY_ALERT]


async def test_own_importance_points_are_used_for_the_weighted_gap(survey: ServiceHarness) -> None:
    customer = await seed(survey)
    campaign = await create_campaign(survey, customer_ids=[customer])
    [invitation] = await invite(survey, campaign["id"])
    points = {"tangibles": 0, "reliability": 100, "responsiveness": 0, "assurance": 0, "empathy": 0}
    response = await answer(survey, invitation["token"], MID_E, MID_P, weights=points)
    assert response.status_code == 201, response.text
    assert response.json()["weighted_gap"] == "-2.0000" and response.json()["own_weights"] is True


async def test_staff_entry_needs_survey_write(survey: ServiceHarness) -> None:
    customer, stranger = await seed(survey), await seed(survey)
    campaign = await create_campaign(survey, customer_ids=[customer])
    body = {"campaign_id": campaign["id"], "customer_id": customer, "expectations": MID_E, "perceptions": MID_P}
    assert_problem(await survey.client.post("/v1/responses", json=body), 401)
    assert_problem(await survey.client.post("/v1/responses", json=body, headers=survey.auth("survey:read")), 403)
    assert_problem(
        await survey.client.post(
            "/v1/responses", json={**body, "customer_id": stranger}, headers=survey.auth("survey:write")
        ),
        422,
        "body.customer_id",
    )
    assert await snapshot(survey) == (1, 0, 0, 0, 0)
    staff = await survey.client.post("/v1/responses", json=body, headers=survey.auth("survey:write"))
    assert staff.status_code == 201, staff.text
    assert staff.json()["invitation_id"] is None
    assert (await scores(survey, campaign["id"]))["respondents"] == 1


async def test_segment_region_breakdowns_and_benchmarks(survey: ServiceHarness) -> None:
    key_east = await seed(survey, segment="key_account", region="East China")
    general_north = await seed(survey, segment="general", region="North China")
    await seed(survey, segment="key_account", region="South China")
    by_segment = await create_campaign(survey, segment="key_account")
    assert len(by_segment["customer_ids"]) == 2 and by_segment["segment"] == "key_account"
    campaign = await create_campaign(survey, customer_ids=[key_east, general_north])
    tokens = {i["customer_id"]: i["token"] for i in await invite(survey, campaign["id"])}
    assert (await answer(survey, tokens[key_east], MID_E, MID_P)).status_code == 201
    assert (await answer(survey, tokens[general_north], HIGH_E, HIGH_P)).status_code == 201
    key = await scores(survey, campaign["id"], segment="key_account")
    assert key["respondents"] == 1 and key["weighted_servqual"] == "-0.9400"
    north = await scores(survey, campaign["id"], region="North China")
    assert north["respondents"] == 1 and north["weighted_servqual"] == "1.0000"

    other = await create_campaign(survey, customer_ids=[key_east])
    [token] = [i["token"] for i in await invite(survey, other["id"])]
    assert (await answer(survey, token, LOW_E, LOW_P)).status_code == 201
    compared = await scores(survey, campaign["id"], compare_with=other["id"])
    assert compared["comparison"]["benchmark"] == other["id"]
    assert compared["comparison"]["weighted"] == {"subject": "0.0300", "benchmark": "-3.0000", "difference": "3.0300"}
    assert compared["comparison"]["dimensions"]["reliability"]["difference"] == "2.5000"

    entered = {"tangibles": "-0.5", "reliability": "-0.5", "responsiveness": "0.5", "assurance": "0", "empathy": "0.5"}
    response = await survey.client.post(
        f"/v1/campaigns/{campaign['id']}/benchmark",
        json={"label": "Competitor A", "dimension_gaps": entered},
        headers=survey.auth("survey:read"),
    )
    assert response.status_code == 200, response.text
    comparison = response.json()["comparison"]
    # Benchmark unweighted = 0/5 = 0; weighted = (−5.5 − 16 + 11 + 0 + 8)/100 = −0.025.
    assert comparison["benchmark"] == "Competitor A"
    assert comparison["unweighted"] == {"subject": "0.1000", "benchmark": "0.0000", "difference": "0.1000"}
    assert comparison["weighted"] == {"subject": "0.0300", "benchmark": "-0.0250", "difference": "0.0550"}
    bad = await survey.client.post(
        f"/v1/campaigns/{campaign['id']}/benchmark",
        json={"dimension_gaps": {**entered, "speed": "1"}},
        headers=survey.auth("survey:read"),
    )
    assert_problem(bad, 422, "body.dimension_gaps.speed")


async def test_campaign_list_pages_and_directory_route(survey: ServiceHarness) -> None:
    customer = await seed(survey)
    for _ in range(3):
        await create_campaign(survey, customer_ids=[customer])
    page = (await survey.client.get("/v1/campaigns", params={"limit": 2}, headers=survey.auth("survey:read"))).json()
    assert len(page["items"]) == 2 and page["next_cursor"]
    rest = (
        await survey.client.get(
            "/v1/campaigns", params={"limit": 2, "cursor": page["next_cursor"]}, headers=survey.auth("survey:read")
        )
    ).json()
    assert len(rest["items"]) == 1 and rest["next_cursor"] is None
    assert_problem(await survey.client.get(f"/v1/customers/{customer}"), 401)
    known = await survey.client.get(f"/v1/customers/{customer}", headers=survey.auth("survey:read"))
    assert known.status_code == 200 and known.json()["id"] == customer
    assert_problem(await survey.client.get(f"/v1/campaigns/{uuid.uuid4()}", headers=survey.auth("survey:read")), 404)


async def test_1988_answers_are_reverse_scored(survey: ServiceHarness) -> None:
    customer = await seed(survey)
    campaign = await create_campaign(survey, customer_ids=[customer], instrument_version="servqual-1988")
    [invitation] = await invite(survey, campaign["id"])
    # 1988 items 10–13 and 18–22 are negatively worded: 8 − x. E 2 → 6 and P 3 → 5 there: gap −1.
    expectations, perceptions = [6] * 22, [5] * 22
    for number in (10, 11, 12, 13, 18, 19, 20, 21, 22):
        expectations[number - 1], perceptions[number - 1] = 2, 3
    response = await answer(survey, invitation["token"], expectations, perceptions)
    assert response.status_code == 201, response.text
    assert set(response.json()["dimension_gaps"].values()) == {"-1.0000"}
    body = await scores(survey, campaign["id"])
    assert body["dimensions"]["empathy"]["mean_expectation"] == "6.0000"


async def test_response_retry_with_idempotency_key_replays_the_first(survey: ServiceHarness) -> None:
    customer = await seed(survey)
    campaign = await create_campaign(survey, customer_ids=[customer])
    [invitation] = await invite(survey, campaign["id"])
    body = {"invitation_token": invitation["token"], "expectations": MID_E, "perceptions": MID_P}
    first = await survey.client.post("/v1/responses", json=body, headers={"Idempotency-Key": "r-1"})
    replay = await survey.client.post("/v1/responses", json=body, headers={"Idempotency-Key": "r-1"})
    assert first.status_code == replay.status_code == 201
    assert replay.headers["idempotent-replayed"] == "true" and replay.json() == first.json()
    assert await survey.count("responses") == 1 and await survey.outbox_count() == 1


async def test_openapi_states_the_rounding_and_the_optional_bearer(survey: ServiceHarness) -> None:
    document = (await survey.client.get("/openapi.json")).json()
    scores_operation = document["paths"]["/v1/campaigns/{campaign_id}/scores"]["get"]
    assert "4 decimal places, ROUND_HALF_UP" in scores_operation["description"]
    submit = document["paths"]["/v1/responses"]["post"]
    assert {} in submit["security"] and submit["operationId"] == "submit_response"


# --- bad input: 4xx problem, nothing written --------------------------------------------------

BAD_CAMPAIGNS = [
    pytest.param(
        {"weights": {"tangibles": 11, "reliability": 32, "responsiveness": 22, "assurance": 19, "empathy": 15}},
        "body.weights",
        id="weights-sum-99",
    ),
    pytest.param(
        {"weights": {"tangibles": 11, "reliability": 32, "responsiveness": 22, "assurance": 19, "speed": 16}},
        "body.weights.speed",
        id="unknown-dimension",
    ),
    pytest.param({"customer_ids": [str(uuid.uuid4())]}, "body.customer_ids[0]", id="unknown-customer"),
    pytest.param({"customer_ids": None, "segment": "nobody"}, "body.segment", id="empty-segment"),
    pytest.param({"closes_at": "2026-02-01T00:00:00Z"}, "body.closes_at", id="closed-already"),
    pytest.param({"tolerance": "-0.1"}, "body.tolerance", id="negative-tolerance"),
    pytest.param({"instrument_version": "servqual-2030"}, "body.instrument_version", id="unknown-version"),
]


@pytest.mark.parametrize(("change", "field"), BAD_CAMPAIGNS)
async def test_bad_campaign_is_422_and_writes_nothing(
    survey: ServiceHarness, change: dict[str, Any], field: str
) -> None:
    customer = await seed(survey)
    body = {"name": "bad", "customer_ids": [customer], **change}
    body = {k: v for k, v in body.items() if v is not None}
    response = await survey.client.post("/v1/campaigns", json=body, headers=survey.auth("survey:write"))
    assert_problem(response, 422, field)
    assert await snapshot(survey) == (0, 0, 0, 0, 0)
    assert await survey.count("campaign_customers") == 0


def _replace(values: list[int], index: int, value: Any) -> list[Any]:
    changed: list[Any] = list(values)
    changed[index] = value
    return changed


BAD_RESPONSES = [
    pytest.param({"expectations": MID_E[:21]}, "body.expectations", id="21-answers"),
    pytest.param({"perceptions": [*MID_P, 5]}, "body.perceptions", id="23-answers"),
    pytest.param({"expectations": _replace(MID_E, 3, 0)}, "body.expectations.3", id="a-zero"),
    pytest.param({"perceptions": _replace(MID_P, 0, 8)}, "body.perceptions.0", id="an-eight"),
    pytest.param({"perceptions": _replace(MID_P, 5, True)}, "body.perceptions.5", id="a-bool"),
    pytest.param({"perceptions": _replace(MID_P, 5, "5")}, "body.perceptions.5", id="a-string"),
    pytest.param({"perceptions": _replace(MID_P, 5, 5.0)}, "body.perceptions.5", id="a-float"),
    pytest.param(
        {"weights": {"tangibles": 11, "reliability": 32, "responsiveness": 22, "assurance": 19, "empathy": 15}},
        "body.weights",
        id="weights-sum-99",
    ),
    pytest.param(
        {"weights": {"tangibles": 11, "reliability": 32, "responsiveness": 22, "assurance": 19, "speed": 16}},
        "body.weights.speed",
        id="unknown-dimension",
    ),
    pytest.param({"surprise": 1}, "body.surprise", id="unknown-field"),
]


@pytest.mark.parametrize(("change", "field"), BAD_RESPONSES)
async def test_bad_response_is_422_and_writes_nothing(
    survey: ServiceHarness, change: dict[str, Any], field: str
) -> None:
    customer = await seed(survey)
    campaign = await create_campaign(survey, customer_ids=[customer])
    [invitation] = await invite(survey, campaign["id"])
    before = await snapshot(survey)
    body = {"invitation_token": invitation["token"], "expectations": MID_E, "perceptions": MID_P, **change}
    assert_problem(await survey.client.post("/v1/responses", json=body), 422, field)
    assert await snapshot(survey) == before
    # The invitation is still usable after the refusal.
    assert (await answer(survey, invitation["token"], MID_E, MID_P)).status_code == 201


async def test_forged_and_expired_tokens_are_refused_and_write_nothing(survey: ServiceHarness) -> None:
    customer = await seed(survey)
    campaign = await create_campaign(survey, customer_ids=[customer])
    [invitation] = await invite(survey, campaign["id"])
    token = invitation["token"]
    before = await snapshot(survey)
    payload, signature = token.split(".")
    forged = f"{payload}.{('A' if signature[0] != 'A' else 'B')}{signature[1:]}"
    for bad in (forged, "not-a-token", token[:-2]):
        response = await answer(survey, bad, MID_E, MID_P)
        assert_problem(response, 401)
        assert response.json()["type"].endswith("/invalid-invitation")
    assert await snapshot(survey) == before
    # A token signed with another secret is forged too.
    async with running_service(
        "survey", survey.settings.database_url, clock=survey.clock, invitation_secret="another-secret"
    ) as other:
        assert_problem(await answer(other, token, MID_E, MID_P), 401)
    assert isinstance(survey.clock, FixedClock)
    survey.clock.advance(hours=48)  # the token is valid strictly before its expiry
    expired = await answer(survey, token, MID_E, MID_P)
    assert_problem(expired, 410)
    assert expired.json()["type"].endswith("/invitation-expired")
    assert await snapshot(survey) == before


async def test_invitations_for_strangers_or_after_close_are_refused(survey: ServiceHarness) -> None:
    customer, stranger = await seed(survey), await seed(survey)
    campaign = await create_campaign(survey, customer_ids=[customer], closes_at="2026-03-02T09:00:00Z")
    response = await survey.client.post(
        f"/v1/campaigns/{campaign['id']}/invitations",
        json={"customer_ids": [stranger]},
        headers=survey.auth("survey:write"),
    )
    assert_problem(response, 422, "body.customer_ids[0]")
    [invitation] = await invite(survey, campaign["id"])
    assert invitation["expires_at"] == "2026-03-02T09:00:00Z"  # capped at the campaign's close
    assert isinstance(survey.clock, FixedClock)
    survey.clock.advance(days=1)
    late = await survey.client.post(
        f"/v1/campaigns/{campaign['id']}/invitations", json={}, headers=survey.auth("survey:write")
    )
    assert_problem(late, 409)
    assert await survey.count("invitations") == 1


def test_production_refuses_the_default_invitation_secret() -> None:
    with pytest.raises(ValueError, match="INVITATION_SECRET"):
        SurveySettings(profile="production", jwt_secret="a-real-jwt-secret-of-at-least-32-bytes")
    settings = SurveySettings(
        profile="production", jwt_secret="a-real-jwt-secret-of-at-least-32-bytes", invitation_secret="real-one"
    )
    assert settings.invitation_secret.get_secret_value() == "real-one"


async def test_campaign_list_costs_the_same_queries_for_one_or_many(survey: ServiceHarness) -> None:
    customer = await seed(survey)
    await create_campaign(survey, customer_ids=[customer])
    with survey.statements() as one:
        await survey.client.get("/v1/campaigns", headers=survey.auth("survey:read"))
    for _ in range(5):
        campaign = await create_campaign(survey, customer_ids=[customer])
        await invite(survey, campaign["id"])
    with survey.statements() as many:
        page = (await survey.client.get("/v1/campaigns", headers=survey.auth("survey:read"))).json()
    assert len(page["items"]) == 6 and all(item["invitations"] in (0, 1) for item in page["items"])
    assert len(many) == len(one), "listing campaigns must not run queries per campaign (N+1)"


async def test_the_invitation_row_decides_expiry_not_the_tokens_own_claim(survey: ServiceHarness) -> None:
    from sqlalchemy import update

    from services.survey.models import Invitation

    customer = await seed(survey)
    campaign = await create_campaign(survey, customer_ids=[customer])
    [invitation] = await invite(survey, campaign["id"])
    # The invitation was cut short after the link went out; the token still claims 48 hours.
    async with survey.runtime.db.transaction() as session:
        await session.execute(
            update(Invitation).where(Invitation.id == uuid.UUID(invitation["id"])).values(expires_at=START)
        )
    before = await snapshot(survey)
    expired = await answer(survey, invitation["token"], MID_E, MID_P)
    assert_problem(expired, 410)
    assert await snapshot(survey) == before


async def test_one_response_per_customer_and_campaign(survey: ServiceHarness) -> None:
    customer = await seed(survey)
    campaign = await create_campaign(survey, customer_ids=[customer])
    staff = {"campaign_id": campaign["id"], "customer_id": customer, "expectations": MID_E, "perceptions": MID_P}
    first = await survey.client.post("/v1/responses", json=staff, headers=survey.auth("survey:write"))
    assert first.status_code == 201, first.text
    [invitation] = await invite(survey, campaign["id"])
    before = await snapshot(survey)
    again = await survey.client.post("/v1/responses", json=staff, headers=survey.auth("survey:write"))
    assert_problem(again, 409)
    # An invitation of the same customer cannot add a second one either.
    assert_problem(await answer(survey, invitation["token"], HIGH_E, HIGH_P), 409)
    assert await snapshot(survey) == before
