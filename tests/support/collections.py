"""Helpers of the collections API tests: registry events applied through the service's own handlers,
invoices, sweeps."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from services.collections.handlers import EVENT_HANDLERS
from shared.consumer import EventContext
from shared.events.base import Envelope, Event
from shared.events.customers import ContractSigned, CustomerRegistered
from tests.support.harness import ServiceHarness

ADMIN = ("admin",)
WRITE = ("collections:write", "collections:read")
# Payments dated further back than the backdating window (30 days) need their own scope.
BACKDATING = (*WRITE, "collections:backdate")


async def apply(h: ServiceHarness, event: Event) -> None:
    """Apply ``event`` as the consumer would (same handlers, one transaction), without a broker."""
    envelope = Envelope(
        id=str(uuid.uuid4()),
        type=event.event_type,
        source="/test",
        time=datetime.now(UTC),
        subject=str(event.customer_id),
        data=event,
        topic=event.topic(),
        partition=0,
        offset=0,
    )
    async with h.runtime.db.transaction() as session:
        context = EventContext(session=session, envelope=envelope, clock=h.clock, settings=h.settings)
        for handler in EVENT_HANDLERS[type(event)]:
            # batch handlers (shared.consumer.batch_handler) take the run of envelopes
            await handler(context, [envelope] if getattr(handler, "batch", False) else event)


async def known_customer(
    h: ServiceHarness,
    *,
    segment: str = "general",
    clause: str | None = "court",
    commission: str | None = None,
    terms: str | None = None,
) -> str:
    customer_id = uuid.uuid4()
    await apply(
        h,
        CustomerRegistered(
            customer_id=customer_id, name="Acme Trading Co.", kind="commercial", lifecycle="active", segment=segment
        ),
    )
    if clause is not None:
        resolution = {"kind": clause} | ({"commission": commission} if commission else {})
        await apply(
            h,
            ContractSigned(
                customer_id=customer_id,
                contract_id=uuid.uuid4(),
                number="C-1",
                credit_terms=terms,
                dispute_resolution=resolution,
                valid_from="2026-01-01",
            ),
        )
    return str(customer_id)


def invoice_body(customer_id: str, /, **overrides: Any) -> dict[str, Any]:
    body = {
        "customer_id": customer_id,
        "number": f"INV-{uuid.uuid4().hex[:8]}",
        "issue_date": "2026-01-01",
        "due_date": "2026-01-31",
        "currency": "CNY",
        "amount": "60000.00",
    }
    body.update(overrides)
    return {key: value for key, value in body.items() if value is not None}


async def create_invoice(h: ServiceHarness, customer_id: str, **overrides: Any) -> dict[str, Any]:
    response = await h.client.post("/v1/invoices", json=invoice_body(customer_id, **overrides), headers=h.auth(*WRITE))
    assert response.status_code == 201, response.text
    return dict(response.json())


async def sweep(h: ServiceHarness, as_of: str) -> dict[str, Any]:
    response = await h.client.post("/v1/sweeps", json={"as_of": as_of}, headers=h.auth(*ADMIN))
    assert response.status_code == 200, response.text
    return dict(response.json())


async def case_of(h: ServiceHarness, invoice_id: str) -> dict[str, Any] | None:
    response = await h.client.get("/v1/cases", params={"limit": 200}, headers=h.auth(*WRITE))
    assert response.status_code == 200, response.text
    for item in response.json()["items"]:
        if item["invoice_id"] == invoice_id:
            detail = await h.client.get(f"/v1/cases/{item['id']}", headers=h.auth(*WRITE))
            return dict(detail.json())
    return None


async def run_stage_handlers(h: ServiceHarness, done: set[str]) -> int:
    """Apply the outbox's not yet applied ``stage_entered`` events through the handlers (no broker)."""
    from sqlalchemy import select

    from shared.events.collections import StageEntered
    from shared.tables import outbox

    async with h.runtime.db.transaction() as session:
        rows = (
            await session.execute(
                select(outbox.c.event_id, outbox.c.data)
                .where(outbox.c.event_type == StageEntered.event_type)
                .order_by(outbox.c.seq)
            )
        ).all()
    applied = 0
    for row in rows:
        if str(row.event_id) in done:
            continue
        done.add(str(row.event_id))
        await apply(h, StageEntered.model_validate_json(row.data))
        applied += 1
    return applied
