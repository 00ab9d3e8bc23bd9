"""Helpers of the survey API tests: answers, campaigns, invitations and seeded responses."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from services.survey.models import KnownCustomer
from tests.support.harness import ServiceHarness

SIZES = {"tangibles": 4, "reliability": 5, "responsiveness": 4, "assurance": 4, "empathy": 5}


def answers(expectation: dict[str, int], perception: dict[str, int]) -> tuple[list[int], list[int]]:
    """Every item of a dimension answered alike: E and P per dimension."""
    exp = [expectation[d] for d, n in SIZES.items() for _ in range(n)]
    per = [perception[d] for d, n in SIZES.items() for _ in range(n)]
    return exp, per


# Hand-computed: gaps tangibles −1, reliability −2, responsiveness 0, assurance −1, empathy 0.
# unweighted = −4/5 = −0.8; weighted (11, 32, 22, 19, 16) = (−11 − 64 − 19)/100 = −0.94.
MID_E, MID_P = answers(
    {"tangibles": 6, "reliability": 7, "responsiveness": 5, "assurance": 6, "empathy": 5},
    {"tangibles": 5, "reliability": 5, "responsiveness": 5, "assurance": 5, "empathy": 5},
)
# All gaps −3: unweighted and weighted −3 (below the default −1 alert threshold).
LOW_E, LOW_P = [7] * 22, [4] * 22
# All gaps +1.
HIGH_E, HIGH_P = [5] * 22, [6] * 22


START = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


async def seed(h: ServiceHarness, *, segment: str = "general", region: str | None = "East China") -> str:
    customer_id = uuid.uuid4()
    async with h.runtime.db.transaction() as session:
        session.add(
            KnownCustomer(
                id=customer_id,
                name=f"Customer {customer_id.hex[:6]}",
                kind="commercial",
                lifecycle="active",
                segment=segment,
                region=region,
                registered_at=START,
                updated_at=START,
            )
        )
    return str(customer_id)


async def create_campaign(h: ServiceHarness, **body: Any) -> dict[str, Any]:
    response = await h.client.post("/v1/campaigns", json={"name": "2026 H1", **body}, headers=h.auth("survey:write"))
    assert response.status_code == 201, response.text
    return response.json()


async def invite(h: ServiceHarness, campaign_id: str, **body: Any) -> list[dict[str, Any]]:
    response = await h.client.post(
        f"/v1/campaigns/{campaign_id}/invitations", json=body, headers=h.auth("survey:write")
    )
    assert response.status_code == 201, response.text
    return list(response.json()["items"])


async def answer(h: ServiceHarness, token: str, expectations: list[int], perceptions: list[int], **extra: Any) -> Any:
    return await h.client.post(
        "/v1/responses",
        json={"invitation_token": token, "expectations": expectations, "perceptions": perceptions, **extra},
    )
