"""End to end with the real broker: what credit, collections and survey publish shows up in the registry's
overview and sales history; a contract with an arbitration clause reaches collections.

The other services' events are produced the honest way: written with ``emit`` in the producing service's own
database (its outbox), published by its own relay to the broker, consumed by the registry's inbox consumer.
"""

from __future__ import annotations

import json
import time
import uuid
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer
from sqlalchemy import select

from shared.broker import EmbeddedBroker
from shared.events.base import Event
from shared.events.collections import (
    CaseResolved,
    InvoiceIssued,
    PaymentReceived,
    ReceivablesChanged,
    StageEntered,
)
from shared.events.credit import CreditAssessed, CreditHoldPlaced, CreditHoldReleased, CreditLimitChanged
from shared.events.survey import QualityAlert, ResponseSubmitted
from shared.outbox import emit
from shared.tables import inbox
from tests.support.databases import DatabaseFactory
from tests.support.harness import ServiceHarness, running_service
from tests.support.waiting import eventually

pytestmark = pytest.mark.broker

NOW = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


async def register(cu: ServiceHarness, lifecycle: str = "active") -> str:
    response = await cu.client.post(
        "/v1/customers",
        headers=cu.auth("customers:write"),
        json={
            "name": "Acme Trading Co.",
            "kind": "commercial",
            "lifecycle": lifecycle,
            "tax_id": f"9131{uuid.uuid4().hex[:12]}",
            "region": "East China",
        },
    )
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


async def produce(producer: ServiceHarness, *events: Event) -> None:
    """Events of the producing service, through its own outbox and relay."""
    async with producer.runtime.db.transaction() as session:
        for event in events:
            await emit(session, event, at=producer.clock.now())


async def overview(cu: ServiceHarness, customer_id: str) -> dict[str, Any]:
    response = await cu.client.get(f"/v1/customers/{customer_id}/overview", headers=cu.auth("customers:read"))
    assert response.status_code == 200, response.text
    return dict(response.json())


def showing(cu: ServiceHarness, customer_id: str, **expected: Any) -> Any:
    async def probe() -> dict[str, Any] | None:
        current = await overview(cu, customer_id)
        return current if all(current[name] == value for name, value in expected.items()) else None

    return probe


async def test_credit_decisions_show_in_the_overview(databases: DatabaseFactory, broker: EmbeddedBroker) -> None:
    async with (
        running_service("customers", await databases.create("customers"), bootstrap=broker.bootstrap) as cu,
        running_service(
            "credit", await databases.create("credit"), bootstrap=broker.bootstrap, consumer_enabled=False
        ) as cr,
    ):
        customer_id = await register(cu)
        cid = uuid.UUID(customer_id)
        await produce(
            cr,
            CreditAssessed(
                customer_id=cid, assessment_id=uuid.uuid4(), score=Decimal("71.5"), grade="B", assessed_by="analyst"
            ),
            CreditLimitChanged(
                customer_id=cid, credit_limit=Decimal("150000.00"), currency="CNY", method="working_capital"
            ),
            CreditHoldPlaced(customer_id=cid, reasons=["overdue beyond 60 days"]),
        )
        seen = await eventually(
            showing(cu, customer_id, credit_grade="B", credit_limit="150000.00", credit_hold=True),
            what="credit's events in the overview",
        )
        assert seen["credit_hold_reasons"] == ["overdue beyond 60 days"] and seen["credit_limit_currency"] == "CNY"
        assert seen["name"] == "Acme Trading Co." and seen["lifecycle"] == "active"
        await produce(cr, CreditHoldReleased(customer_id=cid, reason="paid"))
        released = await eventually(showing(cu, customer_id, credit_hold=False), what="the hold release")
        assert released["credit_hold_reasons"] == [] and released["credit_grade"] == "B"


