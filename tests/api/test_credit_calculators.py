"""Credit terms quotes, credit-period analysis and the credit policy resource over HTTP."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from tests.support.credit import nothing_written
from tests.support.databases import DatabaseFactory
from tests.support.harness import ServiceHarness, running_service
from tests.support.problems import assert_problem


@pytest.fixture
async def credit(databases: DatabaseFactory) -> AsyncIterator[ServiceHarness]:
    async with running_service("credit", await databases.create("credit")) as harness:
        yield harness


async def quote(h: ServiceHarness, **body: Any) -> Any:
    payload = {
        "terms": "2/10, n/30",
        "amount": "10000.00",
        "issue_date": "2026-03-01",
        "payment_date": "2026-03-11",
        **body,
    }
    return await h.client.post("/v1/terms/quote", json=payload, headers=h.auth("credit:read"))


async def test_quote_on_the_last_discount_day(credit: ServiceHarness) -> None:
    response = await quote(credit)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["terms"] == "2/10, n/30" and body["net_days"] == 30
    assert body["discount_percent"] == "2" and body["discount_amount"] == "200.00"
    assert body["amount_due"] == "9800.00" and body["net_due_date"] == "2026-03-31"
    assert body["discount_due_dates"] == ["2026-03-11"] and body["is_late"] is False
    # 2/98 × 360/20 = 36.7347 %, × 365/20 = 37.2449 %, (1 + 2/98)^(365/20) − 1 = 44.5853 %.
    assert body["tiers"] == [
        {
            "percent": "2",
            "days": 10,
            "deadline": "2026-03-11",
            "earned": True,
            "cost_of_forgoing": {
                "simple_360_percent": "36.7347",
                "simple_365_percent": "37.2449",
                "compounded_percent": "44.5853",
            },
        }
    ]
    await nothing_written(credit)


async def test_quote_a_day_late_for_the_discount_and_multi_tier(credit: ServiceHarness) -> None:
    missed = (await quote(credit, payment_date="2026-03-12")).json()
    assert missed["discount_amount"] == "0.00" and missed["amount_due"] == "10000.00"
    late = (await quote(credit, payment_date="2026-04-02")).json()
    assert late["is_late"] is True and late["days_late"] == 2
    tiers = (await quote(credit, terms="3/10, 2/20, n/30", payment_date="2026-03-15")).json()
    assert tiers["discount_amount"] == "200.00" and [t["earned"] for t in tiers["tiers"]] == [False, True]
    assert tiers["discount_due_dates"] == ["2026-03-11", "2026-03-21"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        pytest.param({"terms": "5/40, n/30"}, "body.terms", id="discount-window-past-net"),
        pytest.param({"terms": "2/10"}, "body.terms", id="no-net-period"),
        pytest.param({"terms": "two ten net thirty"}, "body.terms", id="gibberish"),
        pytest.param({"amount": "0"}, "body.amount", id="zero-amount"),
        pytest.param({"payment_date": "2026-02-01"}, "body.payment_date", id="paid-before-issue"),
        pytest.param({"issue_date": "2026-02-30"}, "body.issue_date", id="impossible-date"),
    ],
)
async def test_bad_quote_is_422(credit: ServiceHarness, body: dict[str, str], field: str) -> None:
    problem = assert_problem(await quote(credit, **body), 422, field)
    if field == "body.terms":
        assert problem["type"].endswith("/invalid-credit-terms")


SCENARIO: dict[str, Any] = {
    "credit_period_days": 30,
    "annual_sales": "5000000",
    "variable_cost_ratio": "0.6",
    "bad_debt_rate": "0.02",
    "collection_cost": "30000",
    "cost_of_capital": "0.1",
}


async def test_credit_period_analysis_recommends_the_longer_period(credit: ServiceHarness) -> None:
    alternative = {
        **SCENARIO,
        "credit_period_days": 60,
        "annual_sales": "5400000",
        "bad_debt_rate": "0.03",
        "collection_cost": "40000",
        "label": "n/60",
    }
    response = await credit.client.post(
        "/v1/analysis/credit-period",
        json={"base": SCENARIO, "alternatives": [alternative]},
        headers=credit.auth("credit:read"),
    )
    assert response.status_code == 200, response.text
    body = response.json()
    # Base: contribution 2,000,000; receivables 416,666.67 → investment 250,000.00 → carrying 25,000.00;
    # bad debts 100,000; net 2,000,000 − 25,000 − 100,000 − 30,000 = 1,845,000.
    assert body["base"]["net_benefit"] == "1845000.00"
    # 60 days: contribution 2,160,000; receivables 900,000 → 540,000 → 54,000; bad debts 162,000;
    # net 2,160,000 − 54,000 − 162,000 − 40,000 = 1,904,000: 59,000 more than the base.
    assert body["alternatives"][0]["net_benefit"] == "1904000.00"
    assert body["marginal"][0]["net_incremental_profit"] == "59000.00"
    assert body["marginal"][0]["incremental_contribution"] == "160000.00"
    assert body["recommended_period_days"] == 60
    # NPV per day: S(1 − b)/(1 + k/360)^t − S·v − C/360.
    # 30 days: 13,888.89 × 0.98 / 1.008367 − 8,333.33 − 83.33 = 5,081.51;
    # 60 days: 15,000 × 0.97 / 1.016804 − 9,000 − 111.11 = 5,198.43: both methods choose 60 days.
    assert body["base"]["npv_per_day"] == "5081.51" and body["alternatives"][0]["npv_per_day"] == "5198.43"
    assert body["recommended_by_npv_period_days"] == 60 and body["methods_agree"] is True


@pytest.mark.parametrize(
    ("body", "field"),
    [
        pytest.param({"base": SCENARIO, "alternatives": []}, "body.scenarios", id="no-alternative"),
        pytest.param({"base": SCENARIO, "alternatives": [SCENARIO]}, "body.scenarios", id="same-period-twice"),
        pytest.param(
            {"base": SCENARIO | {"bad_debt_rate": "1.5"}, "alternatives": [SCENARIO | {"credit_period_days": 45}]},
            "body.scenarios[30].bad_debt_rate",
            id="rate-above-1",
        ),
    ],
)
async def test_bad_credit_period_analysis_is_422(credit: ServiceHarness, body: dict[str, Any], field: str) -> None:
    response = await credit.client.post("/v1/analysis/credit-period", json=body, headers=credit.auth("credit:read"))
    assert_problem(response, 422, field)


async def test_policy_read_and_replace_with_if_match(credit: ServiceHarness) -> None:
    got = await credit.client.get("/v1/policy", headers=credit.auth("credit:read"))
    assert got.status_code == 200 and got.headers["etag"] == '"1"'
    document = got.json()
    assert document["grades"]["D"]["sales_policy"] == "cash_or_prepayment"
    assert document["grades"]["A"]["stop_supply_stage"] == "agency"
    body = {key: document[key] for key in ("grades", "ungraded_stop_supply_stage", "thresholds", "weights")}
    body["thresholds"]["a"] = "85"

    missing = await credit.client.put("/v1/policy", json=body, headers=credit.auth("admin"))
    assert_problem(missing, 428)
    not_admin = await credit.client.put(
        "/v1/policy", json=body, headers={**credit.auth("credit:write"), "If-Match": '"1"'}
    )
    assert_problem(not_admin, 403)
    bad_weights = {**body, "weights": {**body["weights"], "character": "30"}}
    invalid = await credit.client.put(
        "/v1/policy", json=bad_weights, headers={**credit.auth("admin"), "If-Match": '"1"'}
    )
    assert_problem(invalid, 422, "body.weights")
    assert await credit.count("credit_policy") == 0

    put = await credit.client.put("/v1/policy", json=body, headers={**credit.auth("admin"), "If-Match": '"1"'})
    assert put.status_code == 200 and put.headers["etag"] == '"2"'
    assert put.json()["thresholds"]["a"] == "85" and put.json()["updated_by"] == "tester"
    stale = await credit.client.put("/v1/policy", json=body, headers={**credit.auth("admin"), "If-Match": '"1"'})
    assert_problem(stale, 412)
    assert (await credit.client.get("/v1/policy", headers=credit.auth("credit:read"))).headers["etag"] == '"2"'
