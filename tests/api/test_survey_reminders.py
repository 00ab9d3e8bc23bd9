"""Reminders for invitations not answered yet: on request and from the periodic job."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from services.survey.app import SPEC, send_due_reminders
from services.survey.settings import SurveySettings
from shared.clock import FixedClock
from tests.support.databases import DatabaseFactory
from tests.support.harness import ServiceHarness, running_service
from tests.support.problems import assert_problem
from tests.support.survey import (
    LOW_E,
    LOW_P,
    START,
    answer,
    create_campaign,
    invite,
    seed,
)


@pytest.fixture
async def survey(databases: DatabaseFactory) -> AsyncIterator[ServiceHarness]:
    async with running_service(
        "survey",
        await databases.create("survey"),
        clock=FixedClock(START),
        invitation_ttl_hours=96,
        reminder_interval_hours=24,
    ) as harness:
        yield harness


async def remind(h: ServiceHarness, campaign_id: str, **body: Any) -> Any:
    return await h.client.post(f"/v1/campaigns/{campaign_id}/reminders", json=body, headers=h.auth("survey:write"))


async def campaign(h: ServiceHarness, campaign_id: str) -> dict[str, Any]:
    response = await h.client.get(f"/v1/campaigns/{campaign_id}", headers=h.auth("survey:read"))
    assert response.status_code == 200, response.text
    return dict(response.json())


def advance(h: ServiceHarness, **delta: int) -> None:
    assert isinstance(h.clock, FixedClock)
    h.clock.advance(**delta)


async def test_reminders_go_to_unused_unexpired_invitations_and_are_counted(survey: ServiceHarness) -> None:
    a, b, c = await seed(survey), await seed(survey), await seed(survey)
    created = await create_campaign(survey, customer_ids=[a, b, c])
    issued = {item["customer_id"]: item for item in await invite(survey, created["id"], customer_ids=[a, b])}
    assert (await answer(survey, issued[a]["token"], LOW_E, LOW_P)).status_code == 201

    first = await remind(survey, created["id"])
    assert first.status_code == 201, first.text
    body = first.json()
    assert body["campaign_id"] == created["id"] and body["reminded_at"] == "2026-03-01T09:00:00Z"
    # a answered, c was never invited: only b is reminded, with its unchanged token
    assert [(i["invitation_id"], i["customer_id"], i["reminder_number"]) for i in body["items"]] == [
        (issued[b]["id"], b, 1)
    ]
    assert body["items"][0]["token"] == issued[b]["token"]
    read = await campaign(survey, created["id"])
    assert read["reminders"] == 1 and read["last_reminded_at"] == "2026-03-01T09:00:00Z"

    # reminded less than 48 h ago: skipped; without the condition it is reminded again
    advance(survey, hours=24)
    assert (await remind(survey, created["id"], min_hours_since_last=48)).json()["items"] == []
    again = (await remind(survey, created["id"], min_hours_since_last=24)).json()["items"]
    assert [(i["customer_id"], i["reminder_number"]) for i in again] == [(b, 2)]
    assert (await campaign(survey, created["id"]))["reminders"] == 2
    assert await survey.count("invitations WHERE reminder_count = 2") == 1
    assert await survey.count("invitations WHERE reminder_count = 0") == 1  # a's, answered

    # the invitation expires after 96 h: nothing left to remind
    advance(survey, hours=72)
    assert (await remind(survey, created["id"])).json()["items"] == []
    assert (await campaign(survey, created["id"]))["reminders"] == 2


async def test_reminders_for_a_closed_or_unknown_campaign_are_refused(survey: ServiceHarness) -> None:
    customer = await seed(survey)
    created = await create_campaign(survey, customer_ids=[customer], closes_at="2026-03-02T09:00:00Z")
    await invite(survey, created["id"])
    advance(survey, days=1)
    assert_problem(await remind(survey, created["id"]), 409)
    assert_problem(await remind(survey, "00000000-0000-0000-0000-000000000000"), 404)
    assert await survey.count("invitations WHERE reminder_count > 0") == 0


@pytest.mark.parametrize(
    "body, field",
    [
        ({"min_hours_since_last": -1}, "body.min_hours_since_last"),
        ({"min_hours_since_last": "soon"}, "body.min_hours_since_last"),
        ({"hours": 3}, "body.hours"),
    ],
)
async def test_bad_reminder_request_is_422_and_writes_nothing(
    survey: ServiceHarness, body: dict[str, Any], field: str
) -> None:
    customer = await seed(survey)
    created = await create_campaign(survey, customer_ids=[customer])
    await invite(survey, created["id"])
    assert_problem(await remind(survey, created["id"], **body), 422, field)
    assert await survey.count("invitations WHERE reminder_count > 0") == 0


async def test_reminders_need_survey_write(survey: ServiceHarness) -> None:
    customer = await seed(survey)
    created = await create_campaign(survey, customer_ids=[customer])
    await invite(survey, created["id"])
    url = f"/v1/campaigns/{created['id']}/reminders"
    assert (await survey.client.post(url, json={})).status_code == 401
    assert (await survey.client.post(url, json={}, headers=survey.auth("survey:read"))).status_code == 403
    assert await survey.count("invitations WHERE reminder_count > 0") == 0


async def test_reminder_retry_with_idempotency_key_replays(survey: ServiceHarness) -> None:
    customer = await seed(survey)
    created = await create_campaign(survey, customer_ids=[customer])
    await invite(survey, created["id"])
    headers = {**survey.auth("survey:write"), "Idempotency-Key": "remind-1"}
    url = f"/v1/campaigns/{created['id']}/reminders"
    first = await survey.client.post(url, json={}, headers=headers)
    second = await survey.client.post(url, json={}, headers=headers)
    assert first.status_code == second.status_code == 201
    assert second.headers["Idempotent-Replayed"] == "true" and second.json() == first.json()
    assert (await campaign(survey, created["id"]))["reminders"] == 1


async def test_periodic_job_reminds_invitations_whose_last_contact_is_old_enough(survey: ServiceHarness) -> None:
    [job] = SPEC.jobs
    assert job.name == "reminders" and not job.enabled(SurveySettings())  # off by default
    assert job.enabled(SurveySettings(reminders_enabled=True))
    a, b = await seed(survey), await seed(survey)
    open_campaign = await create_campaign(survey, customer_ids=[a])
    closing = await create_campaign(survey, customer_ids=[b], closes_at="2026-03-02T12:00:00Z")
    [invitation] = await invite(survey, open_campaign["id"])
    await invite(survey, closing["id"])

    assert await send_due_reminders(survey.runtime) == []  # just invited: not due before 24 h
    advance(survey, hours=24)
    batches = await send_due_reminders(survey.runtime)
    reminded = {
        str(batch.campaign_id): [(str(i.invitation_id), i.reminder_number) for i in batch.items] for batch in batches
    }
    assert reminded[open_campaign["id"]] == [(invitation["id"], 1)]
    assert len(reminded) == 2  # the closing campaign is still open at 09:00 on the 2nd
    advance(survey, hours=12)
    assert await send_due_reminders(survey.runtime) == []  # reminded 12 h ago; the other campaign closed
    advance(survey, hours=12)
    [batch] = await send_due_reminders(survey.runtime)
    assert str(batch.campaign_id) == open_campaign["id"] and batch.items[0].reminder_number == 2
    assert (await campaign(survey, open_campaign["id"]))["reminders"] == 2
    assert (await campaign(survey, closing["id"]))["reminders"] == 1
