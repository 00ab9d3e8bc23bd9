"""The complaint workflow: every legal transition, every illegal one (409), payload rules, SLAs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import product

import pytest

from services.customers.domain.complaints import (
    COMPLAINT_TRANSITIONS,
    TERMINAL_STATES,
    ComplaintSla,
    ComplaintState,
    OpenComplaint,
    StepPayload,
    is_open,
    overdue_steps,
    record_complaint,
    transition,
)
from shared.errors import Conflict, DomainRuleViolation

S = ComplaintState
AT = datetime(2024, 5, 1, 9, 0, tzinfo=UTC)

# A valid payload for each target state: exactly the required fields.
VALID_PAYLOAD = {
    S.VALIDATED: StepPayload(),
    S.REJECTED: StepPayload(reason="not our product"),
    S.ASSIGNED: StepPayload(department="quality"),
    S.ANALYSED: StepPayload(cause="mislabelled batch"),
    S.SOLUTION_PROPOSED: StepPayload(solution="replace the batch"),
    S.APPROVED: StepPayload(),
    S.IMPLEMENTED: StepPayload(),
    S.CLOSED: StepPayload(rating=4),
}

LEGAL = [(source, target) for source, targets in COMPLAINT_TRANSITIONS.items() for target in targets]
ILLEGAL = [(source, target) for source, target in product(S, S) if (source, target) not in LEGAL]


def test_the_table_is_the_documented_workflow() -> None:
    assert LEGAL == [
        (S.RECORDED, S.VALIDATED),
        (S.RECORDED, S.REJECTED),
        (S.VALIDATED, S.ASSIGNED),
        (S.ASSIGNED, S.ANALYSED),
        (S.ANALYSED, S.SOLUTION_PROPOSED),
        (S.SOLUTION_PROPOSED, S.APPROVED),
        (S.APPROVED, S.IMPLEMENTED),
        (S.IMPLEMENTED, S.CLOSED),
    ]
    assert TERMINAL_STATES == {S.REJECTED, S.CLOSED}
    assert len(ILLEGAL) == 9 * 9 - 8


@pytest.mark.parametrize(("source", "target"), LEGAL, ids=[f"{a}->{b}" for a, b in LEGAL])
def test_every_legal_transition(source: ComplaintState, target: ComplaintState) -> None:
    result = transition(source, target, " alice ", AT, VALID_PAYLOAD[target])
    assert result.state is target
    assert (result.entry.from_state, result.entry.to_state) == (source, target)
    assert (result.entry.actor, result.entry.at, result.entry.payload) == ("alice", AT, VALID_PAYLOAD[target])


@pytest.mark.parametrize(("source", "target"), ILLEGAL, ids=[f"{a}->{b}" for a, b in ILLEGAL])
def test_every_illegal_transition_is_a_conflict(source: ComplaintState, target: ComplaintState) -> None:
    # A valid payload for the target, so only the state machine can refuse it.
    with pytest.raises(Conflict) as raised:
        transition(source, target, "alice", AT, VALID_PAYLOAD.get(target))
    error = raised.value
    assert error.status == 409
    assert error.extensions["current_state"] == source
    assert error.extensions["allowed_next_states"] == list(COMPLAINT_TRANSITIONS[source])
    assert f"'{source}'" in error.detail
    for allowed in COMPLAINT_TRANSITIONS[source]:
        assert allowed in error.detail


@pytest.mark.parametrize("terminal", sorted(TERMINAL_STATES), ids=str)
def test_final_states_say_so(terminal: ComplaintState) -> None:
    with pytest.raises(Conflict) as raised:
        transition(terminal, S.VALIDATED, "alice", AT)
    assert "final state" in raised.value.detail
    assert raised.value.extensions["allowed_next_states"] == []
    assert not is_open(terminal)


def test_state_check_comes_before_payload_check() -> None:
    with pytest.raises(Conflict):
        transition(S.RECORDED, S.CLOSED, "", datetime(2024, 5, 1), StepPayload(rating=9))


def test_happy_path_walks_eight_steps() -> None:
    state = record_complaint("clerk", AT, note="customer phoned").state
    history = []
    for step, target in enumerate(
        [S.VALIDATED, S.ASSIGNED, S.ANALYSED, S.SOLUTION_PROPOSED, S.APPROVED, S.IMPLEMENTED, S.CLOSED], start=1
    ):
        assert is_open(state)
        result = transition(state, target, "clerk", AT + timedelta(hours=step), VALID_PAYLOAD[target])
        state = result.state
        history.append(result.entry)
    assert state is S.CLOSED
    assert [entry.to_state for entry in history][-1] is S.CLOSED
    assert history[-1].payload.rating == 4


def test_record_complaint() -> None:
    result = record_complaint(" clerk ", AT, note="  ")
    assert result.state is S.RECORDED
    assert (result.entry.from_state, result.entry.actor, result.entry.payload) == (None, "clerk", StepPayload())


@pytest.mark.parametrize(
    ("source", "target", "payload", "field"),
    [
        (S.RECORDED, S.REJECTED, StepPayload(), "reason"),
        (S.VALIDATED, S.ASSIGNED, StepPayload(), "department"),
        (S.VALIDATED, S.ASSIGNED, StepPayload(department="   "), "department"),  # blank is missing
        (S.ASSIGNED, S.ANALYSED, StepPayload(), "cause"),
        (S.ANALYSED, S.SOLUTION_PROPOSED, StepPayload(), "solution"),
        (S.IMPLEMENTED, S.CLOSED, StepPayload(), "rating"),
    ],
    ids=[
        "rejected-reason",
        "assigned-department",
        "assigned-blank-department",
        "analysed-cause",
        "proposed-solution",
        "closed-rating",
    ],
)
def test_required_payload(source: ComplaintState, target: ComplaintState, payload: StepPayload, field: str) -> None:
    with pytest.raises(DomainRuleViolation) as raised:
        transition(source, target, "alice", AT, payload)
    assert raised.value.status == 422
    assert [error["field"] for error in raised.value.errors] == [field]


@pytest.mark.parametrize(
    ("source", "target", "payload", "field"),
    [
        (S.VALIDATED, S.ASSIGNED, StepPayload(department="quality", rating=5), "rating"),
        (S.RECORDED, S.VALIDATED, StepPayload(cause="x"), "cause"),
        (S.IMPLEMENTED, S.CLOSED, StepPayload(rating=5, solution="y"), "solution"),
    ],
    ids=["rating-on-assign", "cause-on-validate", "solution-on-close"],
)
def test_fields_out_of_place_are_refused(
    source: ComplaintState, target: ComplaintState, payload: StepPayload, field: str
) -> None:
    with pytest.raises(DomainRuleViolation) as raised:
        transition(source, target, "alice", AT, payload)
    assert [error["field"] for error in raised.value.errors] == [field]


def test_note_is_accepted_on_any_step_and_trimmed() -> None:
    result = transition(S.VALIDATED, S.ASSIGNED, "alice", AT, StepPayload(department=" quality ", note=" urgent "))
    assert result.entry.payload == StepPayload(department="quality", note="urgent")


@pytest.mark.parametrize("rating", [1, 5], ids=["lowest", "highest"])
def test_rating_bounds_accepted(rating: int) -> None:
    assert transition(S.IMPLEMENTED, S.CLOSED, "alice", AT, StepPayload(rating=rating)).entry.payload.rating == rating


@pytest.mark.parametrize("rating", [0, 6, -1, True], ids=["zero", "six", "negative", "bool"])
def test_rating_out_of_range_refused(rating: int) -> None:
    with pytest.raises(DomainRuleViolation) as raised:
        transition(S.IMPLEMENTED, S.CLOSED, "alice", AT, StepPayload(rating=rating))
    assert [error["field"] for error in raised.value.errors] == ["rating"]


@pytest.mark.parametrize(
    ("actor", "at", "entered", "field"),
    [
        ("  ", AT, None, "actor"),
        ("alice", datetime(2024, 5, 1, 9, 0), None, "at"),  # naive on purpose
        ("alice", AT, AT + timedelta(seconds=1), "at"),  # before the current state began
        ("alice", AT, datetime(2024, 5, 1), "state_entered_at"),
    ],
    ids=["blank-actor", "naive-time", "time-goes-back", "naive-entered-at"],
)
def test_actor_and_time_rules(actor: str, at: datetime, entered: datetime | None, field: str) -> None:
    with pytest.raises(DomainRuleViolation) as raised:
        transition(S.RECORDED, S.VALIDATED, actor, at, state_entered_at=entered)
    assert [error["field"] for error in raised.value.errors] == [field]


@pytest.mark.parametrize(
    ("proposer", "approver", "allowed"),
    [
        ("alice", "bob", True),
        ("alice", "alice", False),
        ("alice", " ALICE ", False),  # the same person, however typed
        (None, "alice", True),  # no proposal on record (history predates the rule)
    ],
)
def test_a_solution_is_approved_by_someone_other_than_its_proposer(
    proposer: str | None, approver: str, allowed: bool
) -> None:
    def approve() -> ComplaintState:
        return transition(S.SOLUTION_PROPOSED, S.APPROVED, approver, AT, proposed_by=proposer).state

    if allowed:
        assert approve() is S.APPROVED
    else:
        with pytest.raises(DomainRuleViolation) as raised:
            approve()
        assert [error["field"] for error in raised.value.errors] == ["actor"]


def test_same_instant_as_state_entry_is_fine() -> None:
    assert transition(S.RECORDED, S.VALIDATED, "alice", AT, state_entered_at=AT).state is S.VALIDATED


@pytest.mark.parametrize(
    ("state", "hours_in_state", "overdue"),
    [
        (S.RECORDED, timedelta(hours=24), False),  # exactly at the due time
        (S.RECORDED, timedelta(hours=24, seconds=1), True),
        (S.ASSIGNED, timedelta(hours=71), False),
        (S.ASSIGNED, timedelta(hours=73), True),
        (S.IMPLEMENTED, timedelta(days=7), False),
        (S.IMPLEMENTED, timedelta(days=7, minutes=1), True),
        (S.CLOSED, timedelta(days=400), False),  # final states have no SLA
        (S.REJECTED, timedelta(days=400), False),
    ],
    ids=[
        "recorded-at-due",
        "recorded-past-due",
        "assigned-within",
        "assigned-past",
        "implemented-at-week",
        "implemented-past-week",
        "closed",
        "rejected",
    ],
)
def test_overdue_boundaries(state: ComplaintState, hours_in_state: timedelta, overdue: bool) -> None:
    steps = overdue_steps([OpenComplaint("k1", state, AT)], AT + hours_in_state)
    assert bool(steps) is overdue


def test_overdue_steps_details_and_order() -> None:
    now = AT + timedelta(hours=100)
    complaints = [
        OpenComplaint("k2", S.RECORDED, AT + timedelta(hours=50)),  # due +74 h → 26 h over
        OpenComplaint("k1", S.VALIDATED, AT),  # due +24 h → 76 h over
        OpenComplaint("k3", S.ASSIGNED, AT + timedelta(hours=90)),  # due +162 h → not yet
        OpenComplaint("k0", S.RECORDED, AT + timedelta(hours=50)),  # ties with k2, id first
    ]
    steps = overdue_steps(complaints, now)
    assert [step.complaint_id for step in steps] == ["k1", "k0", "k2"]
    first = steps[0]
    assert (first.state, first.due_at, first.overdue_by, first.waiting_for) == (
        S.VALIDATED,
        AT + timedelta(hours=24),
        timedelta(hours=76),
        (S.ASSIGNED,),
    )


def test_sla_overrides() -> None:
    sla = ComplaintSla({S.RECORDED: 2})
    assert sla.hours_for(S.RECORDED) == 2
    assert sla.hours_for(S.ASSIGNED) == 72  # default kept
    assert sla.hours_for(S.CLOSED) is None
    assert overdue_steps([OpenComplaint("k1", S.RECORDED, AT)], AT + timedelta(hours=3), sla)


@pytest.mark.parametrize(
    "overrides",
    [{S.RECORDED: 0}, {S.RECORDED: -4}, {S.CLOSED: 10}, {S.RECORDED: True}],
    ids=["zero", "negative", "final-state", "bool"],
)
def test_invalid_sla(overrides: dict[ComplaintState, int]) -> None:
    with pytest.raises(DomainRuleViolation):
        ComplaintSla(overrides)


def test_overdue_needs_aware_times() -> None:
    with pytest.raises(DomainRuleViolation) as raised:
        overdue_steps([OpenComplaint("k1", S.RECORDED, datetime(2024, 5, 1))], AT)
    assert raised.value.errors[0]["field"] == "complaints[0].state_entered_at"
