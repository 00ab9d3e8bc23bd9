"""Receivables read incrementally from the (customer, currency, due date) buckets equal a full recomputation.

The buckets (``receivables_by_due``) are kept by triggers on ``invoices``; ``announce_receivables`` reads
them instead of re-summing every open invoice of the customer (issue 11). After each step of a billing
history — bulk runs on top of earlier invoices, single invoices, sweeps opening and moving cases, partial
and full payments, a bounced cheque reopening an invoice with a fee, a write-off — the figures from the
buckets must be those a full re-sum of the open invoices gives (tests/support/receivables.py), at
several as-of days, on both databases.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest

from services.collections.service.receivables import receivables_events
from tests.support.collections import BACKDATING, WRITE, case_of, invoice_body, known_customer, sweep
from tests.support.databases import DatabaseFactory
from tests.support.harness import ServiceHarness, running_service
from tests.support.receivables import resummed_receivables_events

AS_OF_DAYS = [date(2026, 1, 15), date(2026, 2, 1), date(2026, 2, 20), date(2026, 3, 1), date(2026, 6, 30)]


@pytest.fixture
async def collections(databases: DatabaseFactory) -> AsyncIterator[ServiceHarness]:
    async with running_service(
        "collections", await databases.create("collections"), sweep_enabled=False, charge_penalty_interest=True
    ) as h:
        yield h


def _figures(events: list[Any]) -> list[tuple[Any, ...]]:
    return sorted(
        (
            str(e.customer_id),
            e.currency,
            e.open_receivables,
            e.overdue_amount,
            e.oldest_overdue_days,
            e.highest_open_stage,
        )
        for e in events
    )


async def _assert_buckets_equal_full_recomputation(h: ServiceHarness, customers: set[uuid.UUID], step: str) -> None:
    now = datetime(2026, 3, 1, 9, tzinfo=UTC)
    async with h.runtime.db.transaction() as session:
        for as_of in AS_OF_DAYS:
            incremental = _figures(await receivables_events(session, customers, as_of, now))
            full = _figures(await resummed_receivables_events(session, customers, as_of, now))
            assert incremental == full, f"after {step}, as of {as_of}"


def _run(rng: random.Random, customers: list[str], count: int, tag: str) -> list[dict[str, Any]]:
    return [
        invoice_body(
            rng.choice(customers),
            number=f"{tag}-{n}",
            issue_date="2026-01-01",
            due_date=f"2026-{rng.choice(['01', '02', '03'])}-{rng.randint(1, 28):02d}",
            currency=rng.choice(["CNY", "CNY", "USD"]),
            amount=f"{rng.randint(1, 500_000) / 100:.2f}",
        )
        for n in range(count)
    ]


async def _bulk(h: ServiceHarness, items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    response = await h.client.post("/v1/invoices/bulk", json={"invoices": items}, headers=h.auth(*WRITE))
    assert response.status_code == 201, response.text[:500]
    return list(response.json()["items"])


async def _pay(h: ServiceHarness, invoice: dict[str, Any], amount: Decimal, **extra: Any) -> dict[str, Any]:
    response = await h.client.post(
        f"/v1/invoices/{invoice['id']}/payments",
        json={"amount": str(amount), "paid_on": "2026-02-25", **extra},
        headers=h.auth(*BACKDATING),
    )
    assert response.status_code == 201, response.text
    return dict(response.json())


@pytest.mark.parametrize("seed", [11, 2026])
async def test_receivables_from_buckets_equal_a_full_recomputation(collections: ServiceHarness, seed: int) -> None:
    rng = random.Random(seed)
    customers = [await known_customer(collections) for _ in range(4)]
    ids = {uuid.UUID(c) for c in customers} | {uuid.uuid4()}  # and one with nothing at all
    await _assert_buckets_equal_full_recomputation(collections, ids, "nothing recorded")

    recorded = await _bulk(collections, _run(rng, customers, 60, "A"))
    await _assert_buckets_equal_full_recomputation(collections, ids, "a bulk run")
    recorded += await _bulk(collections, _run(rng, customers, 40, "B"))  # on top of the first run's buckets
    single = await collections.client.post(
        "/v1/invoices", json=invoice_body(customers[0], due_date="2026-01-20"), headers=collections.auth(*WRITE)
    )
    assert single.status_code == 201, single.text
    await _assert_buckets_equal_full_recomputation(collections, ids, "a second run and a single invoice")

    await sweep(collections, "2026-02-15")
    await _assert_buckets_equal_full_recomputation(collections, ids, "a sweep")

    for invoice in rng.sample(recorded, 12):  # partial and full payments
        amount = Decimal(invoice["amount"])
        await _pay(collections, invoice, amount if rng.random() < 0.5 else (amount / 3).quantize(Decimal("0.01")))
    await _assert_buckets_equal_full_recomputation(collections, ids, "payments")

    payment = await _pay(collections, recorded[-1], Decimal("1.00"), method="cheque")
    bounced = await collections.client.post(
        f"/v1/payments/{payment['id']}/bounce", json={"reason": "insufficient funds"}, headers=collections.auth(*WRITE)
    )
    assert bounced.status_code == 200, bounced.text
    await _assert_buckets_equal_full_recomputation(collections, ids, "a bounced cheque")

    await sweep(collections, "2026-03-01")
    written_off = 0
    for invoice in recorded:
        case = await case_of(collections, invoice["id"])
        if case is None or case["status"] not in ("open", "on_hold"):
            continue
        response = await collections.client.post(
            f"/v1/cases/{case['id']}/actions",
            json={"action": "write_off", "reason": "insolvent"},
            headers=collections.auth(*WRITE),
        )
        assert response.status_code == 201, response.text
        written_off += 1
        if written_off == 3:
            break
    assert written_off > 0
    await _assert_buckets_equal_full_recomputation(collections, ids, "a second sweep and write-offs")
