"""Scores over time: one point per campaign for a customer, a segment or a region, with the change.

Hand-computed (dimension order tangibles, reliability, responsiveness, assurance, empathy):
- MID: gaps −1, −2, 0, −1, 0; unweighted −0.8; weighted with the default weights (11, 32, 22, 19, 16)
  = (−11 − 64 − 19)/100 = −0.94, with equal weights (20 each) = −4 × 20/100 = −0.8.
- LOW: all gaps −3 (unweighted = weighted = −3); HIGH: all gaps +1 (unweighted = weighted = 1).
Campaign 1 (default weights): X answers MID, Y LOW, Z HIGH. Campaign 2 (equal weights), a day later:
X answers HIGH, Y MID.
- X: −0.8 / −0.94 then 1 / 1; change +1.8 / +1.94, dimensions +2, +3, +1, +2, +1.
- segment "key" (X and Y): campaign 1 gaps (−1−3)/2 = −2, (−2−3)/2 = −2.5, −1.5, −2, −1.5, unweighted −1.9,
  weighted mean(−0.94, −3) = −1.97; campaign 2 gaps 0, −0.5, 0.5, 0, 0.5, unweighted 0.1, weighted
  mean(1, −0.8) = 0.1; change +2 (every dimension), unweighted +2, weighted +2.07.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from shared.clock import FixedClock
from tests.support.databases import DatabaseFactory
from tests.support.harness import ServiceHarness, running_service
from tests.support.problems import assert_problem
from tests.support.survey import HIGH_E, HIGH_P, LOW_E, LOW_P, MID_E, MID_P, START, seed

DIMENSIONS = ("tangibles", "reliability", "responsiveness", "assurance", "empathy")
EQUAL = dict.fromkeys(DIMENSIONS, 20)


def gaps(*values: str) -> dict[str, str]:
    return dict(zip(DIMENSIONS, values, strict=True))


@pytest.fixture
async def survey(databases: DatabaseFactory) -> AsyncIterator[ServiceHarness]:
    async with running_service("survey", await databases.create("survey"), clock=FixedClock(START)) as harness:
        yield harness


async def campaign(h: ServiceHarness, customers: list[str], **body: Any) -> str:
    response = await h.client.post(
        "/v1/campaigns", json={"name": "wave", "customer_ids": customers, **body}, headers=h.auth("survey:write")
    )
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


async def respond(h: ServiceHarness, campaign_id: str, customer: str, answers: tuple[list[int], list[int]]) -> None:
    response = await h.client.post(
        "/v1/responses",
        json={
            "campaign_id": campaign_id,
            "customer_id": customer,
            "expectations": answers[0],
            "perceptions": answers[1],
        },
        headers=h.auth("survey:write"),
    )
    assert response.status_code == 201, response.text


async def trend(h: ServiceHarness, **params: str) -> dict[str, Any]:
    response = await h.client.get("/v1/scores/trend", params=params, headers=h.auth("survey:read"))
    assert response.status_code == 200, response.text
    return dict(response.json())


async def two_waves(h: ServiceHarness) -> tuple[str, str, str, str, str]:
    x = await seed(h, segment="key", region="East China")
    y = await seed(h, segment="key", region="West China")
    z = await seed(h, segment="general", region="East China")
    first = await campaign(h, [x, y, z], closes_at="2026-06-30T00:00:00Z")
    await respond(h, first, x, (MID_E, MID_P))
    await respond(h, first, y, (LOW_E, LOW_P))
    await respond(h, first, z, (HIGH_E, HIGH_P))
    assert isinstance(h.clock, FixedClock)
    h.clock.advance(days=1)
    second = await campaign(h, [x, y], weights=EQUAL, closes_at="2026-04-30T00:00:00Z")
    await respond(h, second, x, (HIGH_E, HIGH_P))
    await respond(h, second, y, (MID_E, MID_P))
    return x, y, z, first, second


def summary(point: dict[str, Any]) -> tuple[Any, ...]:
    return (
        point["respondents"],
        point["unweighted_servqual"],
        point["weighted_servqual"],
        point["verdict"],
        point["dimension_gaps"],
    )


async def test_customer_trend_per_campaign_with_change(survey: ServiceHarness) -> None:
    x, _, _, first, second = await two_waves(survey)
    body = await trend(survey, customer_id=x)
    assert body["customer_id"] == x and body["order_by"] == "created_at"
    one, two = body["points"]
    assert (one["campaign_id"], two["campaign_id"]) == (first, second)
    assert one["campaign_created_at"] == "2026-03-01T09:00:00Z" and two["campaign_created_at"] == "2026-03-02T09:00:00Z"
    assert summary(one) == (
        1,
        "-0.8000",
        "-0.9400",
        "unacceptable",
        gaps("-1.0000", "-2.0000", "0.0000", "-1.0000", "0.0000"),
    )
    assert one["change"] is None
    assert summary(two) == (1, "1.0000", "1.0000", "quality_surprise", gaps(*["1.0000"] * 5))
    assert two["change"] == {
        "unweighted_servqual": "1.8000",
        "weighted_servqual": "1.9400",
        "dimension_gaps": gaps("2.0000", "3.0000", "1.0000", "2.0000", "1.0000"),
    }
    # the same customer alone in its region
    assert [summary(p) for p in (await trend(survey, region="East China", segment="key"))["points"]] == [
        summary(one),
        summary(two),
    ]


async def test_segment_trend_means_over_respondents_and_can_follow_closing_dates(survey: ServiceHarness) -> None:
    _, _, z, first, second = await two_waves(survey)
    one, two = (await trend(survey, segment="key"))["points"]
    assert summary(one) == (
        2,
        "-1.9000",
        "-1.9700",
        "unacceptable",
        gaps("-2.0000", "-2.5000", "-1.5000", "-2.0000", "-1.5000"),
    )
    assert summary(two) == (
        2,
        "0.1000",
        "0.1000",
        "satisfactory",
        gaps("0.0000", "-0.5000", "0.5000", "0.0000", "0.5000"),
    )
    assert two["change"] == {
        "unweighted_servqual": "2.0000",
        "weighted_servqual": "2.0700",
        "dimension_gaps": gaps(*["2.0000"] * 5),
    }
    # by closes_at the second campaign (closing 30 April) comes first and the change turns round
    by_close = await trend(survey, segment="key", order_by="closes_at")
    assert [p["campaign_id"] for p in by_close["points"]] == [second, first]
    assert by_close["points"][0]["change"] is None
    assert by_close["points"][1]["change"]["weighted_servqual"] == "-2.0700"
    # Z only answered the first campaign; a customer with no responses has no points
    assert [p["campaign_id"] for p in (await trend(survey, customer_id=z))["points"]] == [first]
    assert (await trend(survey, segment="nobody"))["points"] == []


async def test_trend_costs_the_same_queries_for_one_or_many_campaigns(survey: ServiceHarness) -> None:
    x = await seed(survey, segment="key")
    await respond(survey, await campaign(survey, [x]), x, (MID_E, MID_P))
    with survey.statements() as one:
        await trend(survey, customer_id=x)
    for _ in range(4):
        await respond(survey, await campaign(survey, [x]), x, (HIGH_E, HIGH_P))
    with survey.statements() as many:
        assert len((await trend(survey, customer_id=x))["points"]) == 5
    assert len(many) == len(one), "the trend must not run queries per campaign"


@pytest.mark.parametrize(
    "params, status, field",
    [
        ({}, 422, "query.customer_id"),
        ({"customer_id": "00000000-0000-0000-0000-000000000001", "segment": "key"}, 422, "query.customer_id"),
        ({"customer_id": "not-a-uuid"}, 422, "query.customer_id"),
        ({"segment": "key", "order_by": "name"}, 422, "query.order_by"),
    ],
)
async def test_bad_trend_queries_are_422(
    survey: ServiceHarness, params: dict[str, str], status: int, field: str
) -> None:
    response = await survey.client.get("/v1/scores/trend", params=params, headers=survey.auth("survey:read"))
    assert_problem(response, status, field)


async def test_trend_needs_survey_read(survey: ServiceHarness) -> None:
    assert (await survey.client.get("/v1/scores/trend", params={"segment": "key"})).status_code == 401
    response = await survey.client.get(
        "/v1/scores/trend", params={"segment": "key"}, headers=survey.auth("credit:read")
    )
    assert response.status_code == 403
