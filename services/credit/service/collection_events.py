"""Collections' events on a credit profile: stage reached, receivables, malicious arrears.

Each event is applied to the profile in memory (``apply_event``: the hold rule ``evaluate_hold`` through
``holds.decide_hold``, the limit-cancellation rule through ``limits.limit_cancellation``) and leaves its
effects (history rows, outbox events) in ``Effects``. ``apply_one`` writes them for one event;
``apply_run`` applies a whole run (a sweep sends tens of thousands) with a handful of statements: the
run's profiles locked and read in one query as plain rows (``ProfileRow``: the same rules, without the
ORM's per-attribute cost), the policy once, the events in order, then the new profiles, the changed
columns of the changed profiles, the limit history and the outbox rows each in one bulk statement.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON
from sqlalchemy.ext.asyncio import AsyncSession

from services.credit import repository
from services.credit.domain.policy import CreditPolicy, cancels_limit
from services.credit.models import CreditProfile, LimitChange, ProfileRow, ProfileState
from services.credit.service import holds, limits, profiles
from services.credit.service.policy import load_policy, read_policy
from services.credit.settings import CreditSettings
from shared.events.base import Envelope, Event
from shared.events.collections import ArrearsMarkedMalicious, ReceivablesChanged, StageEntered
from shared.grade import HoldReason
from shared.money import to_cents
from shared.outbox import emit_many
from shared.snapshots import newer_snapshot

log = logging.getLogger(__name__)


@dataclass
class Effects:
    """What applying events produced besides the profiles' new state, in the order it happened."""

    limit_changes: list[LimitChange] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)


def concerns_profile(event: Event) -> bool:
    """Whether the event changes a profile at all (only a malicious-arrears mark that stops supply does)."""
    return not isinstance(event, ArrearsMarkedMalicious) or event.stop_supply


def apply_event(
    profile: ProfileState,
    envelope: Envelope,
    policy: CreditPolicy,
    now: datetime,
    effects: Effects,
    decisions: holds.HoldDecisions | None = None,
) -> None:
    """Apply one of collections' events to ``profile`` in memory; its history rows and events go to ``effects``.

    ``decisions``: the hold rule under ``policy`` with what it already decided (a run passes one for all its events).
    """
    event = envelope.data
    decisions = decisions or holds.HoldDecisions(policy)
    if isinstance(event, StageEntered):
        _stage_entered(profile, event, policy, now, effects, decisions)
    elif isinstance(event, ReceivablesChanged):
        _receivables_changed(profile, event, envelope, policy, now, effects, decisions)
    elif isinstance(event, ArrearsMarkedMalicious):
        _arrears_marked_malicious(profile, policy, now, effects, decisions)
    else:
        raise TypeError(f"not a collections event credit keeps on the profile: {envelope.type}")


def _stage_entered(
    profile: ProfileState,
    event: StageEntered,
    policy: CreditPolicy,
    now: datetime,
    effects: Effects,
    decisions: holds.HoldDecisions,
) -> None:
    """A case escalated: hold the customer at or past the policy's stop-supply stage (or when asked to)."""
    stage = profiles.collection_stage(event.stage)
    if stage is None:
        log.warning(
            "unknown collection stage; only its stop_supply flag is used",
            extra={"stage": event.stage, "customer_id": str(event.customer_id)},
        )
    current = profiles.collection_stage(profile.collection_stage)
    if stage is not None and (current is None or stage.rank >= current.rank):
        profile.collection_stage = str(stage)
    # Collections' segment strategy decides whether supply continues (a key account until arrears turn malicious).
    profile.keep_supplying = event.keep_supplying
    # A stage event says nothing about how much is overdue now: None lets it place a hold, never release one.
    _, hold_event = holds.decide_hold(
        profile,
        policy,
        now,
        stage=stage,
        overdue=None,
        stop_supply_requested=event.stop_supply,
        decisions=decisions,
    )
    effects.events += [hold_event] if hold_event is not None else []
    if cancels_limit(stage, policy) and profile.credit_limit and profile.limit_method != limits.CANCELLED:
        reason = f"credit limit cancelled: case {event.case_id} reached {stage}"
        change, limit_event = limits.limit_cancellation(profile, reason, "collections", now)
        effects.limit_changes.append(change)
        effects.events.append(limit_event)


def _arrears_marked_malicious(
    profile: ProfileState, policy: CreditPolicy, now: datetime, effects: Effects, decisions: holds.HoldDecisions
) -> None:
    """Malicious arrears (恶性拖欠) end 'keep supplying': hold the customer (collections says supply stops)."""
    profile.keep_supplying = False
    _, hold_event = holds.decide_hold(
        profile,
        policy,
        now,
        stage=profiles.collection_stage(profile.collection_stage),
        overdue=None,
        stop_supply_requested=True,
        requested_reason=HoldReason.MALICIOUS_ARREARS,
        decisions=decisions,
    )
    effects.events += [hold_event] if hold_event is not None else []


