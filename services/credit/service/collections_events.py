"""Collections' events applied set-based: a run of stage or receivables events for many customers at once."""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession

from services.credit import repository
from services.credit.domain.grades import Grade
from services.credit.domain.holds import HoldAction
from services.credit.service.holds import hold_decision
from services.credit.service.policy import load_policy
from services.credit.service.profiles import collection_stage
from services.credit.settings import CreditSettings
from shared.events.collections import ReceivablesChanged, StageEntered
from shared.events.credit import CreditHoldPlaced, CreditHoldReleased
from shared.money import to_cents
from shared.outbox import emit_many
from shared.stage import Stage

log = logging.getLogger(__name__)


@dataclass
class _ProfileState:
    """The columns of one profile that collections' events change, while a run of them is applied."""

    grade: Grade | None
    currency: str
    receivables_by_currency: dict[str, str]
    open_receivables: Decimal
    overdue_amount: Decimal | None
    oldest_overdue_days: int
    collection_stage: str | None
    on_hold: bool
    hold_reasons: list[str]
    hold_changed_at: datetime | None
    updated_at: datetime
    new: bool = False
    changed: bool = False


_STATE_COLUMNS = (
    "currency",
    "receivables_by_currency",
    "open_receivables",
    "overdue_amount",
    "oldest_overdue_days",
    "collection_stage",
    "on_hold",
    "hold_reasons",
    "hold_changed_at",
    "updated_at",
)


async def apply_collections_events(
    session: AsyncSession,
    events: list[StageEntered] | list[ReceivablesChanged],
    settings: CreditSettings,
    now: datetime,
) -> None:
    """A run of ``stage_entered`` or ``receivables_changed`` events for many customers, set-based.

    One query loads every profile the run touches; ``evaluate_hold`` (through ``hold_decision``) decides
    each event in order in Python; missing profiles are inserted in one statement, changed ones updated
    in one executemany, and the hold events go to the outbox in one INSERT. Same effect as applying the
    events one by one (tests/api/test_credit_holds_and_dso.py checks both paths).
    """
    policy = (await load_policy(session)).credit
    await session.flush()  # pending ORM changes first: the rows are read and written below the ORM
    states: dict[uuid.UUID, _ProfileState] = {
        row.customer_id: _ProfileState(
            grade=Grade(row.grade) if row.grade else None,
            currency=row.currency,
            receivables_by_currency=dict(row.receivables_by_currency or {}),
            open_receivables=row.open_receivables,
            overdue_amount=row.overdue_amount,
            oldest_overdue_days=row.oldest_overdue_days,
            collection_stage=row.collection_stage,
            on_hold=row.on_hold,
            hold_reasons=list(row.hold_reasons or []),
            hold_changed_at=row.hold_changed_at,
            updated_at=row.updated_at,
        )
        for row in await repository.profile_states(session, {event.customer_id for event in events})
    }
    outgoing: list[CreditHoldPlaced | CreditHoldReleased] = []
    for event in events:
        state = states.get(event.customer_id)
        if state is None:
            state = states[event.customer_id] = _ProfileState(
                None, settings.default_currency, {}, Decimal("0.00"), None, 0, None, False, [], None, now, new=True
            )
        if isinstance(event, StageEntered):
            stage, overdue, stop_supply = _stage_event(state, event), None, event.stop_supply
        else:
            stage, overdue, stop_supply = _receivables_event(state, event, now), None, False
            if event.currency.upper() == state.currency:
                overdue = state.overdue_amount
        decision = hold_decision(
            on_hold=state.on_hold,
            grade=state.grade,
            policy=policy,
            stage=stage,
            overdue=overdue,
            stop_supply_requested=stop_supply,
        )
        reasons = [str(reason) for reason in decision.reasons]
        if decision.action is HoldAction.PLACE:
            state.on_hold, state.hold_reasons, state.hold_changed_at = True, reasons, now
            outgoing.append(CreditHoldPlaced(customer_id=event.customer_id, reasons=reasons))
        elif decision.action is HoldAction.RELEASE:
            state.on_hold, state.hold_reasons, state.hold_changed_at = False, [], now
            outgoing.append(CreditHoldReleased(customer_id=event.customer_id, reason=reasons[0]))
        elif decision.action is HoldAction.KEEP and reasons != state.hold_reasons:
            state.hold_reasons = reasons
        if decision.action is not HoldAction.NONE:
            state.updated_at, state.changed = now, True
    await repository.insert_profiles(
        session,
        [
            {
                "customer_id": customer_id,
                **{column: getattr(state, column) for column in _STATE_COLUMNS},
                "open_orders": Decimal("0.00"),
                "version": 1,
                "created_at": now,
            }
            for customer_id, state in states.items()
            if state.new
        ],
    )
    await repository.update_profile_states(
        session,
        [
            {"customer_id": customer_id, **{column: getattr(state, column) for column in _STATE_COLUMNS}}
            for customer_id, state in states.items()
            if state.changed and not state.new
        ],
    )
    await emit_many(session, list(outgoing), at=now)


def _stage_event(state: _ProfileState, event: StageEntered) -> Stage | None:
    """A case escalated: the furthest stage moves up (never down); returns the event's stage."""
    stage = collection_stage(event.stage)
    if stage is None:
        log.warning(
            "unknown collection stage; only its stop_supply flag is used",
            extra={"stage": event.stage, "customer_id": str(event.customer_id)},
        )
    current = collection_stage(state.collection_stage)
    if stage is not None and (current is None or stage.rank >= current.rank) and state.collection_stage != stage:
        state.collection_stage, state.changed = str(stage), True
    return stage


def _receivables_event(state: _ProfileState, event: ReceivablesChanged, now: datetime) -> Stage | None:
    """Collections' totals in one currency: exposure and overdue figures only from the limit currency's."""
    currency = event.currency.upper()
    state.receivables_by_currency = {**state.receivables_by_currency, currency: str(to_cents(event.open_receivables))}
    if currency == state.currency:
        state.open_receivables = to_cents(event.open_receivables)
        state.overdue_amount = to_cents(event.overdue_amount)
        state.oldest_overdue_days = event.oldest_overdue_days
    stage = collection_stage(event.highest_open_stage)
    state.collection_stage = str(stage) if stage is not None else None
    state.updated_at, state.changed = now, True
    return stage
