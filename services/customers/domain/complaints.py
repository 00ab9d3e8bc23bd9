"""The eight-step complaint workflow (客户投诉处理程序) as a pure state machine, with SLAs per step."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields
from datetime import datetime, timedelta
from enum import StrEnum

from shared.errors import Conflict, FieldErrors


class ComplaintCategory(StrEnum):
    PRODUCT_QUALITY = "product_quality"
    CONTRACT = "contract"
    TRANSPORT = "transport"
    SERVICE = "service"


class ComplaintState(StrEnum):
    RECORDED = "recorded"
    VALIDATED = "validated"
    REJECTED = "rejected"
    ASSIGNED = "assigned"
    ANALYSED = "analysed"
    SOLUTION_PROPOSED = "solution_proposed"
    APPROVED = "approved"
    IMPLEMENTED = "implemented"
    CLOSED = "closed"  # evaluated by the customer, with a satisfaction rating


# Every legal transition, and only these. The workflow is strictly forward; rejected and closed are final.
COMPLAINT_TRANSITIONS: Mapping[ComplaintState, tuple[ComplaintState, ...]] = {
    ComplaintState.RECORDED: (ComplaintState.VALIDATED, ComplaintState.REJECTED),
    ComplaintState.VALIDATED: (ComplaintState.ASSIGNED,),
    ComplaintState.REJECTED: (),
    ComplaintState.ASSIGNED: (ComplaintState.ANALYSED,),
    ComplaintState.ANALYSED: (ComplaintState.SOLUTION_PROPOSED,),
    ComplaintState.SOLUTION_PROPOSED: (ComplaintState.APPROVED,),
    ComplaintState.APPROVED: (ComplaintState.IMPLEMENTED,),
    ComplaintState.IMPLEMENTED: (ComplaintState.CLOSED,),
    ComplaintState.CLOSED: (),
}

TERMINAL_STATES: frozenset[ComplaintState] = frozenset(
    state for state, targets in COMPLAINT_TRANSITIONS.items() if not targets
)

# What a step must carry; ``note`` is accepted on every step, anything else only where listed.
REQUIRED_PAYLOAD: Mapping[ComplaintState, tuple[str, ...]] = {
    ComplaintState.VALIDATED: (),
    ComplaintState.REJECTED: ("reason",),
    ComplaintState.ASSIGNED: ("department",),
    ComplaintState.ANALYSED: ("cause",),
    ComplaintState.SOLUTION_PROPOSED: ("solution",),
    ComplaintState.APPROVED: (),
    ComplaintState.IMPLEMENTED: (),
    ComplaintState.CLOSED: ("rating",),
}

MIN_RATING, MAX_RATING = 1, 5

# Hours a complaint may stay in a state before its next step is overdue.
DEFAULT_SLA_HOURS: Mapping[ComplaintState, int] = {
    ComplaintState.RECORDED: 24,  # validate within a day
    ComplaintState.VALIDATED: 24,  # hand to a department within a day
    ComplaintState.ASSIGNED: 72,  # find the cause within three days
    ComplaintState.ANALYSED: 48,
    ComplaintState.SOLUTION_PROPOSED: 24,  # approval should not hold things up
    ComplaintState.APPROVED: 72,
    ComplaintState.IMPLEMENTED: 168,  # give the customer a week to evaluate
}


@dataclass(frozen=True)
class StepPayload:
    """What a step records besides actor and time; which fields a step needs is in REQUIRED_PAYLOAD."""

    department: str | None = None
    cause: str | None = None
    solution: str | None = None
    reason: str | None = None
    rating: int | None = None  # 1–5, when closing
    note: str | None = None


@dataclass(frozen=True)
class ComplaintHistoryEntry:
    from_state: ComplaintState | None  # None for the recording itself
    to_state: ComplaintState
    actor: str
    at: datetime
    payload: StepPayload


@dataclass(frozen=True)
class ComplaintTransition:
    state: ComplaintState
    entry: ComplaintHistoryEntry


def allowed_next_states(current: ComplaintState) -> tuple[ComplaintState, ...]:
    """The states a complaint in ``current`` may move to (empty for rejected and closed)."""
    return COMPLAINT_TRANSITIONS[current]


def is_open(state: ComplaintState) -> bool:
    """Whether the complaint is still being handled (collections treats an open one as a dispute)."""
    return state not in TERMINAL_STATES


def _check_time(errors: FieldErrors, value: datetime, name: str) -> None:
    errors.check(value.tzinfo is not None and value.utcoffset() is not None, name, "must carry a time zone")


def _check_actor_and_time(errors: FieldErrors, actor: str, at: datetime) -> None:
    errors.check(bool(actor.strip()), "actor", "must not be blank")
    _check_time(errors, at, "at")


def _text(value: str | None) -> str | None:
    return (value.strip() or None) if value is not None else None


def _clean_payload(target: ComplaintState, payload: StepPayload, errors: FieldErrors) -> StepPayload:
    cleaned = StepPayload(
        department=_text(payload.department),
        cause=_text(payload.cause),
        solution=_text(payload.solution),
        reason=_text(payload.reason),
        rating=payload.rating,
        note=_text(payload.note),
    )
    required = REQUIRED_PAYLOAD[target]
    for payload_field in fields(StepPayload):
        name = payload_field.name
        if getattr(cleaned, name) is None:
            errors.check(name not in required, name, f"is required when moving to '{target}'")
        elif name != "note" and name not in required:
            errors.add(name, f"is not accepted when moving to '{target}'")
    rating = cleaned.rating
    if "rating" in required and rating is not None:
        # bool is an int in Python; a True rating is a caller bug, not a 1.
        valid_rating = isinstance(rating, int) and not isinstance(rating, bool) and MIN_RATING <= rating <= MAX_RATING
        errors.check(valid_rating, "rating", f"must be a whole number from {MIN_RATING} to {MAX_RATING}")
    return cleaned


def record_complaint(actor: str, at: datetime, note: str | None = None) -> ComplaintTransition:
    """The first step: a complaint is recorded (state ``recorded``, history entry from None)."""
    errors = FieldErrors()
    _check_actor_and_time(errors, actor, at)
    errors.raise_if_any("Invalid complaint step")
    payload = StepPayload(note=_text(note))
    entry = ComplaintHistoryEntry(None, ComplaintState.RECORDED, actor.strip(), at, payload)
    return ComplaintTransition(ComplaintState.RECORDED, entry)


def transition(
    current: ComplaintState,
    target: ComplaintState,
    actor: str,
    at: datetime,
    payload: StepPayload | None = None,
    state_entered_at: datetime | None = None,
    proposed_by: str | None = None,
) -> ComplaintTransition:
    """Move a complaint from ``current`` to ``target``, returning the new state and its history entry.

    An illegal move raises Conflict (409) naming the current state and the allowed next states,
    before anything else is looked at. A legal move with a missing or out-of-place payload field,
    a blank actor, a naive time, or a time before ``state_entered_at`` raises DomainRuleViolation (422).
    Approving a solution needs four eyes: the approver must not be ``proposed_by``, who proposed it (422).
    Text fields are stripped; blank text counts as missing.
    """
    allowed = allowed_next_states(current)
    if target not in allowed:
        if current in TERMINAL_STATES:
            detail = f"The complaint is '{current}', a final state; it cannot move to '{target}'"
        else:
            detail = (
                f"A complaint in state '{current}' cannot move to '{target}'; allowed next states: {', '.join(allowed)}"
            )
        raise Conflict(detail, current_state=str(current), allowed_next_states=[str(state) for state in allowed])

    errors = FieldErrors()
    _check_actor_and_time(errors, actor, at)
    if state_entered_at is not None and not errors.errors:
        _check_time(errors, state_entered_at, "state_entered_at")
        if not errors.errors:
            errors.check(at >= state_entered_at, "at", "must not be before the time the current state was entered")
    if target is ComplaintState.APPROVED and proposed_by is not None and actor.strip():
        errors.check(
            actor.strip().casefold() != proposed_by.strip().casefold(),
            "actor",
            "the solution must be approved by someone other than who proposed it",
        )
    cleaned = _clean_payload(target, payload or StepPayload(), errors)
    errors.raise_if_any(f"Invalid '{target}' step")
    entry = ComplaintHistoryEntry(current, target, actor.strip(), at, cleaned)
    return ComplaintTransition(target, entry)


@dataclass(frozen=True)
class ComplaintSla:
    """Hours allowed per non-final state; ``overrides`` replaces some of DEFAULT_SLA_HOURS."""

    overrides: Mapping[ComplaintState, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        errors = FieldErrors()
        for state, hours in self.overrides.items():
            name = f"sla_hours.{state}"
            errors.check(state not in TERMINAL_STATES, name, "a final state has no SLA")
            errors.check(
                isinstance(hours, int) and not isinstance(hours, bool) and hours > 0,
                name,
                "must be a positive whole number of hours",
            )
        errors.raise_if_any("Invalid complaint SLA")

    def hours_for(self, state: ComplaintState) -> int | None:
        """Hours allowed in ``state``; None for final states."""
        if state in TERMINAL_STATES:
            return None
        return self.overrides.get(state, DEFAULT_SLA_HOURS[state])


@dataclass(frozen=True)
class OpenComplaint:
    complaint_id: str
    state: ComplaintState
    state_entered_at: datetime


@dataclass(frozen=True)
class OverdueStep:
    complaint_id: str
    state: ComplaintState
    entered_at: datetime
    due_at: datetime
    overdue_by: timedelta
    waiting_for: tuple[ComplaintState, ...]  # the step(s) that should have happened


def overdue_steps(
    complaints: Iterable[OpenComplaint], now: datetime, sla: ComplaintSla | None = None
) -> list[OverdueStep]:
    """Complaints stuck in a state past its SLA (strictly after the due time), most overdue first, then by id."""
    sla = sla or ComplaintSla()
    rows = list(complaints)
    errors = FieldErrors()
    _check_time(errors, now, "now")
    for index, complaint in enumerate(rows):
        _check_time(errors, complaint.state_entered_at, f"complaints[{index}].state_entered_at")
    errors.raise_if_any("Invalid overdue query")

    overdue = []
    for complaint in rows:
        hours = sla.hours_for(complaint.state)
        if hours is None:
            continue
        due_at = complaint.state_entered_at + timedelta(hours=hours)
        if now > due_at:
            overdue.append(
                OverdueStep(
                    complaint.complaint_id,
                    complaint.state,
                    complaint.state_entered_at,
                    due_at,
                    now - due_at,
                    allowed_next_states(complaint.state),
                )
            )
    return sorted(overdue, key=lambda step: (-step.overdue_by, step.complaint_id))