def _receivables_changed(
    profile: ProfileState,
    event: ReceivablesChanged,
    envelope: Envelope,
    policy: CreditPolicy,
    now: datetime,
    effects: Effects,
    decisions: holds.HoldDecisions,
) -> None:
    """Exposure from collections' totals (one event per currency); release the hold once overdue debt is settled.

    Every currency's open receivables are recorded on the profile; only the limit currency's totals become
    exposure and overdue figures. Another currency is never added to exposure (there is no conversion): the
    credit check blocks with ``currency_mismatch`` while something is owed in it.
    """
    currency = event.currency.upper()
    sequences = newer_snapshot(profile.applied_sequences, f"receivables:{currency}", envelope)
    if sequences is None:
        # Republished after a broker loss or a replay: a newer snapshot is already applied.
        log.info("older receivables snapshot skipped", extra={"customer_id": str(event.customer_id)})
        return
    profile.applied_sequences = sequences
    # A new dict, so the JSON column is seen as changed.
    profile.receivables_by_currency = {
        **(profile.receivables_by_currency or {}),
        currency: str(to_cents(event.open_receivables)),
    }
    overdue: Decimal | None = None  # another currency's totals can place a hold (stage), never release one
    if currency == profile.currency:
        profile.open_receivables = to_cents(event.open_receivables)
        profile.overdue_amount = overdue = to_cents(event.overdue_amount)
        profile.oldest_overdue_days = event.oldest_overdue_days
    stage = profiles.collection_stage(event.highest_open_stage)
    profile.collection_stage = str(stage) if stage is not None else None
    profile.updated_at = now
    _, hold_event = holds.decide_hold(profile, policy, now, stage=stage, overdue=overdue, decisions=decisions)
    effects.events += [hold_event] if hold_event is not None else []


async def apply_one(session: AsyncSession, envelope: Envelope, settings: CreditSettings, now: datetime) -> None:
    """Apply one event through the ORM: the reference the bulk ``apply_run`` must match."""
    if not concerns_profile(envelope.data):
        return
    profile = await profiles.get_or_create_profile(session, envelope.data.customer_id, settings, now)
    policy = await load_policy(session)
    effects = Effects()
    apply_event(profile, envelope, policy.credit, now, effects)
    for change in effects.limit_changes:
        await repository.add(session, change)
    await emit_many(session, effects.events, at=now)
    await session.flush()


async def apply_run(session: AsyncSession, envelopes: list[Envelope], settings: CreditSettings, now: datetime) -> None:
    """Apply a run of events in order, exactly as ``apply_one`` event after event, in a handful of statements."""
    relevant = [envelope for envelope in envelopes if concerns_profile(envelope.data)]
    if not relevant:
        return
    customer_ids = list(dict.fromkeys(envelope.data.customer_id for envelope in relevant))
    read = {row["customer_id"]: row for row in await repository.profile_rows_for_update(session, customer_ids)}
    # JSON values copied: a rule that changed one in place could not hide from the comparison with what was read.
    loaded = {customer_id: ProfileRow(_copied(row)) for customer_id, row in read.items()}
    created = [
        profiles.new_profile_row(customer_id, settings, now) for customer_id in customer_ids if customer_id not in read
    ]
    by_customer: dict[Any, ProfileRow] = {**loaded, **{profile.customer_id: profile for profile in created}}
    # The stored policy's stamp, built once per version (``apply_one``'s load_policy reads and re-serialises the
    # whole document): the same policy, a fraction of the cost per fetch.
    policy = await read_policy(session)
    effects = Effects()
    decisions = holds.HoldDecisions(policy.credit)
    for envelope in relevant:
        apply_event(by_customer[envelope.data.customer_id], envelope, policy.credit, now, effects, decisions)
    await repository.insert_profiles(session, [profile.values() for profile in created])
    await repository.update_profiles(session, _changes(loaded, read))
    await repository.insert_limit_changes(session, [_values(change) for change in effects.limit_changes])
    await emit_many(session, effects.events, at=now)


_JSON_COLUMNS = tuple(column.key for column in CreditProfile.__table__.columns if isinstance(column.type, JSON))
"""The profile's JSON columns: the only values read that a rule could change in place (the rest are immutable)."""


def _copied(row: dict[str, Any]) -> dict[str, Any]:
    copy = dict(row)
    for key in _JSON_COLUMNS:
        value = copy[key]
        if isinstance(value, dict | list):
            copy[key] = value.copy()
    return copy


def _changes(profiles_now: dict[Any, ProfileRow], read: dict[Any, dict[str, Any]]) -> list[dict[str, Any]]:
    """The changed profiles' rows for one bulk UPDATE: the columns any of them changed, at its read version."""
    changed = {
        customer_id: values
        for customer_id, profile in profiles_now.items()
        if (values := vars(profile)) != read[customer_id]
    }
    # A value the rules left alone is still the object read (compared as a dict comparison would: same object,
    # equal), so most columns of most rows are told unchanged without a Decimal or datetime comparison.
    columns = {
        key
        for customer_id, values in changed.items()
        for key, value in values.items()
        if value is not (before := read[customer_id][key]) and value != before
    }
    return [
        {
            "customer_id": customer_id,
            "read_version": read[customer_id]["version"],
            **{key: values[key] for key in columns},
        }
        for customer_id, values in changed.items()
    ]


def _values(row: LimitChange) -> dict[str, Any]:
    """The history row's column values."""
    return {column.key: getattr(row, column.key) for column in type(row).__table__.columns}
