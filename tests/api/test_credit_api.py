"""Credit API over httpx against the real app and database: assessments, profiles, limit overrides and
credit checks; bad input is a 4xx problem and writes nothing (rows and outbox counted)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest

from tests.support.credit import (
    FACTORS,
    FINANCIALS,
    assess,
    assessment_body,
    check,
    known_customer,
    nothing_written,
    profile,
)
from tests.support.databases import DatabaseFactory
from tests.support.harness import ServiceHarness, running_service
from tests.support.problems import assert_problem


@pytest.fixture
async def credit(databases: DatabaseFactory) -> AsyncIterator[ServiceHarness]:
    async with running_service("credit", await databases.create("credit")) as harness:
        yield harness


# --- assessments ----------------------------------------------------------------------------------


async def test_every_active_iso_4217_code_is_accepted_czk_too(credit: ServiceHarness) -> None:
    """Credit's own short list refused CZK, which the registry accepted; both take the ISO 4217 list now."""
    customer_id = await known_customer(credit)
    response = await credit.client.post(
        "/v1/assessments", json=assessment_body(customer_id, currency="CZK"), headers=credit.auth("credit:write")
    )
    assert response.status_code == 201, response.text
    assert response.json()["currency"] == "CZK"


async def test_assessment_is_a_documented_decision_with_limit_and_events(credit: ServiceHarness) -> None:
    customer_id = await known_customer(credit)
    response = await credit.client.post(
        "/v1/assessments", json=assessment_body(customer_id), headers=credit.auth("credit:write")
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert response.headers["location"] == f"/v1/assessments/{body['id']}"
    assert body["score"] == "80.00" and body["grade"] == "A" and body["assessed_by"] == "tester"
    assert [c["factor"] for c in body["contributions"]] == list(FACTORS)
    assert body["contributions"][0] == {
        "factor": "character",
        "score": "80",
        "weight": "25",
        "contribution": "20.0000",
        "evidence": "character evidence",
    }
    assert body["altman_z"] is None and body["altman_z_double_prime"]["zone"] in {"safe", "grey", "distress"}
    assert body["altman_notes"]
    assert body["limit"]["cap"] == "1500000.00"
    assert {f["method"]: f["capped"] for f in body["limit"]["figures"]} == {
        "by_grade": "1000000.00",
        "working_capital": "300000.00",
    }
    assert body["limit"]["recommended"] == "300000.00" and body["credit_limit_after"] == "300000.00"
    assert body["inputs"]["financials"]["total_assets"] == "5000000.00"
    assert body["payment_behaviour"] is None  # none given, and collections has reported no invoice

    got = await credit.client.get(f"/v1/assessments/{body['id']}", headers=credit.auth("credit:read"))
    assert got.status_code == 200 and got.json() == body
    assert await credit.outbox_types() == [
        "creditflow.credit.credit_assessed.v1",
        "creditflow.credit.credit_limit_changed.v1",
    ]
    seen = await profile(credit, customer_id)
    assert seen["grade"] == "A" and seen["score"] == "80.00" and seen["credit_limit"] == "300000.00"
    assert seen["limit_method"] == "working_capital" and seen["sales_policy"] == "full_terms"
    assert seen["latest_assessment_id"] == body["id"] and seen["on_hold"] is False


async def test_reassessment_with_the_same_limit_emits_no_limit_change(credit: ServiceHarness) -> None:
    customer_id = await known_customer(credit)
    await assess(credit, customer_id)
    second = await assess(credit, customer_id, 70, assessed_by="analyst-2")
    assert second["grade"] == "B" and second["assessed_by"] == "analyst-2"
    assert await credit.outbox_types() == [
        "creditflow.credit.credit_assessed.v1",
        "creditflow.credit.credit_limit_changed.v1",
        "creditflow.credit.credit_assessed.v1",
    ]
    assert await credit.count("limit_changes") == 1


async def test_payment_behaviour_deducts_points(credit: ServiceHarness) -> None:
    customer_id = await known_customer(credit)
    body = await assess(credit, customer_id, payment_behaviour={"collection_rate": "0.85", "average_days_late": "40"})
    # 10 days beyond the 30-day grace × 0.5 = 5; 10 points below 95 % × 0.5 = 5; 80 − 10 = 70 → B.
    assert body["base_score"] == "80.00" and body["score"] == "70.00" and body["grade"] == "B"
    assert body["payment_behaviour"]["source"] == "request"
    assert body["payment_behaviour"]["applied_deduction"] == "10.00"


async def test_assessments_list_by_customer_with_cursor(credit: ServiceHarness) -> None:
    first, other = await known_customer(credit), await known_customer(credit, "Other Ltd")
    ids = [(await assess(credit, first))["id"], (await assess(credit, first, 60))["id"]]
    await assess(credit, other)
    page = await credit.client.get(
        "/v1/assessments", params={"customer_id": first, "limit": 1}, headers=credit.auth("credit:read")
    )
    assert page.status_code == 200
    assert [item["id"] for item in page.json()["items"]] == sorted(ids)[:1]
    rest = await credit.client.get(
        "/v1/assessments",
        params={"customer_id": first, "limit": 1, "cursor": page.json()["next_cursor"]},
        headers=credit.auth("credit:read"),
    )
    assert [item["id"] for item in rest.json()["items"]] == sorted(ids)[1:]
    assert rest.json()["next_cursor"] is None
    bad = await credit.client.get("/v1/assessments", params={"cursor": "nonsense"}, headers=credit.auth("credit:read"))
    assert_problem(bad, 400)


def _with_factor(customer_id: str, factor: str, score: str) -> dict[str, Any]:
    body = assessment_body(customer_id)
    body["factors"][factor]["score"] = score
    return body


def _with_financial(customer_id: str, name: str, value: str) -> dict[str, Any]:
    body = assessment_body(customer_id)
    body["financials"][name] = value
    return body


BAD_ASSESSMENTS = [
    pytest.param(
        lambda cid: _with_factor(cid, "character", "101"), 422, "body.factors.character", id="score-above-100"
    ),
    pytest.param(lambda cid: _with_factor(cid, "capital", "-1"), 422, "body.factors.capital", id="negative-score"),
    pytest.param(
        lambda cid: _with_financial(cid, "current_assets", "-5.00"),
        422,
        "body.financials.current_assets",
        id="negative-current-assets",
    ),
    pytest.param(
        lambda cid: _with_financial(cid, "total_assets", "0"),
        422,
        "body.financials.total_assets",
        id="zero-total-assets",
    ),
    pytest.param(lambda cid: _with_financial(cid, "sales", "-1"), 422, "body.financials.sales", id="negative-sales"),
    pytest.param(lambda cid: assessment_body(str(uuid.uuid4())), 422, "body.customer_id", id="unknown-customer"),
    pytest.param(lambda cid: assessment_body(cid, currency="XXX"), 422, "body.currency", id="unknown-currency"),
    # Lower-case codes are refused in every service (credit used to upper-case them, the registry refused them).
    pytest.param(lambda cid: assessment_body(cid, currency="cny"), 422, "body.currency", id="lower-case-currency"),
    pytest.param(
        lambda cid: {**assessment_body(cid), "factors": {"character": {"score": "50", "evidence": "x"}}},
        422,
        "body.factors.capacity",
        id="missing-factors",
    ),
    pytest.param(
        lambda cid: assessment_body(cid, payment_behaviour={"collection_rate": "1.5", "average_days_late": "0"}),
        422,
        "body.payment_behaviour.collection_rate",
        id="collection-rate-above-1",
    ),
]


@pytest.mark.parametrize(("make_body", "status", "field"), BAD_ASSESSMENTS)
async def test_bad_assessment_is_a_problem_and_writes_nothing(
    credit: ServiceHarness, make_body: Any, status: int, field: str
) -> None:
    customer_id = await known_customer(credit)
    response = await credit.client.post(
        "/v1/assessments", json=make_body(customer_id), headers=credit.auth("credit:write")
    )
    assert_problem(response, status, field)
    await nothing_written(credit)


async def test_assessment_needs_write_scope(credit: ServiceHarness) -> None:
    customer_id = await known_customer(credit)
    response = await credit.client.post(
        "/v1/assessments", json=assessment_body(customer_id), headers=credit.auth("credit:read")
    )
    assert_problem(response, 403)
    await nothing_written(credit)


async def test_unknown_assessment_is_404(credit: ServiceHarness) -> None:
    response = await credit.client.get(f"/v1/assessments/{uuid.uuid4()}", headers=credit.auth("credit:read"))
    assert_problem(response, 404)


# --- profiles and limit overrides -------------------------------------------------------------------


async def test_profile_is_404_until_the_customer_is_known(credit: ServiceHarness) -> None:
    response = await credit.client.get(f"/v1/profiles/{uuid.uuid4()}", headers=credit.auth("credit:read"))
    assert_problem(response, 404)
    customer_id = await known_customer(credit)
    seen = await profile(credit, customer_id)
    assert seen["grade"] is None and seen["credit_limit"] is None and seen["exposure"] == "0.00"
    assert seen["currency"] == "CNY" and seen["dso"]["simple_days"] == "0.00"
    await nothing_written(credit)  # reading a profile creates nothing


async def test_limit_override_above_the_cap_is_refused_and_writes_nothing(credit: ServiceHarness) -> None:
    customer_id = await known_customer(credit)
    await assess(credit, customer_id)  # net assets 3M, working capital 1.5M: the cap is 1.5M
    written = (await credit.count("limit_changes"), await credit.outbox_types())
    response = await credit.client.post(
        f"/v1/profiles/{customer_id}/limit-overrides",
        json={"amount": "5000000.00", "reason": "big order coming", "approved_by": "head-of-credit"},
        headers=credit.auth("credit:write"),
    )
    problem = assert_problem(response, 422, "body.amount")
    assert problem["type"].endswith("/limit-above-cap")
    assert problem["cap"] == "1500000.00" and problem["cap_basis"] == "working_capital"
    assert "working capital of 1500000.00" in problem["detail"]
    assert (await credit.count("limit_changes"), await credit.outbox_types()) == written
    assert (await profile(credit, customer_id))["credit_limit"] == "300000.00"
    assert (await check(credit, customer_id, "1000000.00"))["reasons"] == ["over_limit"]


async def test_limit_override_with_a_second_approver(credit: ServiceHarness) -> None:
    customer_id = await known_customer(credit)
    await assess(credit, customer_id)
    response = await credit.client.post(
        f"/v1/profiles/{customer_id}/limit-overrides",
        json={"amount": "450000.00", "reason": "bank guarantee", "approved_by": "head-of-credit"},
        headers=credit.auth("credit:write"),
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["method"] == "manual_override" and body["previous_limit"] == "300000.00"
    assert body["credit_limit"] == "450000.00" and body["above_recommended"] is True
    assert body["requested_by"] == "tester" and body["approved_by"] == "head-of-credit"
    seen = await profile(credit, customer_id)
    assert seen["credit_limit"] == "450000.00" and seen["limit_method"] == "manual_override"
    assert seen["recommended_limit"] == "300000.00"
    assert (await credit.outbox_types())[-1] == "creditflow.credit.credit_limit_changed.v1"


BAD_OVERRIDES = [
    pytest.param(
        {"amount": "1.00", "reason": "r", "approved_by": " TESTER "},
        422,
        "body.approved_by",
        id="approved-by-the-requester",
    ),
    pytest.param({"amount": "1.00", "reason": "  ", "approved_by": "boss"}, 422, "body.reason", id="no-reason"),
    pytest.param({"amount": "-1.00", "reason": "r", "approved_by": "boss"}, 422, "body.amount", id="negative-amount"),
    pytest.param(
        {"amount": "1.00", "reason": "r", "approved_by": "boss", "currency": "USD"},
        422,
        "body.currency",
        id="other-currency",
    ),
]


@pytest.mark.parametrize(("body", "status", "field"), BAD_OVERRIDES)
async def test_bad_override_is_a_problem_and_writes_nothing(
    credit: ServiceHarness, body: dict[str, Any], status: int, field: str
) -> None:
    customer_id = await known_customer(credit)
    response = await credit.client.post(
        f"/v1/profiles/{customer_id}/limit-overrides", json=body, headers=credit.auth("credit:write")
    )
    problem = assert_problem(response, status, field)
    if body["approved_by"].strip().lower() == "tester":
        assert problem["type"].endswith("/self-approved-override")
    await nothing_written(credit)


async def test_override_of_unknown_customer_is_404(credit: ServiceHarness) -> None:
    response = await credit.client.post(
        f"/v1/profiles/{uuid.uuid4()}/limit-overrides",
        json={"amount": "1.00", "reason": "r", "approved_by": "boss"},
        headers=credit.auth("credit:write"),
    )
    assert_problem(response, 404)
    await nothing_written(credit)


# --- credit checks ------------------------------------------------------------------------------------


async def test_credit_check_before_and_after_assessment(credit: ServiceHarness) -> None:
    customer_id = await known_customer(credit)
    first = await check(credit, customer_id, "100000.00")
    assert first["decision"] == "block" and first["reasons"] == ["no_assessment", "over_limit"]
    await assess(credit, customer_id)
    approved = await check(credit, customer_id, "100000.00", currency="CNY")
    assert approved["decision"] == "approve" and approved["reasons"] == []
    assert approved["credit_limit"] == "300000.00" and approved["available_before"] == "300000.00"
    assert approved["counted_as_order"] is False
    blocked = await check(credit, customer_id, "300000.01")
    assert blocked["decision"] == "block" and blocked["reasons"] == ["over_limit"]
    got = await credit.client.get(f"/v1/credit-checks/{blocked['id']}", headers=credit.auth("credit:read"))
    assert got.status_code == 200 and got.json() == blocked
    assert await credit.count("credit_checks") == 3
    assert (await profile(credit, customer_id))["exposure"] == "0.00"


async def test_grade_d_places_a_hold_in_the_same_transaction(credit: ServiceHarness) -> None:
    customer_id = await known_customer(credit)
    body = await assess(credit, customer_id, 30)
    assert body["grade"] == "D" and body["credit_limit_after"] == "0.00"
    assert await credit.outbox_types() == [
        "creditflow.credit.credit_assessed.v1",
        "creditflow.credit.credit_limit_changed.v1",
        "creditflow.credit.credit_hold_placed.v1",
    ]
    seen = await profile(credit, customer_id)
    assert seen["on_hold"] is True and seen["hold_reasons"] == ["grade_d"]
    assert seen["sales_policy"] == "cash_or_prepayment"
    blocked = await check(credit, customer_id, "10.00")
    assert blocked["reasons"] == ["on_hold", "over_limit", "grade_d_requires_prepayment"]
    # Grade D sells for cash or prepayment only, so such orders go through whatever the limit and hold.
    prepaid = await check(credit, customer_id, "10.00", prepaid=True)
    assert prepaid["decision"] == "approve" and prepaid["reasons"] == ["prepaid_no_credit_extended"]
    assert prepaid["exposure_after"] == prepaid["exposure_before"] and prepaid["counted_as_order"] is False
    cash = await check(credit, customer_id, "250000.00", cash=True)
    assert cash["decision"] == "approve" and cash["reasons"] == ["cash_no_credit_extended"] and cash["cash"] is True
    got = await credit.client.get(f"/v1/credit-checks/{cash['id']}", headers=credit.auth("credit:read"))
    assert got.json() == cash
    # Regraded B with nothing overdue: the hold is released.
    await assess(credit, customer_id, 70)
    assert (await credit.outbox_types())[-1] == "creditflow.credit.credit_hold_released.v1"
    assert (await profile(credit, customer_id))["on_hold"] is False


BAD_CHECKS = [
    pytest.param(
        lambda cid: {"customer_id": str(uuid.uuid4()), "amount": "10.00"},
        422,
        "body.customer_id",
        id="unknown-customer",
    ),
    pytest.param(lambda cid: {"customer_id": cid, "amount": "0"}, 422, "body.amount", id="zero-amount"),
    pytest.param(lambda cid: {"customer_id": cid, "amount": "-5"}, 422, "body.amount", id="negative-amount"),
    pytest.param(lambda cid: {"customer_id": cid, "amount": "10.001"}, 422, "body.amount", id="sub-cent"),
    pytest.param(
        lambda cid: {"customer_id": cid, "amount": "10", "currency": "USD"}, 422, "body.currency", id="other-currency"
    ),
    pytest.param(lambda cid: {"customer_id": cid}, 422, "body.amount", id="missing-amount"),
]


@pytest.mark.parametrize(("make_body", "status", "field"), BAD_CHECKS)
async def test_bad_credit_check_is_a_problem_and_writes_nothing(
    credit: ServiceHarness, make_body: Any, status: int, field: str
) -> None:
    customer_id = await known_customer(credit)
    response = await credit.client.post(
        "/v1/credit-checks", json=make_body(customer_id), headers=credit.auth("credit:write")
    )
    assert_problem(response, status, field)
    await nothing_written(credit)


async def test_approved_checks_count_as_open_orders_when_configured(databases: DatabaseFactory) -> None:
    async with running_service("credit", await databases.create("credit"), count_approved_checks_as_orders=True) as h:
        customer_id = await known_customer(h)
        await assess(h, customer_id)
        first = await check(h, customer_id, "200000.00")
        assert first["decision"] == "approve" and first["counted_as_order"] is True
        seen = await profile(h, customer_id)
        assert seen["open_orders"] == "200000.00" and seen["exposure"] == "200000.00"
        second = await check(h, customer_id, "100000.01")
        assert second["reasons"] == ["over_limit"] and second["exposure_before"] == "200000.00"
        assert (await profile(h, customer_id))["open_orders"] == "200000.00"  # blocked checks add nothing


async def test_idempotent_credit_check_is_recorded_once(credit: ServiceHarness) -> None:
    customer_id = await known_customer(credit)
    headers = {**credit.auth("credit:write"), "Idempotency-Key": "order-42"}
    body = {"customer_id": customer_id, "amount": "5.00"}
    first = await credit.client.post("/v1/credit-checks", json=body, headers=headers)
    again = await credit.client.post("/v1/credit-checks", json=body, headers=headers)
    assert first.status_code == again.status_code == 201 and first.json() == again.json()
    assert again.headers["idempotent-replayed"] == "true"
    assert await credit.count("credit_checks") == 1


async def test_altman_z_and_z_double_prime_with_market_value(credit: ServiceHarness) -> None:
    customer_id = await known_customer(credit)
    body = await assess(credit, customer_id, financials={**FINANCIALS, "market_value_of_equity": "4000000.00"})
    # X1 = 1.5M/5M = 0.3, X2 = 0.16, X3 = 0.12, X5 = 1.4; Z: X4 = 4M/2M = 2
    # → 1.2·0.3 + 1.4·0.16 + 3.3·0.12 + 0.6·2 + 1.4 = 3.58 (safe above 2.99).
    assert body["altman_z"]["score"] == "3.58" and body["altman_z"]["zone"] == "safe"
    # Z'': X4 = 3M/2M = 1.5 → 6.56·0.3 + 3.26·0.16 + 6.72·0.12 + 1.05·1.5 = 4.871 → 4.87 (safe above 2.60).
    assert body["altman_z_double_prime"]["score"] == "4.87" and body["altman_notes"] == []


async def test_policy_thresholds_and_weights_drive_the_grade(credit: ServiceHarness) -> None:
    document = (await credit.client.get("/v1/policy", headers=credit.auth("credit:read"))).json()
    body = {key: document[key] for key in ("grades", "ungraded_stop_supply_stage", "thresholds", "weights")}
    body["thresholds"]["a"] = "85"
    put = await credit.client.put("/v1/policy", json=body, headers={**credit.auth("admin"), "If-Match": '"1"'})
    assert put.status_code == 200, put.text
    customer_id = await known_customer(credit)
    assert (await assess(credit, customer_id))["grade"] == "B"  # 80 is below the new A threshold


async def test_openapi_documents_every_credit_operation(credit: ServiceHarness) -> None:
    document = (await credit.client.get("/openapi.json")).json()
    operations = [
        (path, method, operation)
        for path, item in document["paths"].items()
        if path.startswith("/v1/")
        for method, operation in item.items()
    ]
    assert len(operations) == 13
    ids = [operation["operationId"] for _, _, operation in operations]
    assert len(set(ids)) == len(ids)
    for path, method, operation in operations:
        assert operation.get("summary") and operation.get("description"), (path, method)
        assert "422" in operation["responses"] and "401" in operation["responses"], (path, method)
