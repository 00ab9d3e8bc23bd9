"""Helpers of the credit API tests: known customers, assessments, checks, profiles, applied events."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from services.credit.handlers import EVENT_HANDLERS
from services.credit.models import KnownCustomer
from shared.consumer import EventContext
from shared.events.base import Envelope, Event
from tests.support.harness import ServiceHarness

NOW = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


CREDIT_TABLES = ("assessments", "credit_profiles", "limit_changes", "credit_checks")


FACTORS = ("character", "capacity", "capital", "collateral", "condition", "continuity")


# Working capital 1.5M, net assets 3M: the cap is 1.5M; grade A gives 1M, 20 % of working capital 300k.
FINANCIALS = {
    "total_assets": "5000000.00",
    "current_assets": "2500000.00",
    "current_liabilities": "1000000.00",
    "total_liabilities": "2000000.00",
    "retained_earnings": "800000.00",
    "ebit": "600000.00",
    "sales": "7000000.00",
}


async def known_customer(h: ServiceHarness, name: str = "Acme Trading Co.") -> str:
    """Put a customer in credit's directory as the registry's event would."""
    customer_id = uuid.uuid4()
    async with h.runtime.db.transaction() as session:
        session.add(
            KnownCustomer(
                id=customer_id,
                name=name,
                kind="commercial",
                lifecycle="active",
                segment="general",
                region=None,
                registered_at=NOW,
                updated_at=NOW,
            )
        )
    return str(customer_id)


def assessment_body(customer_id: str, score: int | str = 80, **changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "customer_id": customer_id,
        "currency": "CNY",
        "factors": {name: {"score": str(score), "evidence": f"{name} evidence"} for name in FACTORS},
        "financials": dict(FINANCIALS),
    }
    body.update(changes)
    return body


async def assess(h: ServiceHarness, customer_id: str, score: int | str = 80, **changes: Any) -> dict[str, Any]:
    response = await h.client.post(
        "/v1/assessments", json=assessment_body(customer_id, score, **changes), headers=h.auth("credit:write")
    )
    assert response.status_code == 201, response.text
    return dict(response.json())


async def check(h: ServiceHarness, customer_id: str, amount: str, **extra: Any) -> dict[str, Any]:
    response = await h.client.post(
        "/v1/credit-checks",
        json={"customer_id": customer_id, "amount": amount, **extra},
        headers=h.auth("credit:write"),
    )
    assert response.status_code == 201, response.text
    return dict(response.json())


async def profile(h: ServiceHarness, customer_id: str) -> dict[str, Any]:
    response = await h.client.get(f"/v1/profiles/{customer_id}", headers=h.auth("credit:read"))
    assert response.status_code == 200, response.text
    return dict(response.json())


async def nothing_written(h: ServiceHarness) -> None:
    for table in CREDIT_TABLES:
        assert await h.count(table) == 0, table
    assert await h.outbox_count() == 0


def envelope_of(event: Event) -> Envelope:
    return Envelope(
        id=str(uuid.uuid4()),
        type=event.event_type,
        source="/creditflow/collections",
        time=NOW,
        subject=str(event.customer_id),
        data=event,
        topic=event.topic(),
        partition=0,
        offset=0,
    )


async def apply(h: ServiceHarness, *events: Event) -> None:
    """Run credit's handlers for a run of events of one type in one transaction, as the inbox consumer does."""
    envelopes = [envelope_of(event) for event in events]
    async with h.runtime.db.transaction() as session:
        ctx = EventContext(session=session, envelope=envelopes[-1], clock=h.clock, settings=h.settings)
        for handler in EVENT_HANDLERS[type(events[0])]:
            if getattr(handler, "batch", False):
                await handler(ctx, envelopes)
            else:
                for envelope in envelopes:
                    await handler(ctx, envelope.data)
