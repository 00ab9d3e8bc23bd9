"""Contact discipline over HTTP: preferences with If-Match, and letters deferred at the weekly cap."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest

from shared.clock import FixedClock
from tests.support.collections import (
    ADMIN,
    WRITE,
    case_of,
    create_invoice,
    known_customer,
    run_stage_handlers,
    sweep,
)
from tests.support.databases import DatabaseFactory
from tests.support.harness import ServiceHarness, running_service

NOW = datetime(2026, 2, 2, 9, 0, tzinfo=UTC)  # 17:00 in Shanghai


@pytest.fixture
async def collections(databases: DatabaseFactory) -> AsyncIterator[ServiceHarness]:
    async with running_service(
        "collections",
        await databases.create("collections"),
        sweep_enabled=False,
        clock=FixedClock(NOW),
        contact_weekly_cap=3,
    ) as h:
        yield h


async def test_preferences_default_then_put_with_if_match(collections: ServiceHarness) -> None:
    customer = await known_customer(collections)
    url = f"/v1/customers/{customer}/contact-preferences"
    got = await collections.client.get(url, headers=collections.auth(*WRITE))
    assert got.status_code == 200, got.text
    assert got.json()["version"] == 0 and got.json()["time_zone"] == "Asia/Shanghai"
    assert got.json()["consent"] == {"email": True, "sms": True, "phone": True}
    assert got.headers["etag"] == '"0"'
    body = {"consent": {"email": False, "sms": True, "phone": False}, "time_zone": "Europe/London"}
    created = await collections.client.put(url, json=body, headers=collections.auth(*WRITE))
    assert created.status_code == 200, created.text
    assert created.json()["version"] == 1 and created.headers["etag"] == '"1"'
    assert created.json()["consent"]["email"] is False
    missing = await collections.client.put(url, json=body, headers=collections.auth(*WRITE))
    assert missing.status_code == 428
    stale = await collections.client.put(url, json=body, headers={**collections.auth(*WRITE), "If-Match": '"0"'})
    assert stale.status_code == 412
    updated = await collections.client.put(
        url, json={**body, "time_zone": "Asia/Shanghai"}, headers={**collections.auth(*WRITE), "If-Match": '"1"'}
    )
    assert updated.status_code == 200 and updated.json()["version"] == 2
    assert (await collections.client.get(url, headers=collections.auth(*WRITE))).json()["time_zone"] == "Asia/Shanghai"


BAD_PREFERENCES = [
    pytest.param({"time_zone": "Mars/Olympus"}, "body.time_zone", id="unknown-zone"),
    pytest.param({"time_zone": "../etc/passwd"}, "body.time_zone", id="path-like-zone"),
    pytest.param({"consent": {"fax": False}}, "body.consent.fax", id="unknown-channel"),
    pytest.param({"consent": {"letter": False}}, "body.consent.letter", id="post-is-not-refusable"),
]


@pytest.mark.parametrize(("body", "field"), BAD_PREFERENCES)
async def test_bad_preferences_are_422_and_write_nothing(
    collections: ServiceHarness, body: dict[str, object], field: str
) -> None:
    customer = await known_customer(collections)
    response = await collections.client.put(
        f"/v1/customers/{customer}/contact-preferences", json=body, headers=collections.auth(*WRITE)
    )
    assert response.status_code == 422, response.text
    assert field in [error["field"] for error in response.json()["errors"]]
    assert await collections.count("contact_preferences") == 0


async def test_preferences_of_unknown_customer_and_scopes(collections: ServiceHarness) -> None:
    url = f"/v1/customers/{uuid.uuid4()}/contact-preferences"
    assert (await collections.client.get(url, headers=collections.auth(*WRITE))).status_code == 404
    assert (await collections.client.put(url, json={}, headers=collections.auth(*WRITE))).status_code == 404
    customer = await known_customer(collections)
    url = f"/v1/customers/{customer}/contact-preferences"
    assert (await collections.client.put(url, json={}, headers=collections.auth("collections:read"))).status_code == 403
    assert await collections.count("contact_preferences") == 0


async def test_customer_at_weekly_cap_gets_a_deferred_visit(collections: ServiceHarness) -> None:
    customer = await known_customer(collections, segment="key_account")  # a manager visits first
    invoices = [await create_invoice(collections, customer, amount="1000.00") for _ in range(4)]
    await sweep(collections, "2026-02-02")
    done: set[str] = set()
    assert await run_stage_handlers(collections, done) == 4
    assert await collections.count("contact_log") == 3
    cases = [await case_of(collections, invoice["id"]) for invoice in invoices]
    visits = [a for case in cases for a in (case or {})["actions"] if a["kind"] == "visit"]
    deferred = [(case, a) for case in cases for a in (case or {})["actions"] if a["kind"] == "contact_deferred"]
    assert len(visits) == 3 and len(deferred) == 1
    case, action = deferred[0]
    assert action["status"] == "deferred" and action["details"]["action"] == "visit"
    assert "weekly contact cap reached (3 of 3" in action["details"]["reason"]
    assert action["details"]["earliest_at"] == "2026-02-09T09:00:00+00:00"  # a week after the first visit
    assert case is not None and case["history"][-1]["event"] == "contact_deferred"
    assert "weekly contact cap" in case["history"][-1]["reason"]

    # before the window frees up the sweep leaves it deferred; after, it sends the letter
    assert isinstance(collections.clock, FixedClock)
    collections.clock.set(datetime(2026, 2, 9, 8, 59, tzinfo=UTC))
    await sweep(collections, "2026-02-09")
    assert await collections.count("contact_log") == 3
    collections.clock.set(datetime(2026, 2, 9, 9, 0, tzinfo=UTC))
    await sweep(collections, "2026-02-09")
    assert await collections.count("contact_log") == 4
    after = await case_of(collections, case["invoice_id"])
    assert after is not None
    kinds = {(a["kind"], a["status"]) for a in after["actions"]}
    assert kinds == {("contact_deferred", "carried_out"), ("visit", "scheduled")}


async def test_letters_neither_count_towards_nor_wait_for_the_weekly_cap(collections: ServiceHarness) -> None:
    customer = await known_customer(collections)
    for _ in range(5):
        await create_invoice(collections, customer, amount="1000.00")
    await sweep(collections, "2026-02-02")
    assert await run_stage_handlers(collections, set()) == 5
    page = await collections.client.get("/v1/cases", headers=collections.auth("collections:read"))
    cases = [await case_of(collections, item["invoice_id"]) for item in page.json()["items"]]
    assert sorted(a["kind"] for case in cases for a in (case or {})["actions"]) == ["letter"] * 5


async def test_quiet_hours_defer_a_visit_to_the_morning(databases: DatabaseFactory) -> None:
    night = datetime(2026, 2, 2, 14, 0, tzinfo=UTC)  # 22:00 in Shanghai
    async with running_service(
        "collections", await databases.create("collections"), sweep_enabled=False, clock=FixedClock(night)
    ) as h:
        customer = await known_customer(h, segment="key_account")  # a visit first, at night: deferred
        invoice = await create_invoice(h, customer, amount="1000.00")
        await sweep(h, "2026-02-02")
        await run_stage_handlers(h, set())
        case = await case_of(h, invoice["id"])
        assert case is not None
        [action] = case["actions"]
        assert action["kind"] == "contact_deferred" and "quiet hours 21:00-08:00" in action["details"]["reason"]
        assert action["details"]["channel"] == "visit"
        assert action["details"]["earliest_at"] == "2026-02-03T00:00:00+00:00"  # 08:00 in Shanghai
        assert await h.count("contact_log") == 0
        response = await h.client.post("/v1/sweeps", json={"as_of": "2026-02-03"}, headers=h.auth(*ADMIN))
        assert response.status_code == 200
        assert await h.count("contact_log") == 0  # the clock still says 22:00


async def test_collector_contacts_follow_consent_and_cap(collections: ServiceHarness) -> None:
    customer = await known_customer(collections)
    url = f"/v1/customers/{customer}/contacts"
    put = await collections.client.put(
        f"/v1/customers/{customer}/contact-preferences",
        json={"consent": {"phone": False}},
        headers=collections.auth(*WRITE),
    )
    assert put.status_code == 200, put.text
    refused = await collections.client.post(url, json={"channel": "phone"}, headers=collections.auth(*WRITE))
    assert refused.status_code == 409 and "withdrew consent" in refused.json()["detail"]
    legal = await collections.client.post(
        url, json={"channel": "phone", "legally_required": True}, headers=collections.auth(*WRITE)
    )
    assert legal.status_code == 201, legal.text
    for channel in ("email", "sms", "sms"):  # the e-mail does not count towards the cap
        made = await collections.client.post(url, json={"channel": channel}, headers=collections.auth(*WRITE))
        assert made.status_code == 201, made.text
    capped = await collections.client.post(url, json={"channel": "sms"}, headers=collections.auth(*WRITE))
    assert capped.status_code == 409
    assert "weekly contact cap reached (3 of 3" in capped.json()["detail"]
    assert "earliest 2026-02-09T17:00:00+08:00" in capped.json()["detail"]
    assert [error["field"] for error in capped.json()["errors"]] == ["body.channel"]
    email = await collections.client.post(url, json={"channel": "email"}, headers=collections.auth(*WRITE))
    assert email.status_code == 201, email.text  # e-mail is read when the customer chooses: never capped
    first = await collections.client.get(url, params={"limit": 3}, headers=collections.auth(*WRITE))
    assert first.status_code == 200, first.text
    rest = await collections.client.get(
        url, params={"limit": 3, "cursor": first.json()["next_cursor"]}, headers=collections.auth(*WRITE)
    )
    channels = [item["channel"] for item in first.json()["items"] + rest.json()["items"]]
    assert sorted(channels) == ["email", "email", "phone", "sms", "sms"] and rest.json()["next_cursor"] is None


async def test_bad_contacts_write_nothing(collections: ServiceHarness) -> None:
    customer = await known_customer(collections)
    other = await known_customer(collections)
    invoice = await create_invoice(collections, other, amount="1000.00")
    await sweep(collections, "2026-02-02")
    other_case = await case_of(collections, invoice["id"])
    assert other_case is not None
    url = f"/v1/customers/{customer}/contacts"
    wrong_case = await collections.client.post(
        url, json={"channel": "phone", "case_id": other_case["id"]}, headers=collections.auth(*WRITE)
    )
    assert wrong_case.status_code == 422 and wrong_case.json()["errors"][0]["field"] == "body.case_id"
    fax = await collections.client.post(url, json={"channel": "fax"}, headers=collections.auth(*WRITE))
    assert fax.status_code == 422
    unknown = await collections.client.post(
        f"/v1/customers/{uuid.uuid4()}/contacts", json={"channel": "sms"}, headers=collections.auth(*WRITE)
    )
    assert unknown.status_code == 404
    assert await collections.count("contact_log") == 0


async def test_deferred_visit_waits_again_when_the_window_refills(databases: DatabaseFactory) -> None:
    clock = FixedClock(NOW)
    async with running_service(
        "collections", await databases.create("collections"), sweep_enabled=False, clock=clock, contact_weekly_cap=1
    ) as h:
        customer = await known_customer(h, segment="key_account")
        for _ in range(2):
            await create_invoice(h, customer, amount="1000.00")
        await sweep(h, "2026-02-02")
        await run_stage_handlers(h, set())
        assert await h.count("contact_log") == 1
        clock.set(datetime(2026, 2, 5, 9, tzinfo=UTC))
        notice = await h.client.post(
            f"/v1/customers/{customer}/contacts",
            json={"channel": "phone", "legally_required": True},
            headers=h.auth(*WRITE),
        )
        assert notice.status_code == 201, notice.text
        clock.set(datetime(2026, 2, 9, 9, tzinfo=UTC))
        await sweep(h, "2026-02-09")
        assert await h.count("contact_log") == 2  # the notice of 5 February fills the window again
        cases = (await h.client.get("/v1/cases", headers=h.auth(*WRITE))).json()["items"]
        details = [await case_of(h, case["invoice_id"]) for case in cases]
        [deferred] = [a for case in details for a in (case or {})["actions"] if a["kind"] == "contact_deferred"]
        assert deferred["status"] == "deferred"
        assert deferred["details"]["earliest_at"] == "2026-02-12T09:00:00+00:00"
        assert "event" not in deferred["details"]
        clock.set(datetime(2026, 2, 12, 9, tzinfo=UTC))
        await sweep(h, "2026-02-12")
        assert await h.count("contact_log") == 3
