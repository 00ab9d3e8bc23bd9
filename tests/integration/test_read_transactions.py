"""Reads do not queue behind writes: GET requests run in a transaction that takes no write lock.

On SQLite every unit of work used to begin with ``BEGIN IMMEDIATE``, so a GET waited (up to the busy
timeout) for any writer. Reads now begin deferred and read a WAL snapshot; writers keep the lock.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import event, text
from sqlalchemy.exc import OperationalError

from tests.support.databases import DatabaseFactory
from tests.support.harness import ServiceHarness, running_service

ACME = {"name": "Acme Trading Co.", "kind": "commercial", "lifecycle": "active", "tax_id": "91310000MA1K000777"}


@pytest.fixture
async def customers(databases: DatabaseFactory) -> AsyncIterator[ServiceHarness]:
    async with running_service("customers", await databases.create("customers")) as harness:
        yield harness


async def test_a_get_answers_while_a_writer_holds_its_transaction(customers: ServiceHarness) -> None:
    created = await customers.client.post("/v1/customers", json=ACME, headers=customers.auth("customers:write"))
    assert created.status_code == 201, created.text
    customer_id = created.json()["id"]
    async with customers.runtime.db.transaction() as writer:
        # The writer holds the write lock (SQLite) and the row lock (PostgreSQL) until the block ends.
        await writer.execute(text("UPDATE customers SET name = 'Renamed' WHERE id IS NOT NULL"))
        # Generous deadline: a GET that queued for the lock would wait the 30 s busy timeout.
        got = await asyncio.wait_for(
            customers.client.get(f"/v1/customers/{customer_id}", headers=customers.auth("customers:read")), 20
        )
        assert got.status_code == 200, got.text
        assert got.json()["name"] == "Acme Trading Co."  # the committed state, not the writer's
    got = await customers.client.get(f"/v1/customers/{customer_id}", headers=customers.auth("customers:read"))
    assert got.json()["name"] == "Renamed"


async def test_a_read_only_unit_of_work_never_waits_for_the_write_lock(customers: ServiceHarness) -> None:
    created = await customers.client.post("/v1/customers", json=ACME, headers=customers.auth("customers:write"))
    assert created.status_code == 201, created.text
    if customers.runtime.db.dialect == "sqlite":
        # Its connections read in the event loop's thread: a write there would block the loop while it waits
        # for the lock, so SQLite refuses it at once (query-only connections) and nothing changes.
        with pytest.raises(OperationalError, match="readonly"):
            async with customers.runtime.db.transaction(read_only=True) as session:
                await session.execute(text("DELETE FROM customers"))
        assert await customers.count("customers") == 1
    else:
        # PostgreSQL reads in autocommit: a stray write commits on its own (keep writes out of read units).
        async with customers.runtime.db.transaction(read_only=True) as session:
            await session.execute(text("DELETE FROM customers"))
        assert await customers.count("customers") == 0


async def test_reads_answer_while_another_connection_holds_the_write_lock(customers: ServiceHarness) -> None:
    """BEGIN IMMEDIATE (SQLite) / an open write transaction (PostgreSQL) held in another connection."""
    created = await customers.client.post("/v1/customers", json=ACME, headers=customers.auth("customers:write"))
    customer_id = created.json()["id"]
    async with customers.runtime.db.engine.connect() as holder:
        seen: list[str] = []
        event.listen(holder.sync_connection, "before_cursor_execute", lambda *args: seen.append(args[2]))
        await holder.begin()  # the writers' engine: BEGIN IMMEDIATE on SQLite
        locked = await holder.exec_driver_sql("UPDATE customers SET name = 'Held' WHERE name IS NOT NULL")
        assert locked.rowcount == 1
        if customers.runtime.db.dialect == "sqlite":
            assert seen[0] == "BEGIN IMMEDIATE"
        started = asyncio.get_running_loop().time()
        got = await asyncio.wait_for(
            customers.client.get(f"/v1/customers/{customer_id}", headers=customers.auth("customers:read")), 20
        )
        listed = await asyncio.wait_for(
            customers.client.get("/v1/customers", headers=customers.auth("customers:read")), 20
        )
        waited = asyncio.get_running_loop().time() - started
        await holder.rollback()
    assert got.status_code == 200 and got.json()["name"] == "Acme Trading Co.", got.text
    assert listed.status_code == 200 and [item["name"] for item in listed.json()["items"]] == ["Acme Trading Co."]
    assert waited < 5  # far below the 30 s busy timeout a queued read would have waited
