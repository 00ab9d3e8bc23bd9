"""Invoice imports across replicas: a replica that dies mid-import is taken over once its lease expires,
and every line is recorded exactly once; several replicas share the queued imports."""

from __future__ import annotations

import asyncio

import pytest

from services.collections.imports import repository
from services.collections.imports.worker import ImportWorker
from services.collections.settings import CollectionsSettings
from tests.support.collections import WRITE, invoice_body, known_customer
from tests.support.databases import DatabaseFactory
from tests.support.harness import ServiceHarness, running_service
from tests.support.imports import ISSUED, all_lines, finished, ndjson, upload

LINES = 5_000
CHUNK = 1_000


def _crashing_replica(h: ServiceHarness) -> ImportWorker:
    """A worker of another replica, with a one-second lease (it will stop renewing it)."""
    assert isinstance(h.settings, CollectionsSettings)
    settings = h.settings.model_copy(update={"import_lease_seconds": 1.0})
    return ImportWorker(h.runtime.db, settings, h.clock, None, owner="replica-that-dies")


async def test_an_import_interrupted_mid_way_resumes_on_another_replica_exactly_once(
    databases: DatabaseFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = await databases.create("collections")
    options = {"sweep_enabled": False, "import_chunk_lines": CHUNK, "import_poll_seconds": 0.05}
    async with running_service("collections", url, import_worker_enabled=False, **options) as first:
        customers = [await known_customer(first) for _ in range(4)]
        run = [invoice_body(customers[n % 4], number=f"R-{n:05d}") for n in range(LINES)]
        response = await upload(first, ndjson(run), "application/x-ndjson")
        assert response.status_code == 202, response.text
        import_id = response.json()["id"]
        dying = _crashing_replica(first)
        assert str(await dying.claim()) == import_id
        assert await dying.process_chunk(import_id) and await dying.process_chunk(import_id)

        # The third chunk dies after its invoices are inserted, before its results are written: as a
        # killed process, its transaction never commits.
        async def killed(*_args: object, **_kwargs: object) -> None:
            raise RuntimeError("replica killed mid-chunk")

        monkeypatch.setattr(repository, "record_results", killed)
        with pytest.raises(RuntimeError):
            await dying.process_chunk(import_id)
        monkeypatch.undo()
        job = (await first.client.get(f"/v1/invoice-imports/{import_id}", headers=first.auth(*WRITE))).json()
        assert (job["status"], job["lines_processed"], job["accepted"]) == ("running", 2 * CHUNK, 2 * CHUNK)
        assert await first.count("invoices") == 2 * CHUNK

        # Another replica takes the import over once the dead one's lease has expired, and finishes it.
        async with running_service("collections", url, **options) as second:
            done = await finished(second, import_id)
            assert (done["status"], done["lines_processed"], done["accepted"]) == ("succeeded", LINES, LINES)
            assert await second.count("invoices") == LINES
            assert (await second.outbox_types()).count(ISSUED) == LINES
            lines = await all_lines(second, import_id)
            assert [line["line"] for line in lines] == list(range(1, LINES + 1))
            assert len({line["invoice_id"] for line in lines}) == LINES
            # The dead replica, back, has lost its lease: it writes nothing more.
            assert not await dying.process_chunk(import_id)
            assert await second.count("invoices") == LINES


async def test_several_replicas_share_the_queued_imports(databases: DatabaseFactory) -> None:
    url = await databases.create("collections")
    options = {"sweep_enabled": False, "import_chunk_lines": 500, "import_poll_seconds": 0.05}
    async with (
        running_service("collections", url, **options) as one,
        running_service("collections", url, **options) as two,
    ):
        customer = await known_customer(one)
        jobs = []
        for n in range(4):
            body = ndjson([invoice_body(customer, number=f"J{n}-{line}") for line in range(1_500)])
            response = await upload(one if n % 2 else two, body, "application/x-ndjson")
            assert response.status_code == 202, response.text
            jobs.append(response.json()["id"])
        done = await asyncio.gather(*(finished(one, job) for job in jobs))
        assert [job["status"] for job in done] == ["succeeded"] * 4
        assert await one.count("invoices") == 6_000
        assert (await one.outbox_types()).count(ISSUED) == 6_000


async def test_a_number_recorded_meanwhile_rejects_only_its_line(
    databases: DatabaseFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The unique key catches what the taken-number check could not see (another request recording the number
    between check and insert): the chunk is narrowed down by halves and only that line is rejected."""
    from services.collections import repository as invoice_repository

    url = await databases.create("collections")
    async with running_service("collections", url, sweep_enabled=False, import_worker_enabled=False) as h:
        customer = await known_customer(h)
        recorded = await h.client.post(
            "/v1/invoices", json=invoice_body(customer, number="RACE-2"), headers=h.auth(*WRITE)
        )
        assert recorded.status_code == 201, recorded.text
        run = [invoice_body(customer, number=f"RACE-{n}") for n in range(1, 6)]
        import_id = (await upload(h, ndjson(run), "application/x-ndjson")).json()["id"]

        async def unseen(*_args: object, **_kwargs: object) -> list[object]:
            return []  # the check runs before the other request commits

        monkeypatch.setattr(invoice_repository, "taken_numbers", unseen)
        assert isinstance(h.settings, CollectionsSettings)
        worker = ImportWorker(h.runtime.db, h.settings, h.clock, None, owner="replica")
        assert await worker.run_once() == 1
        job = (await h.client.get(f"/v1/invoice-imports/{import_id}", headers=h.auth(*WRITE))).json()
        assert (job["status"], job["accepted"], job["rejected"]) == ("partially_succeeded", 4, 1)
        [line] = await all_lines(h, import_id, outcome="rejected")
        assert line["line"] == 2 and line["problems"][0]["message"].startswith("the database refused the invoice")
        assert await h.count("invoices") == 5
