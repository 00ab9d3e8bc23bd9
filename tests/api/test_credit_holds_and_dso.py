"""Collections' events applied by credit's handlers (driven directly here; the broker path is in e2e):
automatic holds placed and released only on change, exposure, DSO per customer and for the portfolio."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import text

from shared.events.collections import (
    ArrearsMarkedMalicious,
    CaseWrittenOff,
    InvoiceIssued,
    PaymentReceived,
    PaymentReversed,
    ReceivablesChanged,
    StageEntered,
)
from tests.support.credit import NOW, apply, assess, check, known_customer, profile
from tests.support.databases import DatabaseFactory
from tests.support.harness import ServiceHarness, running_service

HOLD_EVENTS = ("creditflow.credit.credit_hold_placed.v1", "creditflow.credit.credit_hold_released.v1")


@pytest.fixture
async def credit(databases: DatabaseFactory) -> AsyncIterator[ServiceHarness]:
    async with running_service("credit", await databases.create("credit")) as harness:
        yield harness


def stage(customer_id: str, name: str, *, stop_supply: bool = False, keep_supplying: bool = False) -> StageEntered:
    return StageEntered(
        customer_id=uuid.UUID(customer_id),
        case_id=uuid.uuid4(),
        invoice_id=uuid.uuid4(),
        stage=name,
        rule="test",
        reason="overdue",
        policy_version=1,
        days_overdue=60,
        currency="CNY",
        amount=Decimal("50000.00"),
        stop_supply=stop_supply,
        entered_at=NOW,
        keep_supplying=keep_supplying,
    )


def receivables(
    customer_id: str, open_amount: str, overdue: str, *, days: int = 0, highest: str | None = None
) -> ReceivablesChanged:
    return ReceivablesChanged(
        customer_id=uuid.UUID(customer_id),
        currency="CNY",
        open_receivables=Decimal(open_amount),
        overdue_amount=Decimal(overdue),
        oldest_overdue_days=days,
        highest_open_stage=highest,
        as_of=NOW,
    )


async def hold_events(h: ServiceHarness) -> list[str]:
    return [t for t in await h.outbox_types() if t in HOLD_EVENTS]


async def test_stop_supply_stage_holds_and_settlement_releases(credit: ServiceHarness) -> None:
    customer_id = await known_customer(credit)
    await assess(credit, customer_id)  # grade A: stop-supply stage is agency by default
    await apply(credit, receivables(customer_id, "50000.00", "50000.00", days=40, highest="letter"))
    await apply(credit, stage(customer_id, "visit"))
    assert await hold_events(credit) == []
    assert (await check(credit, customer_id, "1000.00"))["reasons"] == ["overdue_beyond_policy"]

    await apply(credit, stage(customer_id, "agency"))
    await apply(credit, stage(customer_id, "litigation"))  # already on hold: no second event
    assert await hold_events(credit) == ["creditflow.credit.credit_hold_placed.v1"]
    seen = await profile(credit, customer_id)
    assert seen["on_hold"] is True and seen["hold_reasons"] == ["collection_stage_reached"]
    assert seen["exposure"] == "50000.00" and seen["collection_stage"] == "litigation"
    assert "on_hold" in (await check(credit, customer_id, "1000.00"))["reasons"]

    await apply(credit, receivables(customer_id, "20000.00", "20000.00", days=45, highest="agency"))
    assert (await profile(credit, customer_id))["on_hold"] is True  # still overdue: kept, no event
    await apply(credit, receivables(customer_id, "0.00", "0.00"))
    assert await hold_events(credit) == list(HOLD_EVENTS)
    seen = await profile(credit, customer_id)
    assert seen["on_hold"] is False and seen["hold_reasons"] == [] and seen["exposure"] == "0.00"
    # Litigation cancelled the limit: settling releases the hold, a new assessment gives a limit again.
    assert seen["credit_limit"] == "0.00" and seen["limit_method"] == "cancelled"
    assert (await check(credit, customer_id, "1000.00"))["reasons"] == ["over_limit"]
    await assess(credit, customer_id)
    assert (await check(credit, customer_id, "1000.00"))["decision"] == "approve"


async def test_stop_supply_flag_holds_before_the_policy_stage(credit: ServiceHarness) -> None:
    customer_id = await known_customer(credit)
    await apply(credit, stage(customer_id, "letter", stop_supply=True))
    assert await hold_events(credit) == ["creditflow.credit.credit_hold_placed.v1"]


async def test_policy_stop_supply_stage_per_grade(credit: ServiceHarness) -> None:
    policy = await credit.client.get("/v1/policy", headers=credit.auth("credit:read"))
    document = policy.json()
    document["grades"]["A"]["stop_supply_stage"] = "visit"
    body = {key: document[key] for key in ("grades", "ungraded_stop_supply_stage", "thresholds", "weights")}
    put = await credit.client.put("/v1/policy", json=body, headers={**credit.auth("admin"), "If-Match": '"1"'})
    assert put.status_code == 200, put.text
    customer_id = await known_customer(credit)
    await assess(credit, customer_id)
    await apply(credit, stage(customer_id, "visit"))
    assert await hold_events(credit) == ["creditflow.credit.credit_hold_placed.v1"]


async def test_unknown_stage_without_flag_changes_nothing(credit: ServiceHarness) -> None:
    customer_id = await known_customer(credit)
    await apply(credit, stage(customer_id, "mediation"))
    assert await hold_events(credit) == []


async def _stage_run(credit: ServiceHarness, *, batched: bool) -> list[tuple[bool, str | None, list[str]]]:
    graded = await known_customer(credit, f"Graded {batched}")
    await assess(credit, graded)  # grade A: stop supply at agency
    flagged, fresh = str(uuid.uuid4()), str(uuid.uuid4())  # no profile yet: created by the run
    events = [
        stage(graded, "visit"),
        stage(flagged, "letter"),
        stage(graded, "agency"),  # places the hold
        stage(fresh, "letter"),
        stage(flagged, "visit", stop_supply=True),  # asked to stop supply: placed
        stage(graded, "litigation"),  # already on hold: no second event
        stage(graded, "visit"),  # a lower stage does not move the furthest stage back
    ]
    totals = [
        receivables(flagged, "9000.00", "0.00"),  # settled: released
        receivables(graded, "50000.00", "20000.00", days=40, highest="litigation"),  # still overdue: kept
        receivables(fresh, "300.00", "300.00").model_copy(update={"currency": "USD"}),  # another currency
    ]
    for run in (events, totals):
        if batched:
            await apply(credit, *run)
        else:
            for event in run:
                await apply(credit, event)
    async with credit.runtime.db.transaction() as session:
        rows = {
            str(row.customer_id): row
            for row in (
                await session.execute(
                    text("SELECT customer_id, on_hold, collection_stage, hold_reasons FROM credit_profiles")
                )
            ).all()
        }
    result = []
    for customer in (graded, flagged, fresh):
        seen = (await credit.client.get(f"/v1/profiles/{customer}", headers=credit.auth("credit:read"))).json()
        reasons = rows[customer].hold_reasons
        reasons = json.loads(reasons) if isinstance(reasons, str) else reasons
        result.append(
            (
                bool(rows[customer].on_hold),
                rows[customer].collection_stage,
                list(reasons),
                seen.get("open_receivables"),
                seen.get("receivables_by_currency"),
            )
        )
    return result


async def test_a_run_of_stage_events_for_many_customers_is_decided_like_one_by_one(credit: ServiceHarness) -> None:
    """The batch handler (one query, one decision per event in order, bulk writes) gives what single events give."""
    one_by_one = await _stage_run(credit, batched=False)
    assert await hold_events(credit) == [HOLD_EVENTS[0], HOLD_EVENTS[0], HOLD_EVENTS[1]]
    batched = await _stage_run(credit, batched=True)
    assert await hold_events(credit) == [HOLD_EVENTS[0], HOLD_EVENTS[0], HOLD_EVENTS[1]] * 2
    assert batched == one_by_one
    assert [row[:2] for row in batched] == [(True, "litigation"), (False, None), (False, None)]


async def test_dso_simple_and_countback_per_customer_and_portfolio(credit: ServiceHarness) -> None:
    customer_id = await known_customer(credit)
    other = await known_customer(credit, "Zeta Ltd")
    january, february = uuid.uuid4(), uuid.uuid4()
    for invoice_id, issued, amount in (
        (january, date(2026, 1, 15), "60000.00"),
        (february, date(2026, 2, 10), "30000.00"),
    ):
        await apply(
            credit,
            InvoiceIssued(
                customer_id=uuid.UUID(customer_id),
                invoice_id=invoice_id,
                number=f"INV-{issued}",
                issue_date=issued,
                due_date=issued,
                currency="CNY",
                amount=Decimal(amount),
                credit_terms="n/30",
            ),
        )
    await apply(
        credit,
        PaymentReceived(
            customer_id=uuid.UUID(customer_id),
            invoice_id=january,
            payment_id=uuid.uuid4(),
            paid_on=date(2026, 2, 4),
            currency="CNY",
            amount=Decimal("45000.00"),
            invoice_outstanding=Decimal("15000.00"),
            invoice_status="open",
        ),
    )
    await apply(credit, receivables(customer_id, "45000.00", "15000.00", days=45))
    dso = (await profile(credit, customer_id))["dso"]
    # Today 2026-03-01. Simple: 45,000 / 90,000 sales in the last 90 days × 90 = 45.00 days.
    # Countback: March 1 day (no sales) + February 28 days (30,000 absorbed, 15,000 left)
    #            + 15,000 / 60,000 × 31 January days = 7.75 → 36.75 days.
    assert dso == {
        "simple_days": "45.00",
        "simple_period_days": 90,
        "countback_days": "36.75",
        "countback_complete": True,
        "receivables": "45000.00",
        "credit_sales_in_period": "90000.00",
    }

    # Collections' own invoice history feeds the payment behaviour of the next assessment:
    # 45,000 of 90,000 collected (0.5), days late (2026-03-01 − due) = 45 and 19 → 32.
    body = await assess(credit, customer_id)
    assert body["payment_behaviour"]["source"] == "collections"
    assert body["payment_behaviour"]["collection_rate"] == "0.500000"
    assert body["payment_behaviour"]["average_days_late"] == "32.00"

    await apply(
        credit,
        InvoiceIssued(
            customer_id=uuid.UUID(other),
            invoice_id=uuid.uuid4(),
            number="Z-1",
            issue_date=date(2026, 2, 20),
            due_date=date(2026, 3, 22),
            currency="CNY",
            amount=Decimal("10000.00"),
            credit_terms="n/30",
        ),
    )
    report = await credit.client.get("/v1/reports/dso", headers=credit.auth("credit:read"))
    assert report.status_code == 200
    data = report.json()
    assert data["as_of"] == "2026-03-01"
    assert [row["name"] for row in data["customers"]] == ["Acme Trading Co.", "Zeta Ltd"]
    zeta = data["customers"][1]["dso"]
    # No receivables report yet: the invoice outstanding (10,000) counts; 10,000 / 10,000 × 90 = 90.
    assert zeta["receivables"] == "10000.00" and zeta["simple_days"] == "90.00"
    assert zeta["countback_days"] == "29.00"  # 1 day of March (no sales) + February's 10,000 absorbed whole: 28
    portfolio = data["portfolio"]
    assert portfolio["receivables"] == "55000.00" and portfolio["credit_sales_in_period"] == "100000.00"
    assert portfolio["simple_days"] == "49.50"  # 55,000 / 100,000 × 90
    assert portfolio["countback_days"] == "36.75"  # 1 + 28 (40,000 absorbed) + 15,000 / 60,000 × 31


async def test_invoiced_order_leaves_open_orders(databases: DatabaseFactory) -> None:
    async with running_service("credit", await databases.create("credit"), count_approved_checks_as_orders=True) as h:
        customer_id = await known_customer(h)
        await assess(h, customer_id)
        assert (await check(h, customer_id, "20000.00"))["counted_as_order"] is True
        invoice = InvoiceIssued(
            customer_id=uuid.UUID(customer_id),
            invoice_id=uuid.uuid4(),
            number="INV-1",
            issue_date=date(2026, 3, 1),
            due_date=date(2026, 3, 31),
            currency="CNY",
            amount=Decimal("15000.00"),
            credit_terms="n/30",
        )
        await apply(h, invoice)
        await apply(h, receivables(customer_id, "15000.00", "0.00"))
        seen = await profile(h, customer_id)
        assert seen["open_orders"] == "5000.00" and seen["open_receivables"] == "15000.00"
        assert seen["exposure"] == "20000.00"


async def test_bounced_cheque_no_longer_counts_as_collected(credit: ServiceHarness) -> None:
    customer_id = await known_customer(credit)
    invoice_id, payment_id = uuid.uuid4(), uuid.uuid4()
    await apply(
        credit,
        InvoiceIssued(
            customer_id=uuid.UUID(customer_id),
            invoice_id=invoice_id,
            number="INV-B",
            issue_date=date(2026, 1, 1),
            due_date=date(2026, 1, 31),
            currency="CNY",
            amount=Decimal("10000.00"),
            credit_terms="n/30",
        ),
    )
    await apply(
        credit,
        PaymentReceived(
            customer_id=uuid.UUID(customer_id),
            invoice_id=invoice_id,
            payment_id=payment_id,
            paid_on=date(2026, 1, 20),
            currency="CNY",
            amount=Decimal("10000.00"),
            invoice_outstanding=Decimal("0.00"),
            invoice_status="paid",
        ),
    )
    from services.credit import repository

    async with credit.runtime.db.transaction() as session:
        paid = await repository.invoice(session, invoice_id)
        assert paid is not None and paid.status == "paid" and paid.paid_amount == Decimal("10000.00")
    await apply(
        credit,
        PaymentReversed(
            customer_id=uuid.UUID(customer_id),
            invoice_id=invoice_id,
            payment_id=payment_id,
            reason="insufficient funds",
            currency="CNY",
            amount=Decimal("10000.00"),
            invoice_outstanding=Decimal("10000.00"),
            invoice_status="open",
            reversed_at=NOW,
        ),
    )
    async with credit.runtime.db.transaction() as session:
        reopened = await repository.invoice(session, invoice_id)
        assert reopened is not None and reopened.status == "open"
        assert reopened.paid_amount == Decimal("0.00") and reopened.outstanding == Decimal("10000.00")


async def test_breaches_of_the_grade_standard_show_on_the_profile_and_checks(credit: ServiceHarness) -> None:
    customer_id = await known_customer(credit)
    assert (await assess(credit, customer_id))["grade"] == "A"  # A expects DSO ≤ 45 days, bad debt ≤ 1 %
    old, recent = uuid.uuid4(), uuid.uuid4()
    for invoice_id, issued, amount in ((old, date(2025, 10, 1), "5000.00"), (recent, date(2026, 2, 1), "30000.00")):
        await apply(
            credit,
            InvoiceIssued(
                customer_id=uuid.UUID(customer_id),
                invoice_id=invoice_id,
                number=f"INV-{issued}",
                issue_date=issued,
                due_date=issued,
                currency="CNY",
                amount=Decimal(amount),
                credit_terms="n/30",
            ),
        )
    # 35,000 open against 30,000 sold in the last 90 days: 35,000 / 30,000 × 90 = 105 days.
    await apply(credit, receivables(customer_id, "35000.00", "0.00"))
    seen = await profile(credit, customer_id)
    assert seen["dso"]["simple_days"] == "105.00"
    assert seen["standard_breaches"] == ["dso_above_standard"] and seen["bad_debt_rate"] == "0.000000"
    approved = await check(credit, customer_id, "1000.00")
    assert approved["decision"] == "approve" and approved["reasons"] == ["dso_above_standard"]

    await apply(
        credit,
        CaseWrittenOff(
            customer_id=uuid.UUID(customer_id),
            case_id=uuid.uuid4(),
            invoice_id=old,
            currency="CNY",
            amount=Decimal("5000.00"),
            reason="debtor dissolved",
            actor="head-of-credit",
        ),
    )
    await apply(credit, receivables(customer_id, "30000.00", "0.00"))
    seen = await profile(credit, customer_id)
    # 5,000 written off of 35,000 billed = 14.29 %; DSO 30,000 / 30,000 × 90 = 90 days.
    assert seen["bad_debt_rate"] == "0.142857"
    assert seen["standard_breaches"] == ["dso_above_standard", "bad_debt_rate_above_standard"]
    blocked = await check(credit, customer_id, "1000000.00")
    assert blocked["reasons"] == ["over_limit", "dso_above_standard", "bad_debt_rate_above_standard"]


async def limit_changes(h: ServiceHarness, customer_id: str) -> list[tuple[str, str]]:
    """The profile's limit and how it was set."""
    response = await h.client.get(f"/v1/profiles/{customer_id}", headers=h.auth("credit:read"))
    seen = response.json()
    return [(seen["credit_limit"], seen["limit_method"])]


