"""The limit policy in the editable credit policy (PUT /v1/policy drives the next assessment's limit), and
receivables reported in another currency than the profile's limit currency (kept apart, blocking checks)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import pytest

from shared.events.collections import ReceivablesChanged
from tests.support.credit import NOW, apply, assess, check, known_customer, profile
from tests.support.databases import DatabaseFactory
from tests.support.harness import ServiceHarness, running_service
from tests.support.problems import assert_problem


@pytest.fixture
async def credit(databases: DatabaseFactory) -> AsyncIterator[ServiceHarness]:
    async with running_service("credit", await databases.create("credit")) as harness:
        yield harness


async def current_policy(h: ServiceHarness) -> tuple[dict[str, Any], str]:
    response = await h.client.get("/v1/policy", headers=h.auth("credit:read"))
    assert response.status_code == 200, response.text
    document = response.json()
    body = {key: document[key] for key in ("grades", "ungraded_stop_supply_stage", "thresholds", "weights", "limits")}
    return body, response.headers["etag"]


def by_grade(assessment: dict[str, Any]) -> dict[str, Any]:
    return next(f for f in assessment["limit"]["figures"] if f["method"] == "by_grade")


# --- limit policy -----------------------------------------------------------------------------------


async def test_default_limit_policy_is_shown(credit: ServiceHarness) -> None:
    body, _ = await current_policy(credit)
    assert body["limits"]["grades"]["B"] == {"amount": "500000.00", "monthly_sales_multiple": None}
    assert body["limits"]["working_capital_percent"] == "20"
    assert body["limits"]["liquidation_value_percent"] == "50"


async def test_put_grade_b_amount_changes_the_next_assessment(credit: ServiceHarness) -> None:
    customer_id = await known_customer(credit)
    before = await assess(credit, customer_id, score=70)
    assert before["grade"] == "B" and by_grade(before)["computed"] == "500000.00"

    body, tag = await current_policy(credit)
    body["limits"]["grades"]["B"] = {"amount": "250000.00"}
    body["limits"]["working_capital_percent"] = "30"
    put = await credit.client.put("/v1/policy", json=body, headers={**credit.auth("admin"), "If-Match": tag})
    assert put.status_code == 200, put.text
    assert put.json()["limits"]["grades"]["B"]["amount"] == "250000.00"

    after = await assess(credit, customer_id, score=70)
    assert by_grade(after)["computed"] == "250000.00"
    # 30 % of working capital 1.5M = 450k; the grade amount is now the lowest figure.
    working = next(f for f in after["limit"]["figures"] if f["method"] == "working_capital")
    assert working["computed"] == "450000.00"
    assert after["limit"]["recommended"] == "250000.00" and after["limit"]["recommended_method"] == "by_grade"
    assert (await profile(credit, customer_id))["credit_limit"] == "250000.00"


async def test_monthly_sales_multiple_uses_average_monthly_sales(credit: ServiceHarness) -> None:
    body, tag = await current_policy(credit)
    body["limits"]["grades"]["A"] = {"monthly_sales_multiple": "1.5"}
    put = await credit.client.put("/v1/policy", json=body, headers={**credit.auth("admin"), "If-Match": tag})
    assert put.status_code == 200, put.text
    customer_id = await known_customer(credit)
    assessed = await assess(credit, customer_id, average_monthly_sales="100000.00")
    assert assessed["grade"] == "A" and by_grade(assessed)["computed"] == "150000.00"


async def test_bad_limit_policy_lists_every_problem_and_writes_nothing(credit: ServiceHarness) -> None:
    body, tag = await current_policy(credit)
    body["limits"]["grades"]["B"] = {"amount": "-1.00"}
    body["limits"]["grades"]["C"] = {"amount": "100.00", "monthly_sales_multiple": "2"}
    body["limits"]["working_capital_percent"] = "120"
    body["limits"]["liquidation_value_percent"] = "-5"
    put = await credit.client.put("/v1/policy", json=body, headers={**credit.auth("admin"), "If-Match": tag})
    problem = assert_problem(put, 422)
    fields = {error["field"] for error in problem["errors"]}
    assert fields == {
        "body.limits.grades.B.amount",
        "body.limits.grades.C",
        "body.limits.working_capital_percent",
        "body.limits.liquidation_value_percent",
    }, problem
    assert await credit.count("credit_policy") == 0
    missing = {
        **body["limits"],
        "grades": {"A": {"amount": "1.00"}},
        "working_capital_percent": "20",
        "liquidation_value_percent": "50",
    }
    put = await credit.client.put(
        "/v1/policy", json={**body, "limits": missing}, headers={**credit.auth("admin"), "If-Match": tag}
    )
    problem = assert_problem(put, 422)
    assert {error["field"] for error in problem["errors"]} == {f"body.limits.grades.{g}" for g in "BCD"}
    assert await credit.count("credit_policy") == 0
    assert (await current_policy(credit))[1] == tag


async def test_stale_if_match_is_412(credit: ServiceHarness) -> None:
    body, tag = await current_policy(credit)
    body["limits"]["grades"]["B"] = {"amount": "300000.00"}
    first = await credit.client.put("/v1/policy", json=body, headers={**credit.auth("admin"), "If-Match": tag})
    assert first.status_code == 200, first.text
    body["limits"]["grades"]["B"] = {"amount": "100000.00"}
    stale = await credit.client.put("/v1/policy", json=body, headers={**credit.auth("admin"), "If-Match": tag})
    assert_problem(stale, 412)
    assert (await current_policy(credit))[0]["limits"]["grades"]["B"]["amount"] == "300000.00"


# --- receivables in another currency -----------------------------------------------------------------


def receivables(customer_id: str, currency: str, open_amount: str, overdue: str = "0.00") -> ReceivablesChanged:
    return ReceivablesChanged(
        customer_id=uuid.UUID(customer_id),
        currency=currency,
        open_receivables=Decimal(open_amount),
        overdue_amount=Decimal(overdue),
        as_of=NOW,
    )


async def test_other_currency_receivables_are_kept_apart_and_block_checks(credit: ServiceHarness) -> None:
    customer_id = await known_customer(credit)
    await assess(credit, customer_id)  # grade A, limit 300k CNY
    await apply(credit, receivables(customer_id, "CNY", "50000.00"))
    await apply(credit, receivables(customer_id, "USD", "8000.00", overdue="8000.00"))
    seen = await profile(credit, customer_id)
    assert seen["currency"] == "CNY" and seen["exposure"] == "50000.00" and seen["open_receivables"] == "50000.00"
    assert seen["receivables_by_currency"] == {"CNY": "50000.00", "USD": "8000.00"}
    assert seen["other_currency_exposure"] == ["USD"] and seen["overdue_amount"] == "0.00"
    blocked = await check(credit, customer_id, "1000.00")
    assert blocked["decision"] == "block" and blocked["reasons"] == ["currency_mismatch"]
    assert blocked["exposure_before"] == "50000.00"

    await apply(credit, receivables(customer_id, "USD", "0.00"))  # the USD invoices are settled
    seen = await profile(credit, customer_id)
    assert seen["other_currency_exposure"] == [] and seen["exposure"] == "50000.00"
    assert (await check(credit, customer_id, "1000.00"))["decision"] == "approve"


async def test_assessing_in_the_other_currency_makes_it_the_exposure(credit: ServiceHarness) -> None:
    customer_id = await known_customer(credit)
    await apply(credit, receivables(customer_id, "USD", "8000.00"))
    await apply(credit, receivables(customer_id, "CNY", "0.00"))
    assert (await profile(credit, customer_id))["other_currency_exposure"] == ["USD"]
    await assess(credit, customer_id, currency="USD")
    seen = await profile(credit, customer_id)
    assert seen["currency"] == "USD" and seen["exposure"] == "8000.00" and seen["other_currency_exposure"] == []
    assert (await check(credit, customer_id, "1000.00", currency="USD"))["decision"] == "approve"
