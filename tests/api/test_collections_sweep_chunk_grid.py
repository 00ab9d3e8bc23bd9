"""The chunked sweep over the decide() grid in chunks of 97 cases (45 chunks, the last one partial): each
case, wherever the chunk boundaries fall, enters exactly the stages decide() gives, once, with its history
rows and stage_entered events whose every field (ids, reason, amounts, the supply flags of malicious
arrears, the sweep's day and instant) is what the domain rules say."""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from services.collections.domain.escalation import decide, keeps_supplying, supply_must_stop
from services.collections.domain.policy import default_policy
from services.collections.domain.stages import DisputeResolution
from services.collections.models import Case, CaseHistory
from services.collections.service import daily_sweep
from shared.clock import FixedClock
from shared.events.collections import StageEntered
from shared.tables import outbox
from tests.support.collections import sweep
from tests.support.databases import DatabaseFactory
from tests.support.harness import ServiceHarness, running_service
from tests.support.sweep_grid import grid_of_cases, insert_grid

NOW = datetime(2026, 6, 30, 9, tzinfo=UTC)
AS_OF_AT = datetime(2026, 6, 30, 10, 30, tzinfo=UTC)
STAGE_ENTERED = "creditflow.collections.stage_entered.v1"


@pytest.fixture
async def collections(databases: DatabaseFactory) -> AsyncIterator[ServiceHarness]:
    async with running_service(
        "collections",
        await databases.create("collections"),
        clock=FixedClock(NOW),
        sweep_enabled=False,
        sweep_chunk_size=97,
    ) as h:
        yield h


async def test_chunks_of_97_write_for_every_case_what_the_domain_rules_give(collections: ServiceHarness) -> None:
    as_of = AS_OF_AT.date()
    policy = default_policy()
    grid = grid_of_cases(malicious_every=3)
    owners = await insert_grid(collections, grid, customers=7)
    result = await sweep(collections, AS_OF_AT.isoformat())
    async with collections.runtime.db.transaction() as session:
        stages = dict((await session.execute(select(Case.id, Case.stage))).all())
        history: dict[uuid.UUID, list[tuple[str | None, str | None, str | None, str]]] = {}
        for entry in (
            await session.scalars(
                select(CaseHistory).where(CaseHistory.event == "stage_entered").order_by(CaseHistory.id)
            )
        ).all():
            history.setdefault(entry.case_id, []).append((entry.from_stage, entry.to_stage, entry.rule, entry.reason))
        events: dict[uuid.UUID, list[StageEntered]] = {}
        for data in (
            await session.scalars(
                select(outbox.c.data).where(outbox.c.event_type == STAGE_ENTERED).order_by(outbox.c.seq)
            )
        ).all():
            event = StageEntered.model_validate_json(data)
            events.setdefault(event.case_id, []).append(event)
    mismatches: list[object] = []
    moved = entered = 0
    for facts in grid:
        assert isinstance(facts.case_id, uuid.UUID)
        decision = decide(facts, policy, as_of)
        moved += decision.moved
        entered += len(decision.steps)
        customer, invoice = owners[facts.case_id]
        previous = [facts.current_stage.value if facts.current_stage else None] + [
            step.stage.value for step in decision.steps
        ]
        steps = list(enumerate(decision.steps))
        want_history = [(previous[n], step.stage.value, step.rule, step.reason) for n, step in steps]
        want_events = [
            StageEntered(
                customer_id=customer,
                case_id=facts.case_id,
                invoice_id=invoice,
                stage=step.stage.value,
                previous_stage=previous[n],
                rule=step.rule,
                reason=step.reason,
                policy_version=policy.version,
                days_overdue=decision.days_overdue,
                currency="CNY",
                amount=decision.escalating_amount,
                stop_supply=supply_must_stop(policy, facts.segment, step.stage, malicious=facts.malicious),
                entered_at=NOW,
                as_of=as_of,
                keep_supplying=keeps_supplying(policy, facts.segment, malicious=facts.malicious),
                as_of_at=AS_OF_AT,
            )
            for n, step in steps
        ]
        expected_stage = decision.to_stage.value if decision.to_stage else stages[facts.case_id]
        got = (stages[facts.case_id], history.get(facts.case_id, []), events.get(facts.case_id, []))
        if got != (expected_stage, want_history, want_events):
            mismatches.append((facts, got, want_events))
    assert not mismatches, mismatches[:2]
    assert result["cases_moved"] == moved > 1000 and sum(result["stages_entered"].values()) == entered
    assert any(facts.malicious for facts in grid) and any(not facts.malicious for facts in grid)


async def test_chunks_of_97_flag_and_note_what_one_pass_over_every_case_does(databases: DatabaseFactory) -> None:
    """Write-off review flags and legal-review notes run per chunk, on the chunk's cases after its moves:
    they give every case of the grid what one transaction over every case gives (and the flags what
    decide() gives)."""
    as_of = AS_OF_AT.date()
    # Every third case without a contract on file: its legal stage waits for legal review (or, past
    # limitation, goes to write-off review).
    grid = [
        replace(facts, dispute_resolution=DisputeResolution()) if n % 3 == 0 else facts
        for n, facts in enumerate(grid_of_cases())
    ]
    found: list[dict[uuid.UUID, tuple[bool, list[tuple[str, str]]]]] = []
    for chunk_size in (97, None):
        async with running_service(
            "collections",
            await databases.create("collections"),
            clock=FixedClock(NOW),
            sweep_enabled=False,
            sweep_chunk_size=chunk_size or 97,
        ) as h:
            await insert_grid(h, grid, customers=7)
            if chunk_size is not None:
                await sweep(h, AS_OF_AT.isoformat())
            else:
                async with h.runtime.db.transaction() as session:
                    await daily_sweep.run_sweep(session, as_of, NOW, as_of_at=AS_OF_AT)
            async with h.runtime.db.transaction() as session:
                reviews = dict((await session.execute(select(Case.id, Case.write_off_review))).all())
                notes: dict[uuid.UUID, list[tuple[str, str]]] = {}
                for entry in (
                    await session.scalars(
                        select(CaseHistory)
                        .where(CaseHistory.event.in_(["legal_review", "write_off_review"]))
                        .order_by(CaseHistory.id)
                    )
                ).all():
                    notes.setdefault(entry.case_id, []).append((entry.event, entry.reason))
            found.append({case_id: (flag, notes.get(case_id, [])) for case_id, flag in reviews.items()})
    chunked, whole = found
    assert chunked == whole
    policy = default_policy()
    assert all(chunked[f.case_id][0] == decide(f, policy, as_of).write_off_review for f in grid if f.case_id)
    events = Counter(event for _, entries in chunked.values() for event, _ in entries)
    assert events["legal_review"] > 0 and events["write_off_review"] > 0  # the grid exercises both