async def test_a_legal_stage_cancels_the_limit_until_a_new_assessment(credit: ServiceHarness) -> None:
    customer_id = await known_customer(credit)
    await assess(credit, customer_id)  # grade A, limit 300,000
    await apply(credit, stage(customer_id, "agency"))
    assert await limit_changes(credit, customer_id) == [("300000.00", "working_capital")]
    await apply(credit, stage(customer_id, "litigation"))
    assert await limit_changes(credit, customer_id) == [("0.00", "cancelled")]
    changed = [t for t in await credit.outbox_types() if t.endswith("credit_limit_changed.v1")]
    assert len(changed) == 2  # the assessment's, then the cancellation
    await apply(credit, stage(customer_id, "arbitration"))  # already cancelled: nothing more
    assert len([t for t in await credit.outbox_types() if t.endswith("credit_limit_changed.v1")]) == 2
    await apply(credit, receivables(customer_id, "0.00", "0.00"))  # settling the debt does not restore it
    assert await limit_changes(credit, customer_id) == [("0.00", "cancelled")]
    await assess(credit, customer_id)
    assert await limit_changes(credit, customer_id) == [("300000.00", "working_capital")]


async def test_policy_without_a_cancel_stage_never_cancels_by_itself(credit: ServiceHarness) -> None:
    customer_id = await known_customer(credit)
    await assess(credit, customer_id)
    document = (await credit.client.get("/v1/policy", headers=credit.auth("credit:read"))).json()
    assert document["cancel_limit_stage"] == "arbitration"
    body = {key: document[key] for key in ("grades", "ungraded_stop_supply_stage", "thresholds", "weights")}
    response = await credit.client.put(
        "/v1/policy",
        json={**body, "cancel_limit_stage": None},
        headers={**credit.auth("admin"), "If-Match": '"1"'},
    )
    assert response.status_code == 200, response.text
    await apply(credit, stage(customer_id, "litigation"))
    assert await limit_changes(credit, customer_id) == [("300000.00", "working_capital")]