async def test_collections_events_feed_overview_and_sales_history(
    databases: DatabaseFactory, broker: EmbeddedBroker
) -> None:
    async with (
        running_service("customers", await databases.create("customers"), bootstrap=broker.bootstrap) as cu,
        running_service(
            "collections", await databases.create("collections"), bootstrap=broker.bootstrap, consumer_enabled=False
        ) as co,
    ):
        customer_id = await register(cu, lifecycle="lapsed")
        cid, invoice_id, case_id = uuid.UUID(customer_id), uuid.uuid4(), uuid.uuid4()
        await produce(
            co,
            InvoiceIssued(
                customer_id=cid,
                invoice_id=invoice_id,
                number="INV-1001",
                issue_date=date(2026, 1, 10),
                due_date=date(2026, 2, 9),
                currency="CNY",
                amount=Decimal("60000.00"),
                credit_terms="n/30",
            ),
            StageEntered(
                customer_id=cid,
                case_id=case_id,
                invoice_id=invoice_id,
                stage="letter",
                rule="letter-after-1-day",
                reason="1 day overdue",
                policy_version=1,
                days_overdue=1,
                currency="CNY",
                amount=Decimal("60000.00"),
                entered_at=NOW,
            ),
            StageEntered(
                customer_id=cid,
                case_id=case_id,
                invoice_id=invoice_id,
                stage="visit",
                previous_stage="letter",
                rule="visit-after-15-days",
                reason="15 days overdue",
                policy_version=1,
                days_overdue=15,
                currency="CNY",
                amount=Decimal("60000.00"),
                entered_at=NOW,
            ),
            ReceivablesChanged(
                customer_id=cid,
                currency="CNY",
                open_receivables=Decimal("60000.00"),
                overdue_amount=Decimal("60000.00"),
                oldest_overdue_days=15,
                highest_open_stage="visit",
                as_of=NOW,
            ),
        )
        seen = await eventually(
            showing(cu, customer_id, open_receivables="60000.00", collection_stage="visit"),
            what="collections' events in the overview",
        )
        assert seen["overdue_amount"] == "60000.00" and seen["last_purchase_on"] == "2026-01-10"
        # A purchase brings a lapsed customer back: lifecycle active, announced to everyone.
        assert seen["lifecycle"] == "active" and seen["version"] == 2
        assert (await cu.outbox_types())[-1] == "creditflow.customers.customer_updated.v1"
        sales = await cu.client.get(f"/v1/customers/{customer_id}/sales", headers=cu.auth("customers:read"))
        assert [(s["source"], s["amount"], s["invoice_id"]) for s in sales.json()] == [
            ("invoice", "60000.00", str(invoice_id))
        ]

        await produce(
            co,
            PaymentReceived(
                customer_id=cid,
                invoice_id=invoice_id,
                payment_id=uuid.uuid4(),
                paid_on=date(2026, 3, 1),
                currency="CNY",
                amount=Decimal("60000.00"),
                invoice_outstanding=Decimal("0"),
                invoice_status="paid",
            ),
            CaseResolved(
                customer_id=cid, case_id=case_id, invoice_id=invoice_id, resolution="paid", final_stage="visit"
            ),
            ReceivablesChanged(
                customer_id=cid, currency="CNY", open_receivables=Decimal("0"), overdue_amount=Decimal("0"), as_of=NOW
            ),
        )
        await eventually(
            showing(cu, customer_id, open_receivables="0.00", collection_stage=None),
            what="the payment and resolved case in the overview",
        )
        sales = await cu.client.get(f"/v1/customers/{customer_id}/sales", headers=cu.auth("customers:read"))
        assert sales.json()[0]["paid_amount"] == "60000.00" and sales.json()[0]["last_paid_on"] == "2026-03-01"


