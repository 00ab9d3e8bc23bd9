"""The sweep in keyset chunks: each chunk commits its moves with their history and events, a sweep that
stops half way is resumed by the next one without moving any case twice, and the result is the same as
one big chunk."""

from __future__ import annotations

import asyncio
import json
import threading
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime
from typing import Any

import asyncpg
import pytest
from sqlalchemy import event, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from services.collections.models import Case, CaseHistory
from services.collections.service import daily_sweep
from services.collections.settings import CollectionsSettings
from services.collections.sweep import run as sweep_run
from shared.events.collections import ReceivablesChanged
from shared.outbox import NOTIFY_CHANNEL
from shared.tables import outbox
from tests.support.collections import create_invoice, known_customer, sweep
from tests.support.databases import DatabaseFactory
from tests.support.harness import ServiceHarness, running_service
from tests.support.receivables import resummed_receivables_events
from tests.support.waiting import eventually

STAGE_ENTERED = "creditflow.collections.stage_entered.v1"
RECEIVABLES_CHANGED = "creditflow.collections.receivables_changed.v1"
AS_OF = "2026-04-15"


@pytest.fixture
async def collections(databases: DatabaseFactory) -> AsyncIterator[ServiceHarness]:
    async with running_service(
        "collections", await databases.create("collections"), sweep_enabled=False, sweep_chunk_size=3
    ) as h:
        yield h


async def _invoices(h: ServiceHarness, count: int) -> None:
    customer = await known_customer(h)
    for n in range(count):
        await create_invoice(h, customer, number=f"INV-C{n}", due_date=f"2026-01-{10 + n:02d}")


def _chunk_mover(h: ServiceHarness, half: str = "lock") -> str:
    """The name in ``sweep_run`` of what moves a chunk. PostgreSQL: the late lock's ``half``, "decide" (decides
    the moves and writes their history and events, while the chunk before it locks and commits on the other
    connection) or "lock" (makes the decided moves); a redone chunk locks first. SQLite: one function."""
    if h.runtime.db.dialect != "postgresql":
        return "move_cases"
    return "decide_chunk" if half == "decide" else "lock_decided_chunk"


async def _moves(h: ServiceHarness) -> tuple[Counter[str], int]:
    """Stage entries per case (history) and the number of stage_entered events."""
    async with h.runtime.db.transaction() as session:
        entered = Counter(
            str(case_id)
            for case_id in (
                await session.execute(select(CaseHistory.case_id).where(CaseHistory.event == "stage_entered"))
            ).scalars()
        )
        events = len((await session.execute(select(outbox.c.seq).where(outbox.c.event_type == STAGE_ENTERED))).all())
    return entered, events


async def test_chunks_of_three_move_what_one_sweep_moves(collections: ServiceHarness) -> None:
    await _invoices(collections, 8)
    result = await sweep(collections, AS_OF)  # POST /v1/sweeps: chunks of 3 (8 cases: 3 + 3 + 2)
    assert result["cases_moved"] == 8
    entered, events = await _moves(collections)
    assert len(entered) == 8 and events == sum(entered.values()) == sum(result["stages_entered"].values())
    again = await sweep(collections, AS_OF)  # nothing left to move as of the same day
    assert again["cases_moved"] == 0 and await _moves(collections) == (entered, events)


