"""The sweep's SQL is compiled from the domain's rules: run it on the real database over a grid of cases and
customers and compare it with the Python rule (``decide``, ``segment_for``) case by case."""

from __future__ import annotations

import itertools
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import insert, select

from services.collections.domain.escalation import CaseFacts, decide
from services.collections.domain.limitation import LimitationBasis, LimitationStart
from services.collections.domain.policy import Policy, default_policy
from services.collections.domain.segments import SegmentFacts, segment_for
from services.collections.domain.stages import DisputeResolution, Segment
from services.collections.sweep.rules_sql import (
    candidate_conditions,
    cases,
    invoices,
    known,
    profiles,
    segment_sql,
    target_stage_sql,
)
from shared.stage import Stage
from tests.support.databases import DatabaseFactory
from tests.support.harness import ServiceHarness, running_service

AS_OF = date(2029, 6, 30)
NOW = datetime(2029, 6, 30, 9, tzinfo=UTC)
DAYS = [0, 1, 14, 15, 29, 30, 45, 59, 60, 89, 90, 91, 400, 1095, 1096, 1500]
AMOUNTS = ["99.99", "9999.99", "10000.00", "49999.99", "50000.00"]
CLAUSES = [
    DisputeResolution.court(),
    DisputeResolution.arbitration("CIETAC"),
    DisputeResolution(),  # no contract on file
]
STARTS: list[Stage | None] = [None, Stage.LETTER, Stage.VISIT, Stage.AGENCY]
INTERRUPTED = LimitationStart(AS_OF - timedelta(days=500), LimitationBasis.PARTIAL_PAYMENT)


@pytest.fixture
async def collections(databases: DatabaseFactory) -> AsyncIterator[ServiceHarness]:
    async with running_service("collections", await databases.create("collections"), sweep_enabled=False) as h:
        yield h


def _invoice_row(invoice_id: uuid.UUID, customer_id: uuid.UUID, due: date, amount: Decimal) -> dict[str, object]:
    return {
        "id": invoice_id,
        "customer_id": customer_id,
        "number": f"G-{invoice_id.hex[:12]}",
        "number_key": f"g-{invoice_id.hex[:12]}",
        "issue_date": due - timedelta(days=30),
        "due_date": due,
        "currency": "CNY",
        "amount": amount,
        "credit_terms": "n/30",
        "principal_outstanding": amount,
        "interest_outstanding": Decimal(0),
        "costs_outstanding": Decimal(0),
        "discount_granted": Decimal(0),
        "status": "open",
        "version": 1,
        "created_at": NOW,
        "updated_at": NOW,
    }


@pytest.mark.parametrize("policy", [pytest.param(default_policy(), id="default")])
async def test_compiled_target_stage_agrees_with_decide_on_a_grid(collections: ServiceHarness, policy: Policy) -> None:
    customer_id = uuid.uuid4()
    expected: dict[uuid.UUID, Stage | None] = {}
    invoice_rows, case_rows = [], []
    grid = itertools.product(Segment, CLAUSES, STARTS, (False, True), DAYS, AMOUNTS)
    for index, (segment, clause, start, broken, days, amount_text) in enumerate(grid):
        amount, due = Decimal(amount_text), AS_OF - timedelta(days=days)
        limitation = INTERRUPTED if days > 1000 and index % 2 else None
        facts = CaseFacts(
            due_date=due,
            outstanding=amount,
            current_stage=start,
            segment=segment,
            dispute_resolution=clause,
            promise_to_pay=AS_OF - timedelta(days=1) if broken else None,
            limitation=limitation,
        )
        decision = decide(facts, policy, AS_OF)
        case_id, invoice_id = uuid.uuid4(), uuid.uuid4()
        expected[case_id] = decision.to_stage if decision.moved else None
        invoice_rows.append(_invoice_row(invoice_id, customer_id, due, amount))
        case_rows.append(
            {
                "id": case_id,
                "invoice_id": invoice_id,
                "customer_id": customer_id,
                "stage": start.value if start else None,
                "stage_rank": start.rank if start else -1,
                "status": "open",
                "segment": segment.value,
                "route": clause.route.value,
                "clause_kind": clause.kind.value,
                "commission": clause.commission,
                "due_date": due,
                "currency": "CNY",
                "outstanding": amount,
                "disputed_amount": Decimal(0),
                "promise_to_pay": AS_OF - timedelta(days=1) if broken else None,
                "limitation_from": limitation.running_from if limitation else None,
                "limitation_basis": (limitation.basis if limitation else LimitationBasis.DUE_DATE).value,
                "malicious": False,
                "write_off_review": False,
                "opened_at": NOW,
                "version": 1,
                "created_at": NOW,
                "updated_at": NOW,
            }
        )
    async with collections.runtime.db.transaction() as session:
        await session.execute(insert(invoices), invoice_rows)
        await session.execute(insert(cases), case_rows)
        target = target_stage_sql(policy, AS_OF)
        rows = (await session.execute(select(cases.c.id, target).where(*candidate_conditions(AS_OF)))).all()
    compiled = {case_id: Stage(stage) if stage else None for case_id, stage in rows}
    disagreements = [
        (case_id, compiled.get(case_id), stage) for case_id, stage in expected.items() if compiled.get(case_id) != stage
    ]
    assert not disagreements, disagreements[:5]
    assert sum(stage is not None for stage in expected.values()) > 1000  # the grid moves plenty of cases


async def test_compiled_segment_agrees_with_segment_for(collections: ServiceHarness) -> None:
    directory_segments = ["general", "key_account", "high_risk", "KEY_ACCOUNT"]
    grades: list[str | None] = [None, "A", "C", "D", "d"]
    holds = [(False, False), (True, False), (True, True)]  # (on hold, for a reason other than collections)
    expected: dict[uuid.UUID, Segment] = {}
    known_rows, profile_rows, invoice_rows = [], [], []
    for directory, grade, (on_hold, independent), with_profile in itertools.product(
        directory_segments, grades, holds, (True, False)
    ):
        customer_id, invoice_id = uuid.uuid4(), uuid.uuid4()
        known_rows.append(
            {
                "id": customer_id,
                "name": "Grid",
                "kind": "commercial",
                "lifecycle": "active",
                "segment": directory,
                "registered_at": NOW,
                "updated_at": NOW,
            }
        )
        if with_profile:
            profile_rows.append(
                {
                    "customer_id": customer_id,
                    "clause_kind": "court",
                    "credit_grade": grade,
                    "on_credit_hold": on_hold,
                    "credit_hold_independent": independent,
                    "updated_at": NOW,
                }
            )
            facts = SegmentFacts(directory, grade, on_hold and independent)
        else:
            facts = SegmentFacts(directory)
        expected[invoice_id] = segment_for(facts)
        invoice_rows.append(_invoice_row(invoice_id, customer_id, AS_OF, Decimal("100.00")))
    async with collections.runtime.db.transaction() as session:
        await session.execute(insert(known), known_rows)
        await session.execute(insert(profiles), profile_rows)
        await session.execute(insert(invoices), invoice_rows)
        joined = invoices.outerjoin(known, known.c.id == invoices.c.customer_id).outerjoin(
            profiles, profiles.c.customer_id == invoices.c.customer_id
        )
        rows = (await session.execute(select(invoices.c.id, segment_sql()).select_from(joined))).all()
    assert {invoice_id: Segment(segment) for invoice_id, segment in rows} == expected
    assert set(expected.values()) == set(Segment)
