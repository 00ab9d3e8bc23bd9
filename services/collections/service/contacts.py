"""Contact discipline: customer preferences, the contact decision and the contact log."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.collections.domain.contact import (
    INTRUSIVE,
    WINDOW,
    Channel,
    ContactDecision,
    ContactPreferences,
    ContactRules,
    check_contact,
    zone,
)
from services.collections.models import (
    Case,
    ContactLog,
    ContactPreference,
    KnownCustomer,
)
from services.collections.repository import add_history
from services.collections.schemas.contacts import ContactCreate, ContactPreferencesUpdate
from services.collections.settings import CollectionsSettings
from shared.db import after_keyset
from shared.errors import Conflict, DomainRuleViolation, NotFound, in_body
from shared.http import check_if_match


async def known_customer_or_404(session: AsyncSession, customer_id: uuid.UUID, settings: CollectionsSettings) -> None:
    if settings.require_known_customer and await session.get(KnownCustomer, customer_id) is None:
        raise NotFound(f"customer {customer_id} is not known to the registry")


def preferences_view(
    customer_id: uuid.UUID, row: ContactPreference | None, settings: CollectionsSettings
) -> dict[str, Any]:
    """The stored preferences, or the defaults (every channel consented, the service's time zone, version 0)."""
    if row is None:
        return {
            "customer_id": customer_id,
            "consent": {},
            "time_zone": settings.contact_default_time_zone,
            "version": 0,
            "updated_at": None,
        }
    return {
        "customer_id": customer_id,
        "consent": dict(row.consent),
        "time_zone": row.time_zone,
        "version": row.version,
        "updated_at": row.updated_at,
    }


async def get_contact_preferences(
    session: AsyncSession, customer_id: uuid.UUID, settings: CollectionsSettings
) -> dict[str, Any]:
    await known_customer_or_404(session, customer_id, settings)
    return preferences_view(customer_id, await session.get(ContactPreference, customer_id), settings)


async def put_contact_preferences(
    session: AsyncSession,
    customer_id: uuid.UUID,
    data: ContactPreferencesUpdate,
    if_match: str | None,
    settings: CollectionsSettings,
    now: datetime,
) -> dict[str, Any]:
    """Replace the preferences; If-Match is required once they are stored (428/412), optional before."""
    await known_customer_or_404(session, customer_id, settings)
    row = await session.get(ContactPreference, customer_id, with_for_update=True)
    check_if_match(if_match, row.version if row else 0, required=row is not None)
    try:
        zone(data.time_zone)
    except DomainRuleViolation as exc:
        raise in_body(exc) from exc
    consent = data.consent.model_dump()
    if row is None:
        row = ContactPreference(
            customer_id=customer_id,
            consent=consent,
            time_zone=data.time_zone,
            version=1,
            created_at=now,
            updated_at=now,
        )
        session.add(row)
    else:
        row.consent, row.time_zone = consent, data.time_zone
        row.version += 1
        row.updated_at = now
    await session.flush()
    return preferences_view(customer_id, row, settings)


def contact_rules(settings: CollectionsSettings) -> ContactRules:
    return ContactRules(
        weekly_cap=settings.contact_weekly_cap,
        quiet_start=settings.contact_quiet_start,
        quiet_end=settings.contact_quiet_end,
    )


async def contact_decision(
    session: AsyncSession,
    customer_id: uuid.UUID,
    channel: Channel,
    at: datetime,
    settings: CollectionsSettings,
    *,
    legally_required: bool = False,
) -> ContactDecision:
    """Apply the contact rule to the customer's preferences and the contacts logged in the last 7 days."""
    row = await session.get(ContactPreference, customer_id)
    recent = (await recent_contacts(session, [customer_id], at - WINDOW, at)).get(customer_id, [])
    return decide(row, channel, at, recent, settings, legally_required=legally_required)


def decide(
    row: ContactPreference | None,
    channel: Channel,
    at: datetime,
    recent: list[datetime],
    settings: CollectionsSettings,
    *,
    legally_required: bool = False,
) -> ContactDecision:
    """The contact rule over stored preferences (None: the defaults) and intrusive contacts (a superset of the
    last 7 days will do: the rule keeps those within its window)."""
    preferences = ContactPreferences(
        consent=dict(row.consent) if row else {}, time_zone=row.time_zone if row else settings.contact_default_time_zone
    )
    return check_contact(channel, at, preferences, recent, contact_rules(settings), legally_required=legally_required)


async def recent_contacts(
    session: AsyncSession, customer_ids: list[uuid.UUID], after: datetime, until: datetime
) -> dict[uuid.UUID, list[datetime]]:
    """The customers' contacts on the intrusive channels logged in (after, until], per customer."""
    rows = await session.execute(
        select(ContactLog.customer_id, ContactLog.at).where(
            ContactLog.customer_id.in_(customer_ids),
            ContactLog.at > after,
            ContactLog.at <= until,
            # only calls, SMS and visits count towards the weekly cap (letters and e-mail never do)
            ContactLog.channel.in_(sorted(channel.value for channel in INTRUSIVE)),
        )
    )
    recent: dict[uuid.UUID, list[datetime]] = {}
    for customer_id, moment in rows.all():
        recent.setdefault(customer_id, []).append(moment)
    return recent


def log_contact(
    session: AsyncSession,
    customer_id: uuid.UUID,
    channel: Channel,
    at: datetime,
    *,
    case_id: uuid.UUID | None = None,
    action_id: uuid.UUID | None = None,
) -> None:
    session.add(ContactLog(**contact_values(customer_id, channel, at, case_id=case_id, action_id=action_id)))


def contact_values(
    customer_id: uuid.UUID,
    channel: Channel,
    at: datetime,
    *,
    case_id: uuid.UUID | None = None,
    action_id: uuid.UUID | None = None,
) -> dict[str, Any]:
    """A contact log row's values (``log_contact`` adds it to the session; a run of stage events inserts many)."""
    return {
        "id": uuid.uuid4(),
        "customer_id": customer_id,
        "case_id": case_id,
        "action_id": action_id,
        "channel": channel.value,
        "at": at,
        "created_at": at,
    }


async def record_contact(
    session: AsyncSession,
    customer_id: uuid.UUID,
    data: ContactCreate,
    actor: str,
    settings: CollectionsSettings,
    now: datetime,
) -> ContactLog:
    """Log a contact made now, if the contact rules allow it: 409 with the reason and the earliest allowed
    time when not (weekly cap, quiet hours), or when the customer withdrew consent for the channel."""
    await known_customer_or_404(session, customer_id, settings)
    case_row = None
    if data.case_id is not None:
        case_row = await session.get(Case, data.case_id)
        if case_row is None or case_row.customer_id != customer_id:
            raise DomainRuleViolation(
                f"no case {data.case_id} of customer {customer_id}",
                errors=[{"field": "body.case_id", "message": "not a case of this customer"}],
            )
    decision = await contact_decision(
        session, customer_id, data.channel, now, settings, legally_required=data.legally_required
    )
    if not decision.allowed:
        raise Conflict(
            f"contact by {data.channel} is not allowed now: {decision.reason}",
            errors=[{"field": "body.channel", "message": decision.reason}],
        )
    row = ContactLog(
        id=uuid.uuid4(),
        customer_id=customer_id,
        case_id=data.case_id,
        action_id=None,
        channel=data.channel.value,
        at=now,
        created_at=now,
    )
    session.add(row)
    if case_row is not None:
        add_history(
            session,
            case_row,
            "contact_made",
            f"{data.channel} contact",
            actor,
            now,
            from_stage=case_row.stage,
            to_stage=case_row.stage,
        )
    await session.flush()
    return row


async def list_contacts(
    session: AsyncSession,
    customer_id: uuid.UUID,
    *,
    limit: int,
    after: tuple[datetime, uuid.UUID] | None,
    settings: CollectionsSettings,
) -> list[ContactLog]:
    await known_customer_or_404(session, customer_id, settings)
    query = select(ContactLog).where(ContactLog.customer_id == customer_id)
    if (keyset := after_keyset(ContactLog.created_at, ContactLog.id, after)) is not None:
        query = query.where(keyset)
    return list((await session.scalars(query.order_by(ContactLog.created_at, ContactLog.id).limit(limit))).all())
