"""``write_changes`` (SQLite or PostgreSQL): loaded objects' changes written one statement per kind of change.

What it writes must be what the session's flush would have written, and nothing must be left for the flush
to write again; what it does not take (here: a new object) the flush still writes.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import event, select

from services.credit.models import KnownCustomer
from shared.db import Database, write_changes
from tests.support.databases import DatabaseFactory

AT = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


def customer(n: int) -> KnownCustomer:
    return KnownCustomer(
        id=uuid.uuid4(),
        name=f"C {n}",
        kind="commercial",
        lifecycle="active",
        segment="general",
        region="north",
        registered_at=AT,
        updated_at=AT,
    )


async def test_changes_are_written_one_statement_per_kind_and_nothing_is_left_for_the_flush(
    databases: DatabaseFactory,
) -> None:
    db = Database(await databases.create("credit"))
    statements: list[str] = []

    def seen(_conn: Any, _cursor: Any, statement: str, *args: Any) -> None:
        statements.append(statement)

    try:
        async with db.transaction() as session:
            session.add_all([customer(n) for n in range(90)])
        async with db.transaction() as session:
            loaded = list((await session.scalars(select(KnownCustomer).order_by(KnownCustomer.name))).all())
            names = [row.name for row in loaded]
            for n, row in enumerate(loaded):
                if n % 3 == 0:
                    row.name = f"renamed {n}"
                elif n % 3 == 1:
                    row.segment, row.region = "key", None
            added = customer(999)
            session.add(added)
            event.listen(db.engine.sync_engine, "before_cursor_execute", seen)
            await write_changes(session, loaded)
            assert len(statements) == 2  # the renamed ones, the re-segmented ones
            await session.flush()
            assert len(statements) == 3 and statements[-1].lstrip().upper().startswith("INSERT")
            event.remove(db.engine.sync_engine, "before_cursor_execute", seen)
            assert not session.dirty
        async with db.transaction(read_only=True) as session:
            rows = {row.id: row for row in (await session.scalars(select(KnownCustomer))).all()}
        assert len(rows) == 91 and rows[added.id].name == "C 999"
        for n, row in enumerate(loaded):
            stored = rows[row.id]
            expected = {
                0: (f"renamed {n}", "general", "north"),
                1: (names[n], "key", None),
                2: (names[n], "general", "north"),
            }[n % 3]
            assert (stored.name, stored.segment, stored.region) == expected
    finally:
        await db.dispose()
