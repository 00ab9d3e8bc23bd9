"""Invoice imports whose chunk fails for a reason other than its lines (the database or the registry away, a
bug): retried with exponential backoff on the worker's clock, the attempts and the last error on the job,
``failed`` after ``import_max_attempts`` with its unrecorded lines left pending, and resumed by an operator's
retry; every chunk is atomic, so every line is recorded exactly once."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from prometheus_client import REGISTRY

from services.collections.imports import repository
from services.collections.imports.worker import ImportWorker
from services.collections.settings import CollectionsSettings
from shared.clock import FixedClock
from tests.support.collections import WRITE, invoice_body, known_customer
from tests.support.databases import DatabaseFactory
from tests.support.harness import ServiceHarness, running_service
from tests.support.imports import ISSUED, all_lines, ndjson, upload

LINES = 250
CHUNK = 100
BACKOFF = 10.0
MAX_BACKOFF = 15.0
ATTEMPTS = 3
STARTED = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


@dataclass
class Fault:
    """Fails recording the results of the second chunk (after its invoices are inserted) while ``failures`` > 0."""

    failures: int
    calls: int = 0

    def install(self, monkeypatch: pytest.MonkeyPatch) -> None:
        record_results = repository.record_results

        async def faulty(*args: Any, **kwargs: Any) -> None:
            self.calls += 1
            if self.calls > 1 and self.failures > 0:
                self.failures -= 1
                raise ConnectionError("the database went away")
            await record_results(*args, **kwargs)

        monkeypatch.setattr(repository, "record_results", faulty)


@dataclass
class Setup:
    h: ServiceHarness
    worker: ImportWorker
    retry_clock: FixedClock
    import_id: str

    async def job(self) -> dict[str, Any]:
        response = await self.h.client.get(f"/v1/invoice-imports/{self.import_id}", headers=self.h.auth(*WRITE))
        assert response.status_code == 200, response.text
        job: dict[str, Any] = response.json()
        return job


@pytest.fixture
async def setup(databases: DatabaseFactory) -> AsyncIterator[Setup]:
    url = await databases.create("collections")
    async with running_service("collections", url, sweep_enabled=False, import_worker_enabled=False) as h:
        customer = await known_customer(h)
        run = [invoice_body(customer, number=f"F-{n:04d}") for n in range(LINES)]
        response = await upload(h, ndjson(run), "application/x-ndjson")
        assert response.status_code == 202, response.text
        assert isinstance(h.settings, CollectionsSettings)
        settings = h.settings.model_copy(
            update={
                "import_chunk_lines": CHUNK,
                "import_max_attempts": ATTEMPTS,
                "import_retry_backoff_seconds": BACKOFF,
                "import_max_retry_backoff_seconds": MAX_BACKOFF,
            }
        )
        retry_clock = FixedClock(STARTED)
        worker = ImportWorker(h.runtime.db, settings, h.clock, None, owner="replica", lease_clock=retry_clock)
        yield Setup(h, worker, retry_clock, response.json()["id"])


def _at(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value.replace("Z", "+00:00")) if value else None


def _failures(outcome: str) -> float:
    value = REGISTRY.get_sample_value(
        "creditflow_invoice_import_chunk_failures_total", {"service": "collections", "outcome": outcome}
    )
    return value or 0.0


async def _recorded_exactly_once(s: Setup) -> None:
    assert await s.h.count("invoices") == LINES
    assert (await s.h.outbox_types()).count(ISSUED) == LINES
    lines = await all_lines(s.h, s.import_id)
    assert [line["outcome"] for line in lines] == ["accepted"] * LINES
    assert len({line["invoice_id"] for line in lines}) == LINES


async def test_a_chunk_that_fails_once_is_retried_after_its_backoff_and_recorded_once(
    setup: Setup, monkeypatch: pytest.MonkeyPatch
) -> None:
    Fault(failures=1).install(monkeypatch)
    retrying = _failures("retrying")

    assert await setup.worker.run_once() == 0  # the first chunk recorded, the second failed: backing off
    job = await setup.job()
    assert (job["status"], job["lines_processed"], job["accepted"], job["attempts"]) == ("running", CHUNK, CHUNK, 1)
    assert "ConnectionError: the database went away" in job["last_error"]
    assert _at(job["next_attempt_at"]) == STARTED + timedelta(seconds=BACKOFF)
    assert await setup.h.count("invoices") == CHUNK  # the failed chunk left nothing behind
    assert _failures("retrying") == retrying + 1

    # Not before its backoff has passed on the worker's clock.
    setup.retry_clock.advance(seconds=BACKOFF - 1)
    assert await setup.worker.run_once() == 0
    assert (await setup.job())["attempts"] == 1 and await setup.h.count("invoices") == CHUNK

    setup.retry_clock.advance(seconds=1)
    assert await setup.worker.run_once() == 1
    job = await setup.job()
    assert (job["status"], job["lines_processed"], job["accepted"]) == ("succeeded", LINES, LINES)
    assert (job["attempts"], job["next_attempt_at"]) == (0, None)
    assert "the database went away" in job["last_error"]  # the record of what happened stays
    await _recorded_exactly_once(setup)


async def test_a_chunk_that_always_fails_ends_the_import_failed_and_a_retry_finishes_it_once(
    setup: Setup, monkeypatch: pytest.MonkeyPatch
) -> None:
    fault = Fault(failures=1_000)
    fault.install(monkeypatch)
    failed = _failures("failed")

    # Attempts 1 and 2 back off 10 s, then 20 s capped at 15 s; attempt 3 is the last.
    waits = []
    for attempt in range(1, ATTEMPTS):
        assert await setup.worker.run_once() == 0
        job = await setup.job()
        assert (job["status"], job["attempts"]) == ("running", attempt)
        next_attempt = _at(job["next_attempt_at"])
        assert next_attempt is not None
        waits.append((next_attempt - setup.retry_clock.now()).total_seconds())
        setup.retry_clock.set(next_attempt)
    assert waits == [BACKOFF, MAX_BACKOFF]
    assert await setup.worker.run_once() == 0
    job = await setup.job()
    assert (job["status"], job["attempts"], job["next_attempt_at"]) == ("failed", ATTEMPTS, None)
    assert job["finished_at"] is not None and "the database went away" in job["last_error"]
    assert (job["lines_processed"], job["accepted"], job["rejected"]) == (CHUNK, CHUNK, 0)
    assert _failures("failed") == failed + 1
    pending = await all_lines(setup.h, setup.import_id, outcome="pending")
    assert [line["line"] for line in pending] == list(range(CHUNK + 1, LINES + 1))  # reported unrecorded
    assert await setup.h.count("invoices") == CHUNK

    # A failed import is not claimed again by itself.
    setup.retry_clock.advance(hours=1)
    assert await setup.worker.run_once() == 0 and (await setup.job())["status"] == "failed"

    path = f"/v1/invoice-imports/{setup.import_id}/retry"
    forbidden = await setup.h.client.post(path, headers=setup.h.auth("collections:read"))
    assert forbidden.status_code == 403, forbidden.text

    fault.failures = 0  # the database is back
    retried = await setup.h.client.post(path, headers=setup.h.auth(*WRITE))
    assert retried.status_code == 202, retried.text
    assert (retried.json()["status"], retried.json()["attempts"], retried.json()["finished_at"]) == ("queued", 0, None)
    assert await setup.worker.run_once() == 1
    job = await setup.job()
    assert (job["status"], job["lines_processed"], job["accepted"]) == ("succeeded", LINES, LINES)
    await _recorded_exactly_once(setup)

    again = await setup.h.client.post(path, headers=setup.h.auth(*WRITE))
    assert again.status_code == 409, again.text


async def test_only_a_failed_import_with_unrecorded_lines_can_be_retried(setup: Setup) -> None:
    path = f"/v1/invoice-imports/{setup.import_id}/retry"
    queued = await setup.h.client.post(path, headers=setup.h.auth(*WRITE))
    assert queued.status_code == 409, queued.text
    missing = await setup.h.client.post(
        "/v1/invoice-imports/0f9a3c1e-5b2d-4e6f-8a7b-9c0d1e2f3a4b/retry", headers=setup.h.auth(*WRITE)
    )
    assert missing.status_code == 404, missing.text
