"""The credit policy in force: defaults, load, replace (versioned)."""

from __future__ import annotations

import dataclasses
import functools
import json
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from services.credit import repository
from services.credit.domain.grades import GradeThresholds
from services.credit.domain.limits import LimitPolicy, build_limit_policy
from services.credit.domain.policy import CreditPolicy, GradePolicy
from services.credit.domain.scoring import FactorWeights
from services.credit.models import CreditPolicyDocument
from services.credit.schemas.policy import GradePolicyBody, PolicyBody, PolicyRead
from shared.db import Database
from shared.errors import DomainRuleViolation, rule_violation


def default_policy_body() -> PolicyBody:
    """The policy in force until someone PUTs another: the domain defaults."""
    defaults = CreditPolicy()
    return PolicyBody(
        grades={
            grade: GradePolicyBody(
                max_expected_dso_days=rule.max_expected_dso_days,
                max_bad_debt_rate=rule.max_bad_debt_rate,
                sales_policy=rule.sales_policy,
                max_overdue_days=rule.max_overdue_days,
                stop_supply_stage=rule.stop_supply_stage,
            )
            for grade, rule in defaults.grades.items()
        },
        ungraded_stop_supply_stage=defaults.ungraded_stop_supply_stage,
        cancel_limit_stage=defaults.cancel_limit_stage,
    )


@dataclass(frozen=True)
class PolicyInForce:
    """The stored policy as the domain objects the rules take."""

    body: PolicyBody
    version: int
    credit: CreditPolicy
    weights: FactorWeights
    thresholds: GradeThresholds
    limits: LimitPolicy
    row: CreditPolicyDocument | None


def build_policy(body: PolicyBody, version: int, row: CreditPolicyDocument | None = None) -> PolicyInForce:
    """Validate ``body`` through the domain (weights sum to 100, thresholds descending ...)."""
    credit = CreditPolicy(
        grades={grade: GradePolicy(**rule.model_dump()) for grade, rule in body.grades.items()},
        ungraded_stop_supply_stage=body.ungraded_stop_supply_stage,
        cancel_limit_stage=body.cancel_limit_stage,
    )
    weights = FactorWeights(**body.weights.model_dump())
    thresholds = GradeThresholds(**body.thresholds.model_dump())
    try:
        limits = build_limit_policy(
            {grade: (rule.amount, rule.monthly_sales_multiple) for grade, rule in body.limits.grades.items()},
            body.limits.working_capital_percent,
            body.limits.liquidation_value_percent,
        )
    except DomainRuleViolation as exc:
        raise rule_violation([{**error, "field": f"limits.{error['field']}"} for error in exc.errors]) from exc
    return PolicyInForce(
        body=body, version=version, credit=credit, weights=weights, thresholds=thresholds, limits=limits, row=row
    )


async def load_policy(session: AsyncSession) -> PolicyInForce:
    """The policy in force; parsed and built once per stored version (the row is still read every time)."""
    row = await repository.policy_document(session)
    if row is None:
        return _built_policy(None, 1)
    built = _built_policy(json.dumps(row.document, sort_keys=True), row.version)
    return dataclasses.replace(built, row=row)


async def read_policy(session: AsyncSession) -> PolicyInForce:
    """The policy in force for a read (without its row): the document is loaded and parsed only when the
    stored version (or its update time) is one this process has not built yet."""
    stamp = await repository.policy_stamp(session)
    if stamp is None:
        return _built_policy(None, 1)
    bind = session.bind
    key = (str(bind.url) if bind is not None else "", *stamp)
    policy = _read_policies.get(key)
    if policy is None:
        row = await repository.policy_document(session)
        if row is None:  # removed meanwhile
            return _built_policy(None, 1)
        policy = _built_policy(json.dumps(row.document, sort_keys=True), row.version)
        if len(_read_policies) >= 64:
            _read_policies.clear()
        _read_policies[key] = policy
    return policy


async def policy_at_stamp(db: Database, version: int | None, updated_at: datetime | None) -> PolicyInForce:
    """``read_policy`` for the stamp a read found with its row (None: no policy stored, the default)."""
    if version is None or updated_at is None:
        return _built_policy(None, 1)
    policy = _read_policies.get((str(db.read_engine.url), version, updated_at))
    if policy is None:
        async with db.transaction(read_only=True) as session:
            policy = await read_policy(session)
    return policy


_read_policies: dict[tuple[str, int, datetime], PolicyInForce] = {}


@functools.lru_cache(maxsize=16)
def _built_policy(document: str | None, version: int) -> PolicyInForce:
    # Keyed by the document's text, not only the version: two databases (tests, tenants) may hold
    # different documents under the same version number.
    body = default_policy_body() if document is None else PolicyBody.model_validate_json(document)
    return build_policy(body, version)


def policy_read(policy: PolicyInForce) -> PolicyRead:
    row = policy.row
    return PolicyRead(
        **policy.body.model_dump(),
        version=policy.version,
        updated_by=row.updated_by if row else None,
        updated_at=row.updated_at if row else None,
    )


async def replace_policy(
    session: AsyncSession, current: PolicyInForce, body: PolicyBody, actor: str, now: datetime
) -> PolicyInForce:
    """Store a new policy (the caller has checked If-Match); takes effect for the next decision."""
    new = build_policy(body, current.version + 1)
    document = body.model_dump(mode="json")
    row = current.row
    if row is None:
        row = CreditPolicyDocument(
            id=repository.POLICY_ROW_ID, document=document, version=new.version, updated_by=actor, updated_at=now
        )
        await repository.add(session, row)
    else:
        row.document, row.version, row.updated_by, row.updated_at = document, new.version, actor, now
        await session.flush()
    return build_policy(body, new.version, row)