@pytest.mark.parametrize("half", ["decide", "lock"])
async def test_a_sweep_that_stops_half_way_is_resumed_without_moving_a_case_twice(
    collections: ServiceHarness, monkeypatch: pytest.MonkeyPatch, half: str
) -> None:
    """Stopped in the second chunk, in either half (PostgreSQL: stopped deciding it, the first chunk is still
    committed, since its commit runs meanwhile; stopped locking it, the third one, decided meanwhile, is rolled
    back with it)."""
    await _invoices(collections, 8)
    settings = collections.settings
    assert isinstance(settings, CollectionsSettings)
    name = _chunk_mover(collections, half)
    real = getattr(sweep_run, name)
    calls: list[int] = []

    async def crash_on_the_second_chunk(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError("replica lost half way")
        return await real(*args, **kwargs)

    monkeypatch.setattr(sweep_run, name, crash_on_the_second_chunk)
    now = datetime(2026, 4, 15, 9, tzinfo=UTC)
    with pytest.raises(RuntimeError):
        await daily_sweep.run_sweep_in_chunks(collections.runtime.db, date(2026, 4, 15), now, settings)
    entered, events = await _moves(collections)
    assert len(entered) == 3  # the first chunk committed with its history and events; the second did not
    assert events == sum(entered.values())
    monkeypatch.setattr(sweep_run, name, real)
    resumed = await sweep(collections, AS_OF)
    assert resumed["cases_moved"] == 5
    entered_after, events_after = await _moves(collections)
    assert len(entered_after) == 8
    assert all(entered_after[case] == count for case, count in entered.items())  # the first 3 not moved again
    assert events_after == sum(entered_after.values())


@pytest.mark.parametrize("pipelined", [True, False])
async def test_the_chunks_events_are_in_the_outbox_chunk_after_chunk(
    collections: ServiceHarness, pipelined: bool
) -> None:
    """PostgreSQL decides a chunk while the chunk before it locks and commits (two connections; with
    ``sweep_pipelined`` off, one chunk after the other on one): either way every case moves once with its
    history and events, the chunks commit one after the other in id order and their stage_entered rows follow
    one another in the outbox chunk by chunk, as one connection would have written them."""
    await _invoices(collections, 8)
    settings = collections.settings
    assert isinstance(settings, CollectionsSettings)
    settings = settings.model_copy(update={"sweep_pipelined": pipelined})
    now = datetime(2026, 4, 15, 9, tzinfo=UTC)
    outcome = await daily_sweep.run_sweep_in_chunks(collections.runtime.db, date(2026, 4, 15), now, settings)
    assert outcome.cases_opened == outcome.cases_moved == 8
    entered, events = await _moves(collections)
    assert len(entered) == 8 and events == sum(entered.values()) == sum(outcome.stages_entered.values())
    async with collections.runtime.db.transaction() as session:
        in_id_order = (await session.execute(select(Case.id).order_by(Case.id))).scalars().all()
        chunk_of = {str(case_id): position // 3 for position, case_id in enumerate(in_id_order)}
        written = (
            await session.execute(
                select(outbox.c.data).where(outbox.c.event_type == STAGE_ENTERED).order_by(outbox.c.seq)
            )
        ).scalars()
        chunks = [chunk_of[(json.loads(data) if isinstance(data, str) else data)["case_id"]] for data in written]
    assert chunks == sorted(chunks) and set(chunks) == {0, 1, 2}


async def test_a_chunk_that_fails_after_its_moves_leaves_none_of_them(
    collections: ServiceHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The moves, history rows and events of a chunk commit together: a failure after the chunk's statement
    (before its commit) rolls all of them back, and the resumed sweep moves those cases once."""
    await _invoices(collections, 8)
    settings = collections.settings
    assert isinstance(settings, CollectionsSettings)
    name = _chunk_mover(collections)
    real = getattr(sweep_run, name)
    calls: list[int] = []

    async def fail_after_the_second_chunks_moves(*args: Any, **kwargs: Any) -> Any:
        moved = await real(*args, **kwargs)
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError("connection lost before the commit")
        return moved

    monkeypatch.setattr(sweep_run, name, fail_after_the_second_chunks_moves)
    now = datetime(2026, 4, 15, 9, tzinfo=UTC)
    with pytest.raises(RuntimeError):
        await daily_sweep.run_sweep_in_chunks(collections.runtime.db, date(2026, 4, 15), now, settings)
    entered, events = await _moves(collections)
    assert len(entered) == 3 and events == sum(entered.values())  # chunk 1 only: chunk 2 wrote nothing
    async with collections.runtime.db.transaction() as session:
        stages = Counter((await session.execute(select(Case.stage))).scalars())
    assert stages[None] == 5  # the second chunk's three cases are back where they were
    monkeypatch.setattr(sweep_run, name, real)
    assert (await sweep(collections, AS_OF))["cases_moved"] == 5
    entered_after, events_after = await _moves(collections)
    assert len(entered_after) == 8 and all(entered_after[case] == count for case, count in entered.items())
    assert events_after == sum(entered_after.values())


async def test_a_case_changed_while_its_chunk_waits_is_decided_on_its_committed_state(
    collections: ServiceHarness,
) -> None:
    """A payment or a promise holding a case's row while the sweep reaches it: the sweep waits, then
    decides that case on what was committed (here a promise to pay: not moved), and moves the others."""
    await _invoices(collections, 4)
    await sweep(collections, "2026-02-15")  # open the cases: all at letter (or visit)
    db = collections.runtime.db
    async with db.transaction() as session:
        held = (await session.execute(select(Case.id).order_by(Case.id).limit(1))).scalar_one()
        before = dict((await session.execute(select(Case.id, Case.stage))).all())
    async with db.transaction() as session:
        # Holds the row (PostgreSQL) or the write lock (SQLite) until the sweep is waiting for it.
        await session.execute(update(Case).where(Case.id == held).values(promise_to_pay=date(2026, 5, 1)))
        sweeping = asyncio.create_task(sweep(collections, AS_OF))
        if db.dialect == "postgresql":
            await _until_a_backend_waits_for_a_lock(session)
        else:
            await asyncio.sleep(0)  # SQLite: one writer; the sweep starts after this commit whatever happens
    result = await sweeping
    async with db.transaction() as session:
        after = dict((await session.execute(select(Case.id, Case.stage))).all())
    assert after[held] == before[held]  # promised: paused, decided on the committed promise
    assert all(after[case] != before[case] for case in before if case != held)
    assert result["cases_moved"] == 3


async def _until_a_backend_waits_for_a_lock(session: AsyncSession) -> None:
    deadline = asyncio.get_running_loop().time() + 30
    query = text(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
    )
    while True:
        # pg_stat_activity is read once per transaction unless the snapshot is cleared.
        await session.execute(text("SELECT pg_stat_clear_snapshot()"))
        if (await session.execute(query)).scalar_one() > 0:
            return
        assert asyncio.get_running_loop().time() < deadline, "the sweep never waited for the held case"
        await asyncio.sleep(0.02)


async def test_a_resumed_sweep_announces_the_receivables_of_every_customer_moved_before_the_stop(
    collections: ServiceHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A sweep stopped between chunks: the customers whose cases its committed chunks moved get their
    ``receivables_changed`` from the sweep that resumes it, equal to a re-sum of their open invoices."""
    customers = [await known_customer(collections) for _ in range(6)]
    for n, customer in enumerate(customers):
        await create_invoice(collections, customer, number=f"INV-R{n}", due_date=f"2026-01-{10 + n:02d}")
    await sweep(collections, "2026-01-20")  # opens every case at letter and announces every customer
    settings = collections.settings
    assert isinstance(settings, CollectionsSettings)
    name = _chunk_mover(collections)
    real = getattr(sweep_run, name)
    calls: list[int] = []

    async def stop_before_the_second_chunk(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError("replica lost between chunks")
        return await real(*args, **kwargs)

    monkeypatch.setattr(sweep_run, name, stop_before_the_second_chunk)
    now = datetime(2026, 4, 15, 9, tzinfo=UTC)
    with pytest.raises(RuntimeError):
        await daily_sweep.run_sweep_in_chunks(collections.runtime.db, date(2026, 4, 15), now, settings)
    moved_before_the_stop = await _customers_moved_as_of(collections, date(2026, 4, 15))
    assert 0 < len(moved_before_the_stop) < len(customers)  # the first chunk of 3 committed, the rest did not
    monkeypatch.setattr(sweep_run, name, real)
    assert (await sweep(collections, AS_OF))["cases_moved"] == len(customers) - len(moved_before_the_stop)
    assert await _customers_moved_as_of(collections, date(2026, 4, 15)) == {uuid.UUID(c) for c in customers}
    async with collections.runtime.db.transaction() as session:
        announced: dict[str, ReceivablesChanged] = {}
        for data in (
            await session.execute(
                select(outbox.c.data).where(outbox.c.event_type == RECEIVABLES_CHANGED).order_by(outbox.c.seq)
            )
        ).scalars():
            event = ReceivablesChanged.model_validate(json.loads(data) if isinstance(data, str) else data)
            announced[str(event.customer_id)] = event  # the last one of each customer counts
        reference = await resummed_receivables_events(
            session, {uuid.UUID(c) for c in customers}, date(2026, 4, 15), now
        )
    assert {str(e.customer_id) for e in reference} == set(customers)
    for expected in reference:
        event = announced[str(expected.customer_id)]
        assert event.model_dump(exclude={"as_of"}) == expected.model_dump(exclude={"as_of"})
        assert event.highest_open_stage not in (None, "letter")  # announced after this sweep's moves


async def _customers_moved_as_of(h: ServiceHarness, as_of: date) -> set[uuid.UUID]:
    async with h.runtime.db.transaction() as session:
        moved = select(CaseHistory.case_id).where(CaseHistory.event == "stage_entered", CaseHistory.as_of == as_of)
        return set((await session.execute(select(Case.customer_id).where(Case.id.in_(moved)))).scalars())


async def test_a_chunk_wakes_the_relay_without_round_trips_of_its_own(collections: ServiceHarness) -> None:
    """Every chunk that writes events (opening cases or moving them) wakes the relay at its commit (in
    process; on PostgreSQL by NOTIFY, for the other replicas too), and a chunk that writes none wakes no one.
    On PostgreSQL a moving chunk is three statements: its bounds, its moves with their history and events (the
    NOTIFY in that statement) and its reviews (write-off flags with the legal-review notes as a CTE): no
    NOTIFY or history insert of its own."""
    await _invoices(collections, 8)
    db = collections.runtime.db
    settings = collections.settings
    assert isinstance(settings, CollectionsSettings)
    now = datetime(2026, 4, 15, 9, tzinfo=UTC)
    payloads: list[str] = []
    listener = None
    if db.dialect == "postgresql":
        listener = await asyncpg.connect(db.url.replace("postgresql+asyncpg://", "postgresql://", 1))
        await listener.add_listener(NOTIFY_CHANNEL, lambda *args: payloads.append(args[3]))

    async def notifications() -> list[str]:
        """The sweep's NOTIFYs so far: a marker sent now arrives after every one committed before it."""
        assert listener is not None
        marker = f"marker-{len(payloads)}"
        await listener.execute(f"NOTIFY {NOTIFY_CHANNEL}, '{marker}'")
        await eventually(lambda: _received(payloads, marker), timeout=10, what="the marker NOTIFY")
        sweep_notifications = [payload for payload in payloads if not payload.startswith("marker-")]
        payloads.clear()
        return sweep_notifications

    try:
        db.outbox_committed.clear()
        with collections.statements() as statements:
            outcome = await daily_sweep.run_sweep_in_chunks(db, date(2026, 4, 15), now, settings)
        assert outcome.cases_opened == outcome.cases_moved == 8
        assert db.outbox_committed.is_set()
        if listener is not None:
            # Chunks of 3: three opening chunks, three moving chunks, the last transaction (receivables).
            assert await notifications() == [""] * 7
            issued = [s.lstrip() for s in statements]
            assert not [s for s in issued if s.startswith("INSERT INTO case_history")]
            # NOTIFY statements only where the events are written in Python (opening, the receivables).
            assert len([s for s in issued if s.startswith("SELECT pg_notify")]) == 4
            again = await daily_sweep.run_sweep_in_chunks(db, date(2026, 4, 15), now, settings)
            assert again.cases_moved == again.cases_opened == 0
            assert await notifications() == []  # nothing written, nothing to wake up for
    finally:
        if listener is not None:
            await listener.close()


async def _received(payloads: list[str], payload: str) -> bool:
    return payload in payloads


async def test_the_chunk_statements_are_compiled_before_the_first_chunk_off_the_event_loop(
    collections: ServiceHarness,
) -> None:
    """Compiling the sweep's statements (the policy's rules as SQL) is 0.5-2 s of Python on a loaded box: done
    in a worker thread before the first chunk, the chunks' executions find them compiled (on the event loop
    every request of the process, a payment too, waited for it)."""
    await _invoices(collections, 8)
    db = collections.runtime.db
    settings = collections.settings
    assert isinstance(settings, CollectionsSettings)
    legal_review = (
        "INSERT INTO case_history (case_id, as_of, event, from_stage, to_stage, at, rule, reason, policy_version,"
        " actor) SELECT"
    )
    # PostgreSQL: the move statement and the reviews (the legal-review notes a CTE of the write-off flags);
    # SQLite: the two reviews.
    chunk_statements = (
        "WITH moved AS",
        "WITH legal_review_notes AS",
        "UPDATE cases SET write_off_review",
        legal_review,
    )
    first_runs: dict[str, Any] = {}

    def record(_conn: Any, _cursor: Any, statement: str, _params: Any, context: Any, _many: bool) -> None:
        for start in chunk_statements:
            if statement.lstrip().startswith(start):
                first_runs.setdefault(start, context.cache_hit)

    engine = db.engine.sync_engine
    event.listen(engine, "after_cursor_execute", record)
    try:
        now = datetime(2026, 4, 15, 9, tzinfo=UTC)
        assert (await daily_sweep.run_sweep_in_chunks(db, date(2026, 4, 15), now, settings)).cases_moved == 8
    finally:
        event.remove(engine, "after_cursor_execute", record)
    expected = chunk_statements[:2] if db.dialect == "postgresql" else chunk_statements[2:]
    assert first_runs == dict.fromkeys(expected, engine.dialect.CACHE_HIT)


@pytest.mark.parametrize("pipelined", [True, False])
async def test_a_chunk_locks_its_cases_last_and_redoes_itself_on_a_case_changed_meanwhile(
    collections: ServiceHarness, monkeypatch: pytest.MonkeyPatch, pipelined: bool
) -> None:
    """PostgreSQL: a chunk decides its moves and writes their history and events without locking a case, so
    a payment goes ahead of it; then it moves the rows it decided on, if unchanged. Here two of its cases
    change after the decision and commit before the late lock: a payment (moved once, its event carrying the
    paid-down amount) and a promise to pay (not moved). The chunk is redone on the committed rows: nothing
    it wrote for the stale rows is kept, no case is moved twice or left behind (pipelined: the next chunk,
    decided on the other connection meanwhile, kept and moved after the redo)."""
    monkeypatch.setattr(collections.settings, "sweep_pipelined", pipelined)
    await _invoices(collections, 4)
    await sweep(collections, "2026-02-15")  # open the cases: all at letter (or visit)
    db = collections.runtime.db
    async with db.transaction() as session:
        first, second = (await session.execute(select(Case.id).order_by(Case.id).limit(2))).scalars()
        before = dict((await session.execute(select(Case.id, Case.stage))).all())
        outstanding = (await session.execute(select(Case.outstanding).where(Case.id == first))).scalar_one()
    dsn = db.url.replace("postgresql+asyncpg://", "postgresql://", 1)
    seen: list[str] = []

    async def pay_and_promise() -> None:
        conn = await asyncpg.connect(dsn)
        try:
            # NOWAIT: an error if the chunk held either row (it has decided on them and written their events).
            async with conn.transaction():
                await conn.execute("SELECT 1 FROM cases WHERE id = ANY($1) FOR UPDATE NOWAIT", [first, second])
                await conn.execute(
                    "UPDATE cases SET outstanding = outstanding - 10, version = version + 1 WHERE id = $1", first
                )
                await conn.execute(
                    "UPDATE cases SET promise_to_pay = DATE '2026-05-01', version = version + 1 WHERE id = $1",
                    second,
                )
        finally:
            await conn.close()

    def before_the_late_lock(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if "FROM sweep_seen AS seen" in statement and not seen:
            seen.append(statement)
            # The sweep's connection is in the middle of its chunk: the change runs on another one, in a thread
            # of its own (this hook is synchronous), and commits before the chunk's UPDATE starts.
            failure: list[BaseException] = []

            def run() -> None:
                try:
                    asyncio.run(pay_and_promise())
                except BaseException as exc:  # reported below, on the sweep's side
                    failure.append(exc)

            thread = threading.Thread(target=run)
            thread.start()
            thread.join(60)
            assert not failure, failure

    if db.dialect == "postgresql":
        event.listen(db.engine.sync_engine, "before_cursor_execute", before_the_late_lock)
        try:
            result = await sweep(collections, AS_OF)
        finally:
            event.remove(db.engine.sync_engine, "before_cursor_execute", before_the_late_lock)
        assert seen, "the chunk never locked late"
    else:
        # SQLite has one writer and no late lock: nothing runs during a chunk, so the same payment and promise
        # come before the sweep, which must reach the same result.
        async with db.transaction() as session:
            await session.execute(
                update(Case).where(Case.id == first).values(outstanding=Case.outstanding - 10, version=Case.version + 1)
            )
            await session.execute(
                update(Case).where(Case.id == second).values(promise_to_pay=date(2026, 5, 1), version=Case.version + 1)
            )
        result = await sweep(collections, AS_OF)
    assert result["cases_moved"] == 3
    entered, events = await _moves(collections)
    async with db.transaction() as session:
        after = dict((await session.execute(select(Case.id, Case.stage))).all())
        written = [
            json.loads(data) if isinstance(data, str) else data
            for data in (await session.execute(select(outbox.c.data).where(outbox.c.event_type == STAGE_ENTERED)))
            .scalars()
            .all()
        ]
    this_sweep = [e for e in written if e["as_of"] == AS_OF]
    assert after[second] == before[second] and str(second) not in {e["case_id"] for e in this_sweep}  # promised
    assert all(after[case] != before[case] for case in before if case != second)
    assert events == sum(entered.values())  # no event without its history row, none left from the stale try
    moved_first = [e for e in this_sweep if e["case_id"] == str(first)]
    assert moved_first and {e["amount"] for e in moved_first} == {str(outstanding - 10)}  # the paid-down amount
    steps = Counter((e["case_id"], e["previous_stage"]) for e in this_sweep)
    assert len({case for case, _ in steps}) == 3 and set(steps.values()) == {1}  # each stage left once per case