async def test_servqual_results_and_alerts_show_in_the_overview(
    databases: DatabaseFactory, broker: EmbeddedBroker
) -> None:
    async with (
        running_service("customers", await databases.create("customers"), bootstrap=broker.bootstrap) as cu,
        running_service(
            "survey", await databases.create("survey"), bootstrap=broker.bootstrap, consumer_enabled=False
        ) as sv,
    ):
        customer_id = await register(cu)
        cid, campaign_id, response_id = uuid.UUID(customer_id), uuid.uuid4(), uuid.uuid4()
        await produce(
            sv,
            ResponseSubmitted(
                customer_id=cid,
                campaign_id=campaign_id,
                response_id=response_id,
                weighted_gap=Decimal("-1.3750"),
                unweighted_gap=Decimal("-1.2000"),
                dimension_gaps={"reliability": Decimal("-2.0000")},
            ),
            QualityAlert(
                customer_id=cid,
                campaign_id=campaign_id,
                response_id=response_id,
                weighted_gap=Decimal("-1.3750"),
                threshold=Decimal("-1"),
            ),
        )
        seen = await eventually(
            showing(cu, customer_id, servqual_weighted_gap="-1.3750"), what="the SERVQUAL gap in the overview"
        )
        await eventually(lambda: _has_alert(cu, customer_id), what="the quality alert in the overview")
        assert seen["servqual_unweighted_gap"] == "-1.2000"
        alert = (await overview(cu, customer_id))["alerts"][0]
        assert alert["kind"] == "servqual_below_threshold"
        assert alert["details"]["response_id"] == str(response_id) and alert["details"]["threshold"] == "-1"


async def _has_alert(cu: ServiceHarness, customer_id: str) -> bool:
    return bool((await overview(cu, customer_id))["alerts"])


async def contract_events(bootstrap: str, customer_id: str, timeout: float = 20.0) -> list[Any]:
    consumer = AIOKafkaConsumer(
        "creditflow.customers",
        bootstrap_servers=bootstrap,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        group_id=None,
    )
    await consumer.start()
    found: list[Any] = []
    try:
        deadline = time.monotonic() + timeout
        while not found and time.monotonic() < deadline:
            batch = await consumer.getmany(timeout_ms=500)
            found += [
                r
                for records in batch.values()
                for r in records
                if r.key == customer_id.encode()
                and dict(r.headers).get("ce_type") == b"creditflow.customers.contract_signed.v1"
            ]
    finally:
        await consumer.stop()
    return found


async def test_arbitration_contract_reaches_collections(databases: DatabaseFactory, broker: EmbeddedBroker) -> None:
    async with (
        running_service("customers", await databases.create("customers"), bootstrap=broker.bootstrap) as cu,
        running_service("collections", await databases.create("collections"), bootstrap=broker.bootstrap) as co,
    ):
        customer_id = await register(cu)
        response = await cu.client.post(
            f"/v1/customers/{customer_id}/contracts",
            headers=cu.auth("customers:write"),
            json={
                "number": f"C-{uuid.uuid4().hex[:8]}",
                "signed_on": "2026-01-05",
                "valid_from": "2026-01-05",
                "valid_to": "2027-01-04",
                "credit_terms": "2/10,n/30",
                "dispute_resolution": {
                    "kind": "arbitration",
                    "commission": "Shanghai International Arbitration Center",
                },
            },
        )
        assert response.status_code == 201, response.text

        records = await contract_events(broker.bootstrap, customer_id)
        assert len(records) == 1
        headers = dict(records[0].headers)
        assert headers["ce_source"] == b"/creditflow/customers" and headers["ce_subject"] == customer_id.encode()
        data = json.loads(records[0].value)
        assert data["contract_id"] == response.json()["id"] and data["credit_terms"] == "2/10, n/30"
        assert data["dispute_resolution"] == {
            "kind": "arbitration",
            "commission": "Shanghai International Arbitration Center",
        }

        async def applied_by_collections() -> bool:
            async with co.runtime.db.transaction() as session:
                ids = (
                    (
                        await session.execute(
                            select(inbox.c.event_id).where(
                                inbox.c.event_type == "creditflow.customers.contract_signed.v1"
                            )
                        )
                    )
                    .scalars()
                    .all()
                )
            return headers["ce_id"].decode() in ids

        await eventually(applied_by_collections, what="collections to apply contract_signed")
