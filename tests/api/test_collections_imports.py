"""Invoice imports over HTTP: NDJSON and CSV uploads recorded through the bulk path, per-line results,
duplicates, refused uploads writing nothing, events and idempotency."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import pytest

from tests.support.collections import WRITE, invoice_body, known_customer
from tests.support.databases import DatabaseFactory
from tests.support.harness import ServiceHarness, running_service
from tests.support.imports import (
    ISSUED,
    RECEIVABLES,
    all_lines,
    finished,
    issued_invoice_ids,
    ndjson,
    upload,
)


@pytest.fixture
async def collections(databases: DatabaseFactory) -> AsyncIterator[ServiceHarness]:
    async with running_service(
        "collections",
        await databases.create("collections"),
        sweep_enabled=False,
        import_poll_seconds=0.05,
        import_chunk_lines=2_000,
    ) as h:
        yield h


async def test_an_ndjson_billing_run_of_25000_lines_is_recorded_in_chunks(collections: ServiceHarness) -> None:
    customers = [await known_customer(collections) for _ in range(5)]
    run = [invoice_body(customers[n % 5], number=f"RUN-{n:06d}") for n in range(25_000)]
    response = await upload(collections, ndjson(run), "application/x-ndjson")
    assert response.status_code == 202, response.text
    job = response.json()
    assert response.headers["location"] == f"/v1/invoice-imports/{job['id']}"
    assert job["status"] == "queued" and job["lines_read"] == 25_000 and job["format"] == "ndjson"
    done = await finished(collections, job["id"])
    assert done["status"] == "succeeded", done
    assert (done["lines_processed"], done["accepted"], done["rejected"]) == (25_000, 25_000, 0)
    assert done["started_at"] and done["finished_at"]
    assert await collections.count("invoices") == 25_000
    # The bulk path's events: one invoice_issued per invoice, receivables per customer and chunk (13 chunks).
    types = await collections.outbox_types()
    assert types.count(ISSUED) == 25_000 and types.count(RECEIVABLES) == 5 * 13
    page = await collections.client.get(
        f"/v1/invoice-imports/{job['id']}/lines", params={"limit": 3}, headers=collections.auth(*WRITE)
    )
    body = page.json()
    assert [line["line"] for line in body["items"]] == [1, 2, 3] and body["next_cursor"]
    assert all(line["outcome"] == "accepted" and line["invoice_id"] for line in body["items"])
    invoice = await collections.client.get(
        f"/v1/invoices/{body['items'][0]['invoice_id']}", headers=collections.auth(*WRITE)
    )
    assert invoice.json()["number"] == "RUN-000000" == body["items"][0]["number"]


async def test_a_csv_upload_with_good_and_bad_lines_gives_per_line_results(collections: ServiceHarness) -> None:
    customer = await known_customer(collections)
    rows = [
        "customer_id,number,issue_date,due_date,currency,amount,credit_terms",
        f"{customer},CSV-1,2026-01-01,2026-01-31,CNY,100.00,",  # line 2: good (terms from the contract)
        f"{customer},CSV-2,2026-01-01,,CNY,0.00,",  # line 3: amount not positive
        f"{customer},CSV-3,2026-01-01,,CNY,250.50",  # line 4: a cell missing
        "",  # line 5: blank, skipped
        f'{customer},"CSV-4, quoted",2026-01-01,,CNY,300.00,n/45',  # line 6: good, a comma in a quoted cell
        f"{customer},CSV-5,2026-01-01,,CNY,10.00,2/40 n/30",  # line 7: terms refused by the bulk path
        f"{customer},csv-1,2026-01-02,,CNY,10.00,",  # line 8: the number of line 2 again
    ]
    response = await upload(collections, ("\r\n".join(rows) + "\r\n").encode(), "text/csv; charset=utf-8")
    assert response.status_code == 202, response.text
    done = await finished(collections, response.json()["id"])
    assert done["status"] == "partially_succeeded"
    assert (done["lines_read"], done["accepted"], done["rejected"]) == (6, 2, 4)
    lines = await all_lines(collections, done["id"])
    assert {line["line"]: line["outcome"] for line in lines} == {
        2: "accepted",
        3: "rejected",
        4: "rejected",
        6: "accepted",
        7: "rejected",
        8: "rejected",
    }
    problems = {line["line"]: line["problems"] for line in lines}
    assert problems[3][0]["field"] == "amount"
    assert problems[4] == [{"field": "line", "message": "6 cells where the header names 7"}]
    assert [problem["field"] for problem in problems[7]] == ["credit_terms"]
    assert problems[8] == [{"field": "number", "message": "duplicate number csv-1"}]
    rejected = await all_lines(collections, done["id"], outcome="rejected")
    assert [line["line"] for line in rejected] == [3, 4, 7, 8]
    assert await collections.count("invoices") == 2
    # One invoice_issued per accepted line, for exactly its invoice; none for a rejected line.
    accepted = {line["invoice_id"] for line in lines if line["outcome"] == "accepted"}
    assert await issued_invoice_ids(collections) == accepted and len(accepted) == 2


async def test_unreadable_ndjson_lines_are_rejected_and_the_others_recorded(collections: ServiceHarness) -> None:
    customer = await known_customer(collections)
    good = invoice_body(customer, number="OK-1")
    body = b"\n".join(
        [
            json.dumps(good).encode(),
            b"{not json",
            b'"a string"',
            json.dumps(invoice_body(customer, number="OK-2")).encode()[:-1] + b"\xff}",
            json.dumps({**invoice_body(customer, number="OK-3"), "colour": "red"}).encode(),
            json.dumps(invoice_body(customer, number="OK-1")).encode(),  # repeated within the upload
            b"x" * 20_000,
            json.dumps(invoice_body("7b0c2a4e-3f51-4c1e-9d3b-0d6a3c1f2e10", number="OK-5")).encode(),
            json.dumps(invoice_body(customer, number="OK-4")).encode(),
        ]
    )
    response = await upload(collections, body, "application/x-ndjson")
    assert response.status_code == 202, response.text
    done = await finished(collections, response.json()["id"])
    assert (done["lines_read"], done["accepted"], done["rejected"]) == (9, 2, 7)
    by_line = {line["line"]: line for line in await all_lines(collections, done["id"])}
    assert [n for n, line in by_line.items() if line["outcome"] == "accepted"] == [1, 9]
    assert by_line[2]["problems"][0]["message"].startswith("not valid JSON")
    assert by_line[3]["problems"] == [{"field": "line", "message": "not a JSON object"}]
    assert by_line[4]["problems"][0]["message"].startswith("not UTF-8 text")
    assert by_line[5]["problems"][0]["field"] == "colour"
    assert by_line[6]["problems"] == [{"field": "number", "message": "duplicate number OK-1"}]
    assert by_line[7]["problems"] == [{"field": "line", "message": "longer than 16384 bytes"}]
    assert by_line[8]["problems"][0]["field"] == "customer_id"
    assert await collections.count("invoices") == 2


async def test_a_reupload_rejects_every_line_as_a_duplicate_and_records_nothing_twice(
    collections: ServiceHarness,
) -> None:
    customer = await known_customer(collections)
    run = [invoice_body(customer, number=f"DUP-{n}") for n in range(30)]
    first = await upload(collections, ndjson(run), "application/x-ndjson")
    assert (await finished(collections, first.json()["id"]))["status"] == "succeeded"
    events = await collections.outbox_count()
    again = await upload(
        collections, ndjson([*run[:20], invoice_body(customer, number="NEW-1")]), "application/x-ndjson"
    )
    assert again.status_code == 202 and again.json()["id"] != first.json()["id"]
    done = await finished(collections, again.json()["id"])
    assert (done["status"], done["accepted"], done["rejected"]) == ("partially_succeeded", 1, 20)
    rejected = await all_lines(collections, done["id"], outcome="rejected")
    assert rejected[0]["problems"] == [{"field": "number", "message": "duplicate number DUP-0: already recorded"}]
    assert await collections.count("invoices") == 31
    assert (await collections.outbox_types())[events:] == [ISSUED, RECEIVABLES]
    # Every line a duplicate: the job failed, nothing written.
    third = await upload(collections, ndjson(run[:5]), "application/x-ndjson")
    assert (await finished(collections, third.json()["id"]))["status"] == "failed"
    assert await collections.count("invoices") == 31


async def test_the_same_idempotency_key_and_body_answer_the_first_job(collections: ServiceHarness) -> None:
    customer = await known_customer(collections)
    body = ndjson([invoice_body(customer, number=f"IDEM-{n}") for n in range(10)])
    headers = {"Idempotency-Key": "billing-run-2026-03"}
    first = await upload(collections, body, "application/x-ndjson", headers)
    second = await upload(collections, body, "application/x-ndjson", headers)
    assert first.status_code == second.status_code == 202
    assert second.json()["id"] == first.json()["id"] and second.headers["idempotent-replayed"] == "true"
    assert second.headers["location"] == first.headers["location"]
    await finished(collections, first.json()["id"])
    assert await collections.count("invoice_imports") == 1 and await collections.count("invoices") == 10
    other = await upload(collections, body + b"\n" + body, "application/x-ndjson", headers)
    assert other.status_code == 422 and other.json()["type"].endswith("/idempotency-key-reused")
    assert await collections.count("invoice_imports") == 1 and await collections.count("invoice_import_lines") == 10


@pytest.mark.parametrize(
    ("content_type", "body", "status", "field"),
    [
        ("application/json", b'{"invoices": []}', 415, "header.Content-Type"),
        ("text/csv; charset=latin-1", b"customer_id\n", 415, "header.Content-Type"),
        ("application/x-ndjson", b"", 422, "body"),
        ("application/x-ndjson", b"\n  \n\r\n", 422, "body"),
        ("text/csv", b"customer_id,number,issue_date,currency,amount\n", 422, "body"),
        ("text/csv", b"customer_id,number,amount,colour\n", 422, "body.header"),
        ("application/x-ndjson", b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03" + b"\x00" * 20, 400, "body"),
        ("application/x-ndjson", "{}\n".encode("utf-16"), 400, "body"),
    ],
)
async def test_a_refused_upload_writes_nothing(
    collections: ServiceHarness, content_type: str, body: bytes, status: int, field: str
) -> None:
    response = await upload(collections, body, content_type)
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert field in [error["field"] for error in response.json()["errors"]]
    assert await collections.count("invoice_imports") == 0 and await collections.count("invoice_import_lines") == 0


async def test_more_lines_or_bytes_than_the_limits_is_413_and_writes_nothing(databases: DatabaseFactory) -> None:
    async with running_service(
        "collections", await databases.create("collections"), sweep_enabled=False, import_max_lines=100
    ) as h:
        customer = await known_customer(h)
        response = await upload(h, ndjson([invoice_body(customer) for _ in range(101)]), "application/x-ndjson")
        assert response.status_code == 413, response.text
        assert await h.count("invoice_imports") == 0 and await h.count("invoice_import_lines") == 0
        assert (
            await upload(h, ndjson([invoice_body(customer) for _ in range(100)]), "application/x-ndjson")
        ).status_code == 202

    async with running_service(
        "collections", await databases.create("collections"), sweep_enabled=False, import_max_bytes=10_000
    ) as h:
        customer = await known_customer(h)
        response = await upload(h, ndjson([invoice_body(customer) for _ in range(60)]), "application/x-ndjson")
        assert response.status_code == 413 and response.json()["errors"][0]["message"] == "too large"
        assert await h.count("invoice_imports") == 0 and await h.count("invoice_import_lines") == 0


async def test_imports_need_the_collections_scopes(collections: ServiceHarness) -> None:
    anonymous = await collections.client.post(
        "/v1/invoice-imports", content=b"{}\n", headers={"Content-Type": "application/x-ndjson"}
    )
    assert anonymous.status_code == 401
    reader = await upload(collections, b"{}\n", "application/x-ndjson", collections.auth("collections:read"))
    assert reader.status_code == 403
    assert await collections.count("invoice_imports") == 0
    missing = await collections.client.get(
        "/v1/invoice-imports/7b0c2a4e-3f51-4c1e-9d3b-0d6a3c1f2e10", headers=collections.auth(*WRITE)
    )
    assert missing.status_code == 404


async def test_imports_are_listed_newest_first(collections: ServiceHarness) -> None:
    customer = await known_customer(collections)
    ids: list[Any] = []
    for n in range(3):
        response = await upload(collections, ndjson([invoice_body(customer, number=f"L-{n}")]), "application/x-ndjson")
        ids.append(response.json()["id"])
        await finished(collections, ids[-1])
    page = await collections.client.get("/v1/invoice-imports", params={"limit": 2}, headers=collections.auth(*WRITE))
    rest = await collections.client.get(
        "/v1/invoice-imports", params={"cursor": page.json()["next_cursor"]}, headers=collections.auth(*WRITE)
    )
    listed = [item["id"] for item in page.json()["items"] + rest.json()["items"]]
    assert sorted(listed) == sorted(ids) and len(listed) == 3
