"""The policy's stage rules as they apply to one case: its segment, legal route and current stage.

``effective_rules`` is the one source both ``escalation.decide`` (per case) and the set-based sweep
(``services/collections/sweep/rules_sql.py``, one SQL ``CASE``) walk, so the two cannot drift apart.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_CEILING, Decimal

from services.collections.domain.policy import Policy
from services.collections.domain.stages import ClauseKind, DisputeResolution, LegalRoute, Segment
from shared.stage import Stage, stage_rank


@dataclass(frozen=True)
class EffectiveStageRule:
    """A stage rule as it applies to one segment, legal route and starting stage.

    ``min_days_overdue`` already carries the segment's factor; ``min_amount`` is cumulative (the highest
    own threshold of this stage and of every stage before it that the case still has to pass), so the
    rules of one chain are monotone: a case meeting one meets every earlier one.
    """

    stage: Stage
    min_days_overdue: int
    min_amount: Decimal
    limitation_applies: bool  # also require the claim to be within the limitation period
    rule: str  # the rule in words, recorded with the stage it fires
    requires_contract: bool = False  # a legal stage: only with a contract on file (else legal review)

    def matches(self, days_overdue: int, amount: Decimal, within_limitation_period: bool) -> bool:
        """Whether a case with these figures enters this stage."""
        return self.matches_ignoring_limitation(days_overdue, amount) and (
            within_limitation_period or not self.limitation_applies
        )

    def matches_ignoring_limitation(self, days_overdue: int, amount: Decimal) -> bool:
        """Whether days and amount are met (the limitation period aside)."""
        return days_overdue >= self.min_days_overdue and amount >= self.min_amount


def legal_route(clause: DisputeResolution | ClauseKind | LegalRoute) -> LegalRoute:
    """Route of a clause: arbitration for an arbitration agreement, court for court or unknown."""
    if isinstance(clause, DisputeResolution):
        return clause.route
    if isinstance(clause, LegalRoute):
        return clause
    return LegalRoute.ARBITRATION if clause is ClauseKind.ARBITRATION else LegalRoute.COURT


def effective_rules(
    policy: Policy,
    segment: Segment,
    clause: DisputeResolution | ClauseKind | LegalRoute,
    current_stage: Stage | None = None,
    *,
    promise_broken: bool = False,
) -> list[EffectiveStageRule]:
    """The chain of stages still ahead of a case at ``current_stage``, lowest first, as effective rules.

    Key accounts replace the letter by a visit at the letter's thresholds; each day threshold is
    multiplied by the segment's day factor, rounded up, at least 1; only the final stage of the
    clause's route is included. A broken promise waives the days of the first stage ahead (0).
    """
    route = legal_route(clause)
    strategy = policy.strategy_for(segment)
    excluded_final = Stage.LITIGATION if route is LegalRoute.ARBITRATION else Stage.ARBITRATION
    chain = _chain_without(policy, excluded_final)
    if strategy.visit_first:
        letter = policy.rule_for(Stage.LETTER)
        first_visit = (Stage.VISIT, letter.min_days_overdue, letter.min_amount, "a manager visits first")
        chain = [first_visit] + [entry for entry in chain if entry[0] not in _EARLY]
    chain = [entry for entry in chain if stage_rank(entry[0]) > stage_rank(current_stage)]

    rules: list[EffectiveStageRule] = []
    cumulative_amount: Decimal | None = None
    for position, (stage, policy_days, own_amount, note) in enumerate(chain):
        days = _scaled_days(policy_days, strategy.day_factor)
        if promise_broken and position == 0:
            days = 0
        if cumulative_amount is None or own_amount > cumulative_amount:
            cumulative_amount = own_amount
        limitation = stage is Stage.LITIGATION
        rules.append(
            EffectiveStageRule(
                stage=stage,
                min_days_overdue=days,
                min_amount=cumulative_amount,
                limitation_applies=limitation,
                requires_contract=stage in _LEGAL,
                rule=_rule_text(
                    policy,
                    stage,
                    days,
                    policy_days,
                    cumulative_amount,
                    limitation,
                    segment,
                    route,
                    note,
                    waived=promise_broken and position == 0,
                ),
            )
        )
    return rules


_EARLY = frozenset({Stage.LETTER, Stage.VISIT})
_LEGAL = frozenset({Stage.ARBITRATION, Stage.LITIGATION})


def _chain_without(policy: Policy, excluded_final: Stage) -> list[tuple[Stage, int, Decimal, str]]:
    return [
        (rule.stage, rule.min_days_overdue, rule.min_amount, "")
        for rule in policy.stages
        if rule.stage is not excluded_final
    ]


def _scaled_days(days: int, factor: Decimal) -> int:
    # Rounded up so a halved 1-day threshold stays 1 rather than 0 (an invoice is overdue from day 1).
    return max(1, int((Decimal(days) * factor).to_integral_value(rounding=ROUND_CEILING)))


def _rule_text(
    policy: Policy,
    stage: Stage,
    days: int,
    policy_days: int,
    amount: Decimal,
    limitation: bool,
    segment: Segment,
    route: LegalRoute,
    note: str,
    *,
    waived: bool,
) -> str:
    conditions = ["days waived: promise to pay broken" if waived else f"days_overdue >= {days}"]
    if amount > 0:
        conditions.append(f"amount >= {amount}")
    if stage is Stage.ARBITRATION:
        conditions.append("arbitration agreement")
    if stage is Stage.LITIGATION:
        conditions.append("no arbitration agreement")
    if limitation:
        conditions.append(f"within {policy.limitation_years}-year limitation period")
    context = [f"policy v{policy.version}", f"segment {segment}"]
    if days != policy_days and not waived:
        context.append(f"policy days {policy_days} × {policy.strategy_for(segment).day_factor}, rounded up")
    if note:
        context.append(note)
    return f"{stage}: {' and '.join(conditions)} ({'; '.join(context)})"