async def test_manual_limit_cancellation(credit: ServiceHarness) -> None:
    customer_id = await known_customer(credit)
    await assess(credit, customer_id)
    path = f"/v1/profiles/{customer_id}/limit-cancellations"
    blank = await credit.client.post(path, json={"reason": "  "}, headers=credit.auth("credit:write"))
    assert blank.status_code == 422 and blank.json()["errors"][0]["field"] == "body.reason"
    assert await limit_changes(credit, customer_id) == [("300000.00", "working_capital")]
    response = await credit.client.post(
        path, json={"reason": "arrears marked malicious"}, headers=credit.auth("credit:write")
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert (body["method"], body["credit_limit"], body["previous_limit"]) == ("cancelled", "0.00", "300000.00")
    assert body["reason"] == "arrears marked malicious" and body["requested_by"] == "tester"
    assert (await credit.outbox_types())[-1] == "creditflow.credit.credit_limit_changed.v1"
    assert (await check(credit, customer_id, "1.00"))["reasons"] == ["over_limit"]
    again = await credit.client.post(path, json={"reason": "again"}, headers=credit.auth("credit:write"))
    assert again.status_code == 409
    override = await credit.client.post(
        f"/v1/profiles/{customer_id}/limit-overrides",
        json={"amount": "50000.00", "reason": "paid up, guarantee received", "approved_by": "head-of-credit"},
        headers=credit.auth("credit:write"),
    )
    assert override.status_code == 201, override.text
    assert await limit_changes(credit, customer_id) == [("50000.00", "manual_override")]


async def test_malicious_arrears_stop_supply(credit: ServiceHarness) -> None:
    customer_id = await known_customer(credit)
    await assess(credit, customer_id)

    def marked(stop_supply: bool) -> ArrearsMarkedMalicious:
        return ArrearsMarkedMalicious(
            customer_id=uuid.UUID(customer_id),
            case_id=uuid.uuid4(),
            invoice_id=uuid.uuid4(),
            reason="assets moved to a related company",
            actor="head-of-credit",
            stop_supply=stop_supply,
            marked_at=NOW,
        )

    # A key account reaches agency: collections keeps supplying it, so credit places no stage hold.
    await apply(credit, stage(customer_id, "agency", keep_supplying=True))
    await apply(credit, receivables(customer_id, "50000.00", "50000.00", days=75, highest="agency"))
    assert await hold_events(credit) == []
    await apply(credit, marked(False))
    assert await hold_events(credit) == []
    await apply(credit, marked(True))
    assert await hold_events(credit) == ["creditflow.credit.credit_hold_placed.v1"]
    seen = await profile(credit, customer_id)
    assert seen["on_hold"] is True and seen["hold_reasons"] == ["malicious_arrears", "collection_stage_reached"]
