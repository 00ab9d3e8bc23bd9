"""The collections policy (read, replace, simulate) and the overdue sweep run on demand."""

from __future__ import annotations

from typing import Any

from fastapi import Response

from services.collections.routers.common import ETAG_HEADER, Admin, Reader, settings_of
from services.collections.schemas.policy import (
    PolicyDocument,
    SimulatedMoveRead,
    SimulateRequest,
    SimulateResult,
    SweepRequest,
    SweepResult,
)
from services.collections.service import daily_sweep
from services.collections.service import policy as policies
from shared.app import ClockDep, RuntimeDep, Session
from shared.http import IfMatch, check_if_match, etag
from shared.openapi import api_router

router = api_router(tags=["collections"])


@router.post("/sweeps", response_model=SweepResult, summary="Run the overdue sweep as of a day")
async def run_sweep(
    body: SweepRequest, _session: Session, clock: ClockDep, runtime: RuntimeDep, _principal: Admin
) -> SweepResult:
    """Open cases for overdue invoices and move cases whose stage conditions are met (admin scope).
    Emits `invoice_overdue`, `case_opened`, `stage_entered` (one per stage passed), `receivables_changed`."""
    now = clock.now()
    # In chunks of their own transactions (not the request's): payments are never stalled by a sweep.
    outcome = await daily_sweep.run_sweep_in_chunks(
        runtime.db, body.as_of_day(now), now, settings_of(runtime), as_of_at=body.as_of_instant()
    )
    return SweepResult(
        as_of=outcome.as_of,
        policy_version=outcome.policy_version,
        cases_opened=outcome.cases_opened,
        cases_moved=outcome.cases_moved,
        stages_entered=dict(outcome.stages_entered),
        write_off_review=outcome.write_off_review,
    )


@router.get(
    "/policies/current", response_model=PolicyDocument, summary="The current escalation policy", responses=ETAG_HEADER
)
async def get_current_policy(session: Session, _principal: Reader, response: Response) -> Any:
    """Stages with day and amount thresholds and costs, segment strategies, interest rate, limitation."""
    policy = await policies.current_policy(session)
    response.headers["ETag"] = etag(policy.version)
    return policy.to_dict()


@router.put(
    "/policies/current", response_model=PolicyDocument, summary="Replace the escalation policy", responses=ETAG_HEADER
)
async def replace_current_policy(
    body: PolicyDocument,
    session: Session,
    clock: ClockDep,
    principal: Admin,
    response: Response,
    if_match: IfMatch = None,
) -> Any:
    """Stores the next version (admin scope); needs `If-Match` with the current ETag. Every problem
    (stages out of order, decreasing days, unknown fields...) is listed in one 422."""
    current = await policies.current_policy(session)
    check_if_match(if_match, current.version)
    policy = await policies.replace_policy(session, body.model_dump(), principal.subject, clock.now())
    response.headers["ETag"] = etag(policy.version)
    return policy.to_dict()


@router.post("/policies/simulate", response_model=SimulateResult, summary="Simulate a draft policy")
async def simulate_policy(body: SimulateRequest, session: Session, _principal: Reader) -> SimulateResult:
    """Which cases (and overdue invoices without a case) the draft would move where as of `as_of`;
    changes nothing."""
    moves = await policies.simulate_policy(session, body.policy, body.as_of)
    return SimulateResult(as_of=body.as_of, moves=[SimulatedMoveRead.model_validate(move) for move in moves])
