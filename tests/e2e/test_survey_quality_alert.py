"""End to end with the real broker: the registry announces a customer, the survey learns it from the event,
a low SERVQUAL response raises ``quality_alert`` on ``creditflow.survey`` as a CloudEvent, and the
registry's customer overview shows the latest weighted gap."""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer

from shared.broker import EmbeddedBroker
from tests.support.databases import DatabaseFactory
from tests.support.harness import ServiceHarness, running_service
from tests.support.waiting import eventually

pytestmark = pytest.mark.broker

QUALITY_ALERT = "creditflow.survey.quality_alert.v1"
RESPONSE_SUBMITTED = "creditflow.survey.response_submitted.v1"


async def survey_events(bootstrap: str, customer_id: str, expected: int, wait_seconds: float = 20.0) -> list[Any]:
    """Records on creditflow.survey keyed by ``customer_id`` (at least ``expected`` of them, or the timeout)."""
    consumer = AIOKafkaConsumer(
        "creditflow.survey",
        bootstrap_servers=bootstrap,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        group_id=None,
    )
    await consumer.start()
    records: list[Any] = []
    try:
        deadline = time.monotonic() + wait_seconds
        while len(records) < expected and time.monotonic() < deadline:
            batch = await consumer.getmany(timeout_ms=500)
            records += [
                record for partition in batch.values() for record in partition if record.key == customer_id.encode()
            ]
    finally:
        await consumer.stop()
    return records


async def overview_gap(customers: ServiceHarness, customer_id: str) -> str | None:
    response = await customers.client.get(
        f"/v1/customers/{customer_id}/overview", headers=customers.auth("customers:read")
    )
    assert response.status_code == 200, response.text
    gap: str | None = response.json().get("servqual_weighted_gap")
    return gap


async def known_to_survey(survey: ServiceHarness, customer_id: str) -> bool:
    response = await survey.client.get(f"/v1/customers/{customer_id}", headers=survey.auth("survey:read"))
    return response.status_code == 200


async def test_low_response_raises_quality_alert_on_the_survey_topic(
    databases: DatabaseFactory, broker: EmbeddedBroker
) -> None:
    async with (
        running_service("customers", await databases.create("customers"), bootstrap=broker.bootstrap) as cu,
        running_service("survey", await databases.create("survey"), bootstrap=broker.bootstrap) as sv,
    ):
        registered = await cu.client.post(
            "/v1/customers",
            headers=cu.auth("customers:write"),
            json={
                "name": "Acme Trading Co.",
                "kind": "commercial",
                "lifecycle": "active",
                "tax_id": f"9131{uuid.uuid4().hex[:12]}",
                "region": "East China",
            },
        )
        assert registered.status_code == 201, registered.text
        customer_id = registered.json()["id"]
        await eventually(lambda: known_to_survey(sv, customer_id), what="survey to learn the customer")

        campaign = await sv.client.post(
            "/v1/campaigns",
            headers=sv.auth("survey:write"),
            json={"name": "2026 H1", "region": "East China", "alert_threshold": "-1"},
        )
        assert campaign.status_code == 201, campaign.text
        assert customer_id in campaign.json()["customer_ids"]
        campaign_id = campaign.json()["id"]
        invitations = await sv.client.post(
            f"/v1/campaigns/{campaign_id}/invitations",
            headers=sv.auth("survey:write"),
            json={"customer_ids": [customer_id]},
        )
        assert invitations.status_code == 201, invitations.text
        [invitation] = invitations.json()["items"]

        # Every gap −3: far below the −1 threshold.
        response = await sv.client.post(
            "/v1/responses",
            json={"invitation_token": invitation["token"], "expectations": [7] * 22, "perceptions": [4] * 22},
        )
        assert response.status_code == 201, response.text
        assert response.json()["weighted_gap"] == "-3.0000" and response.json()["quality_alert"] is True

        records = await survey_events(broker.bootstrap, customer_id, expected=2)
        by_type = {dict(record.headers)["ce_type"].decode(): record for record in records}
        assert set(by_type) == {RESPONSE_SUBMITTED, QUALITY_ALERT}
        alert = by_type[QUALITY_ALERT]
        headers = dict(alert.headers)
        assert headers["ce_specversion"] == b"1.0" and headers["ce_source"] == b"/creditflow/survey"
        assert headers["ce_subject"] == customer_id.encode() and headers["ce_id"] and headers["ce_time"]
        assert headers["content-type"] == b"application/json"
        data = json.loads(alert.value)
        assert data == {
            "customer_id": customer_id,
            "campaign_id": campaign_id,
            "response_id": response.json()["id"],
            "weighted_gap": "-3.0000",
            "threshold": "-1.0000",
        }
        submitted = json.loads(by_type[RESPONSE_SUBMITTED].value)
        assert submitted["weighted_gap"] == "-3.0000" and submitted["unweighted_gap"] == "-3.0000"
        assert submitted["dimension_gaps"] == {
            d: "-3.0000" for d in ("tangibles", "reliability", "responsiveness", "assurance", "empathy")
        }

        # The registry applies response_submitted: its overview shows the latest weighted gap.
        gap = await eventually(lambda: overview_gap(cu, customer_id), what="the overview to show the SERVQUAL gap")
        assert gap == "-3.0000"
