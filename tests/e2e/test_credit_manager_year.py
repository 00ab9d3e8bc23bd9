"""A credit manager's year (issue 10): the escalation ladder and credit control across the three services.

Four debtors, each with a 60,000 invoice due 2026-01-31, on the real broker:

- General Goods (general, court clause, grade A): a second invoice of 20,000 is disputed and waits.
- Key Account Co (key account, arbitration clause, grade A): promises at day 75 to pay by day 150, breaks it.
- Risky Trading (high risk in the registry, court clause): pays by a cheque that bounces.
- Paper-Less Ltd (general, no contract on file, grade A): pays 10,000 on account at day 75.

Sweeps at day 1, 30, 60, 61, 75, 89, 90, 200 and three years later; at each one the case stage and
limitation date (collections), the hold and the limit (credit) and the overview (customers) are asserted.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import pytest

from shared.broker import EmbeddedBroker
from shared.clock import FixedClock
from tests.support.databases import DatabaseFactory
from tests.support.harness import ServiceHarness, running_service
from tests.support.waiting import eventually

pytestmark = pytest.mark.broker

DUE = date(2026, 1, 31)
FACTORS = ("character", "capacity", "capital", "collateral", "condition", "continuity")
FINANCIALS = {  # net assets 3M, working capital 1.5M: grade A gives a 300,000 limit (20 % of working capital)
    "total_assets": "5000000.00",
    "current_assets": "2500000.00",
    "current_liabilities": "1000000.00",
    "total_liabilities": "2000000.00",
    "retained_earnings": "800000.00",
    "ebit": "600000.00",
    "sales": "7000000.00",
}
ARBITRATION = {"kind": "arbitration", "commission": "Shanghai International Arbitration Center"}


def day(n: int) -> date:
    return DUE + timedelta(days=n)


@dataclass
class Debtor:
    name: str
    customer_id: str = ""
    invoice_id: str = ""


@dataclass(frozen=True)
class Expected:
    """What the three services should show about one debtor after a sweep."""

    stage: str
    hold: bool
    limit: str | None
    limitation_expires_on: str
    limitation_basis: str
    write_off_review: bool = False


class Suite:
    def __init__(self, cu: ServiceHarness, cr: ServiceHarness, co: ServiceHarness, clock: FixedClock) -> None:
        self.cu, self.cr, self.co, self.clock = cu, cr, co, clock

    async def get(self, harness: ServiceHarness, path: str) -> Any:
        return await harness.get_json(path)

    async def post(self, harness: ServiceHarness, path: str, body: dict[str, Any], status: int = 201) -> Any:
        return await harness.post_json(path, body, status)

    def at(self, n: int) -> None:
        self.clock.set(datetime.combine(day(n), time(9), tzinfo=UTC))

    async def register(self, debtor: Debtor, segment: str, clause: dict[str, str] | None, grade_a: bool) -> None:
        customer = await self.post(
            self.cu,
            "/v1/customers",
            {"name": debtor.name, "kind": "commercial", "lifecycle": "active", "segment": segment},
        )
        debtor.customer_id = customer["id"]
        if clause is not None:
            await self.post(
                self.cu,
                f"/v1/customers/{debtor.customer_id}/contracts",
                {
                    "number": f"C-{debtor.name}",
                    "signed_on": "2025-12-01",
                    "valid_from": "2025-12-01",
                    "credit_terms": "n/30",
                    "dispute_resolution": clause,
                },
            )
        await eventually(
            lambda: self.get(self.cr, f"/v1/profiles/{debtor.customer_id}"), what=f"credit to learn {debtor.name}"
        )
        if grade_a:
            assessed = await self.post(
                self.cr,
                "/v1/assessments",
                {
                    "customer_id": debtor.customer_id,
                    "financials": FINANCIALS,
                    "factors": {name: {"score": "90", "evidence": "annual review"} for name in FACTORS},
                },
            )
            assert assessed["grade"] == "A" and assessed["credit_limit_after"] == "300000.00"

    async def invoice(self, debtor: Debtor, amount: str, number: str) -> str:
        async def accepted() -> str | None:
            response = await self.co.client.post(
                "/v1/invoices",
                headers=self.co.auth("admin"),
                json={
                    "customer_id": debtor.customer_id,
                    "number": number,
                    "issue_date": "2026-01-01",
                    "currency": "CNY",
                    "amount": amount,
                    "credit_terms": "n/30",
                },
            )
            return str(response.json()["id"]) if response.status_code == 201 else None

        invoice_id = await eventually(accepted, what=f"collections to know {debtor.name}")
        return invoice_id

    async def sweep(self, n: int) -> dict[str, Any]:
        self.at(n)
        return dict(await self.post(self.co, "/v1/sweeps", {"as_of": day(n).isoformat()}, status=200))

    async def case(self, invoice_id: str) -> dict[str, Any]:
        page = await self.get(self.co, f"/v1/cases?invoice_id={invoice_id}&limit=200")
        [item] = [item for item in page["items"] if item["invoice_id"] == invoice_id]
        return dict(await self.get(self.co, f"/v1/cases/{item['id']}"))

    async def check(self, n: int, debtor: Debtor, expected: Expected) -> None:
        """Stage and limitation in collections at once; hold and limit in credit and the overview, once the
        events have crossed the broker."""
        where = f"day {n}, {debtor.name}"
        case = await self.case(debtor.invoice_id)
        assert case["stage"] == expected.stage, (where, case["history"])  # the sweep moved it
        assert case["write_off_review"] is expected.write_off_review, where

        async def collections_agrees() -> bool:
            # the stage's action (a letter sent, a claim lodged) comes back through the broker
            seen = await self.case(debtor.invoice_id)
            return (seen["limitation_expires_on"], seen["limitation_basis"]) == (
                expected.limitation_expires_on,
                expected.limitation_basis,
            )

        await eventually(
            collections_agrees,
            what=f"limitation {expected.limitation_expires_on} ({expected.limitation_basis}), {where}",
        )

        async def credit_agrees() -> bool:
            profile = await self.get(self.cr, f"/v1/profiles/{debtor.customer_id}")
            return bool(profile and profile["on_hold"] is expected.hold and profile["credit_limit"] == expected.limit)

        async def registry_agrees() -> bool:
            overview = await self.get(self.cu, f"/v1/customers/{debtor.customer_id}/overview")
            return bool(
                overview
                and overview["credit_hold"] is expected.hold
                and overview["collection_stage"] == expected.stage
                and overview["credit_limit"] == expected.limit
            )

        await eventually(credit_agrees, what=f"credit: hold {expected.hold}, limit {expected.limit} ({where})")
        await eventually(registry_agrees, what=f"overview: {expected.stage}, hold {expected.hold} ({where})")


async def test_a_credit_managers_year(databases: DatabaseFactory, broker: EmbeddedBroker) -> None:
    clock = FixedClock(datetime(2026, 1, 1, 9, tzinfo=UTC))
    async with (
        running_service(
            "customers", await databases.create("customers"), bootstrap=broker.bootstrap, clock=clock
        ) as cu,
        running_service("credit", await databases.create("credit"), bootstrap=broker.bootstrap, clock=clock) as cr,
        running_service(
            "collections",
            await databases.create("collections"),
            bootstrap=broker.bootstrap,
            clock=clock,
            sweep_enabled=False,
        ) as co,
    ):
        suite = Suite(cu, cr, co, clock)
        general, key, risky, paperless = (
            Debtor("General Goods"),
            Debtor("Key Account Co"),
            Debtor("Risky Trading"),
            Debtor("Paper-Less Ltd"),
        )
        await suite.register(general, "general", {"kind": "court"}, grade_a=True)
        await suite.register(key, "key_account", ARBITRATION, grade_a=True)
        await suite.register(risky, "high_risk", {"kind": "court"}, grade_a=False)
        await suite.register(paperless, "general", None, grade_a=True)
        for debtor in (general, key, risky, paperless):
            debtor.invoice_id = await suite.invoice(debtor, "60000.00", f"INV-{debtor.name}")
        disputed = await suite.invoice(general, "20000.00", "INV-General-2")

        A, NONE = "300000.00", None
        expectations: dict[int, dict[str, Expected]] = {
            # letters are demands for performance: the limitation period restarts the day they are sent
            1: {
                "general": Expected("letter", False, A, "2029-02-01", "dunning_letter"),
                "key": Expected("visit", False, A, "2029-01-31", "due_date"),  # a visit scheduled demands nothing yet
                "risky": Expected(
                    "letter", True, NONE, "2029-02-01", "dunning_letter"
                ),  # high risk: supply stops at once
                "paperless": Expected("letter", False, A, "2029-02-01", "dunning_letter"),
            },
            30: {
                "general": Expected("visit", False, A, "2029-02-01", "dunning_letter"),
                "key": Expected("visit", False, A, "2029-01-31", "due_date"),
                # the cheque of day 10 bounced on day 20; halved delays: visit at 15, agency at 30
                "risky": Expected("agency", True, NONE, "2029-02-10", "partial_payment"),
                "paperless": Expected("visit", False, A, "2029-02-01", "dunning_letter"),
            },
            60: {
                "general": Expected("agency", True, A, "2029-02-01", "dunning_letter"),
                "key": Expected("agency", False, A, "2029-01-31", "due_date"),  # a key account keeps being supplied
                "risky": Expected("litigation", True, NONE, "2029-04-01", "filing"),
                "paperless": Expected("agency", True, A, "2029-02-01", "dunning_letter"),
            },
        }
        # The agency's hold is collections' own doing: days 61 to 89 change nothing.
        for n in (61, 89):
            expectations[n] = dict(expectations[60])
        expectations[75] = {
            **expectations[60],
            "key": Expected("agency", False, A, "2029-04-16", "promise_to_pay"),
            "paperless": Expected("agency", True, A, "2029-04-16", "partial_payment"),
        }
        expectations[89] = dict(expectations[75])
        expectations[90] = {
            **expectations[75],
            # court filing cancels the limit (the policy's cancel stage)
            "general": Expected("litigation", True, "0.00", "2029-05-01", "filing"),
            # key account: paused by the promise; no contract: waits for legal review
        }
        expectations[200] = {
            **expectations[90],
            # the promise was broken: arbitration at once; filing cancels the limit, supply goes on (not malicious)
            "key": Expected("arbitration", False, "0.00", "2029-08-19", "filing"),
        }
        three_years = (date(2029, 5, 1) - DUE).days
        expectations[three_years] = {
            **expectations[200],
            # ten thousand paid on account on 2026-04-16 was the last interruption: time-barred since 2029-04-16
            "paperless": Expected("agency", True, A, "2029-04-16", "partial_payment", write_off_review=True),
        }

        debtors = {"general": general, "key": key, "risky": risky, "paperless": paperless}

        async def cheque_bounces() -> None:
            suite.at(10)
            due = (await suite.get(co, f"/v1/invoices/{risky.invoice_id}"))["amount_due"]  # with penalty interest
            payment = await suite.post(
                co,
                f"/v1/invoices/{risky.invoice_id}/payments",
                {"amount": due, "paid_on": day(10).isoformat(), "method": "cheque"},
            )
            assert (await suite.case(risky.invoice_id))["status"] == "resolved"
            suite.at(20)
            bounced = await suite.post(
                co, f"/v1/payments/{payment['id']}/bounce", {"reason": "insufficient funds"}, 200
            )
            assert bounced["invoice"]["status"] == "open"
            assert (await suite.case(risky.invoice_id))["status"] == "open"

        async def dispute_and_promise_and_part_payment() -> None:
            suite.at(75)
            case = await suite.case(key.invoice_id)
            await suite.post(co, f"/v1/cases/{case['id']}/promises", {"promised_on": day(150).isoformat()})
            await suite.post(
                co,
                f"/v1/invoices/{paperless.invoice_id}/payments",
                {"amount": "10000.00", "paid_on": day(75).isoformat()},
            )

        for n in sorted(expectations):
            if n == 30:
                await cheque_bounces()
            if n == 75:
                await dispute_and_promise_and_part_payment()
            await suite.sweep(n)
            if n == 1:
                disputed_case = await suite.case(disputed)
                await suite.post(
                    co,
                    f"/v1/cases/{disputed_case['id']}/disputes",
                    {"disputed_amount": "20000.00", "reason": "damaged"},
                )
            for name, expected in expectations[n].items():
                await suite.check(n, debtors[name], expected)
            # the disputed invoice waits at its letter the whole year
            assert (await suite.case(disputed))["stage"] == "letter"

        general_case = await suite.case(general.invoice_id)
        entered = [
            (entry["to"], entry["as_of"]) for entry in general_case["history"] if entry["event"] == "stage_entered"
        ]
        assert entered == [
            ("letter", day(1).isoformat()),
            ("visit", day(30).isoformat()),
            ("agency", day(60).isoformat()),
            ("litigation", day(90).isoformat()),
        ]
        paperless_case = await suite.case(paperless.invoice_id)
        reviews = [entry["reason"] for entry in paperless_case["history"] if entry["event"] == "legal_review"]
        assert reviews == ["legal review: no contract on file"]
