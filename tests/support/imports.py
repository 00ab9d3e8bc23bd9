"""Helpers of the invoice import tests: uploads streamed in odd-sized pieces, polling a job to its end."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
from sqlalchemy import select

from shared.tables import outbox
from tests.support.collections import WRITE
from tests.support.harness import ServiceHarness
from tests.support.waiting import eventually

ISSUED = "creditflow.collections.invoice_issued.v1"
RECEIVABLES = "creditflow.collections.receivables_changed.v1"
# A prime: the pieces end in the middle of lines (and of multi-byte characters), as network reads do.
PIECE_BYTES = 7_919


def ndjson(items: list[dict[str, Any]]) -> bytes:
    return b"".join(json.dumps(item).encode() + b"\n" for item in items)


async def _pieces(body: bytes) -> AsyncIterator[bytes]:
    for start in range(0, len(body), PIECE_BYTES):
        yield body[start : start + PIECE_BYTES]


async def upload(
    h: ServiceHarness, body: bytes, content_type: str, headers: dict[str, str] | None = None
) -> httpx.Response:
    """POST the body to /v1/invoice-imports as a stream (chunked, no Content-Length)."""
    sent = {**h.auth(*WRITE), "Content-Type": content_type, **(headers or {})}
    return await h.client.post("/v1/invoice-imports", content=_pieces(body), headers=sent, timeout=120)


async def finished(h: ServiceHarness, import_id: str, timeout: float = 120.0) -> dict[str, Any]:
    """The import once its worker has finished it (polled)."""

    async def probe() -> dict[str, Any] | None:
        response = await h.client.get(f"/v1/invoice-imports/{import_id}", headers=h.auth(*WRITE))
        assert response.status_code == 200, response.text
        job: dict[str, Any] = response.json()
        return job if job["finished_at"] else None

    return await eventually(probe, timeout=timeout, interval=0.05, what=f"import {import_id} to finish")


async def all_lines(h: ServiceHarness, import_id: str, outcome: str | None = None) -> list[dict[str, Any]]:
    """Every line result of the import, page after page."""
    lines: list[dict[str, Any]] = []
    params: dict[str, Any] = {"limit": 1000} | ({"outcome": outcome} if outcome else {})
    while True:
        response = await h.client.get(f"/v1/invoice-imports/{import_id}/lines", params=params, headers=h.auth(*WRITE))
        assert response.status_code == 200, response.text
        page = response.json()
        lines += page["items"]
        if not page["next_cursor"]:
            return lines
        params["cursor"] = page["next_cursor"]


async def issued_invoice_ids(h: ServiceHarness) -> set[str]:
    """The invoice ids of every invoice_issued event in the outbox."""
    async with h.runtime.db.transaction() as session:
        payloads = (await session.execute(select(outbox.c.data).where(outbox.c.event_type == ISSUED))).scalars()
        return {json.loads(payload)["invoice_id"] for payload in payloads}
