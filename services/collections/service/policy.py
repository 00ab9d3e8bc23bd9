"""Use cases for the collections policy: read, replace (versioned), simulate."""

from __future__ import annotations

import functools
import json
import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from services.collections.domain.escalation import (
    CaseFacts,
    simulate,
)
from services.collections.domain.policy import Policy, default_policy, revise
from services.collections.models import (
    Case,
    CustomerProfile,
    Invoice,
    KnownCustomer,
    PolicyVersion,
)
from services.collections.repository import case_facts
from services.collections.service.customers import clause_of, customer_segment
from shared.db import Database
from shared.errors import Conflict, DomainRuleViolation, in_body

_LATEST_VERSION = (
    select(PolicyVersion.version, PolicyVersion.created_at).order_by(PolicyVersion.version.desc()).limit(1)
)


async def current_policy(session: AsyncSession | AsyncConnection) -> Policy:
    """The highest stored version, or the default table (version 1) when none was ever stored."""
    # A stored version never changes: its parsed form is kept per database, version and creation time, so
    # a GET of an invoice reads two small columns instead of loading and parsing the whole document.
    latest = (await session.execute(_LATEST_VERSION)).first()
    if latest is None:
        return _parsed(None)
    bind = session.engine if isinstance(session, AsyncConnection) else session.bind
    key = (str(bind.url) if bind is not None else "", latest.version, latest.created_at)
    return _parsed_versions.get(key) or _keep(key, await session.scalar(_document_of(latest.version)))


async def policy_in_force(db: Database, version: int | None, created_at: datetime | None) -> Policy:
    """The policy of the stored ``version`` created at ``created_at`` (the stamp a read found with its row;
    None: none was ever stored, the default table)."""
    if version is None or created_at is None:
        return _parsed(None)
    key = (str(db.read_engine.url), version, created_at)
    policy = _parsed_versions.get(key)
    if policy is None:
        async with db.read() as connection:
            policy = _keep(key, await connection.scalar(_document_of(version)))
    return policy


def _document_of(version: int) -> Any:
    return select(PolicyVersion.document).where(PolicyVersion.version == version)


def _keep(key: tuple[str, int, datetime], document: Any) -> Policy:
    policy = _parsed(json.dumps(document, sort_keys=True))
    if len(_parsed_versions) >= 64:
        _parsed_versions.clear()
    _parsed_versions[key] = policy
    return policy


_parsed_versions: dict[tuple[str, int, datetime], Policy] = {}


@functools.lru_cache(maxsize=16)
def _parsed(document: str | None) -> Policy:
    # Parsed once per stored document (Policy is frozen). Keyed by the document's text: two databases may
    # hold different documents under the same version number.
    return default_policy() if document is None else Policy.from_dict(json.loads(document))


async def replace_policy(session: AsyncSession, data: dict[str, Any], actor: str, now: datetime) -> Policy:
    current = await current_policy(session)
    try:
        policy = revise(current, data)
    except DomainRuleViolation as exc:
        raise in_body(exc) from exc
    if await session.get(PolicyVersion, policy.version) is not None:
        raise Conflict(f"policy version {policy.version} was stored concurrently; reload and retry")
    session.add(PolicyVersion(version=policy.version, document=policy.to_dict(), created_by=actor, created_at=now))
    await session.flush()
    return policy


async def simulate_policy(session: AsyncSession, data: dict[str, Any], as_of: date) -> list[dict[str, Any]]:
    """Which open cases (and overdue invoices without a case) a draft policy would move; changes nothing."""
    try:
        draft = Policy.from_dict({key: value for key, value in data.items() if key != "version"})
    except DomainRuleViolation as exc:
        raise in_body(exc, "body.policy") from exc
    facts: list[CaseFacts] = []
    invoice_of: dict[Any, uuid.UUID] = {}
    for row in (await session.scalars(select(Case).where(Case.status.in_(["open", "on_hold"])))).all():
        facts.append(case_facts(row))
        invoice_of[row.id] = row.invoice_id
    uncased = (
        await session.execute(
            select(Invoice, KnownCustomer.segment, CustomerProfile)
            .outerjoin(KnownCustomer, KnownCustomer.id == Invoice.customer_id)
            .outerjoin(CustomerProfile, CustomerProfile.customer_id == Invoice.customer_id)
            .where(
                Invoice.status == "open",
                Invoice.due_date < as_of,
                ~select(Case.id).where(Case.invoice_id == Invoice.id).exists(),
            )
        )
    ).all()
    for invoice, segment, profile in uncased:
        facts.append(
            CaseFacts(
                due_date=invoice.due_date,
                outstanding=invoice.principal_outstanding,
                segment=customer_segment(segment, profile),
                dispute_resolution=clause_of(profile),
                case_id=f"invoice:{invoice.id}",
            )
        )
    moves = []
    for move in simulate(facts, draft, as_of):
        case_id = move.case_id
        invoice_id = invoice_of.get(case_id)
        if isinstance(case_id, str) and case_id.startswith("invoice:"):
            invoice_id, case_id = uuid.UUID(case_id.removeprefix("invoice:")), None
        moves.append(
            {
                "case_id": case_id,
                "invoice_id": invoice_id,
                "from_stage": move.from_stage,
                "to_stage": move.to_stage,
                "stages_passed": list(move.stages_passed),
                "write_off_review": move.write_off_review,
                "reason": move.reason,
            }
        )
    return moves
