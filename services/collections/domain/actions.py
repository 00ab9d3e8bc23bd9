"""Pure parts of the stage actions: letter tone, legal filings and what each action costs."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from enum import StrEnum

from services.collections.domain.limitation import LimitationStart, within_limitation
from services.collections.domain.money import require_non_negative
from services.collections.domain.policy import Policy
from services.collections.domain.stages import DisputeResolution, LegalRoute
from shared.errors import DomainRuleViolation
from shared.stage import Stage


class LetterTone(StrEnum):
    """Tone of a collection letter, firming with each letter sent."""

    REMINDER = "reminder"
    FIRM = "firm"
    FINAL_DEMAND = "final_demand"


# Days the debtor is given to reply: shorter as the tone firms.
REPLY_DAYS: dict[LetterTone, int] = {LetterTone.REMINDER: 14, LetterTone.FIRM: 10, LetterTone.FINAL_DEMAND: 7}


def letter_tone(letter_number: int) -> LetterTone:
    """Tone of the ``letter_number``-th letter of a case: 1 reminder, 2 firm, 3 and later final demand."""
    if letter_number < 1:
        raise DomainRuleViolation(
            "letter numbers start at 1", errors=[{"field": "letter_number", "message": f"{letter_number} < 1"}]
        )
    if letter_number == 1:
        return LetterTone.REMINDER
    return LetterTone.FIRM if letter_number == 2 else LetterTone.FINAL_DEMAND


def reply_by(tone: LetterTone, letter_date: date) -> date:
    """Date by which the debtor must reply to a letter of ``tone`` sent on ``letter_date``."""
    return letter_date + timedelta(days=REPLY_DAYS[tone])


def action_cost(policy: Policy, stage: Stage) -> Decimal:
    """Cost of one action of ``stage`` under ``policy`` (agency: commission is settled on recovery)."""
    return policy.action_cost(stage)


@dataclass(frozen=True)
class ActionCosts:
    """What an action costs us (the cost report) and what of it the debtor is charged."""

    internal: Decimal
    recoverable: Decimal


NOTHING_YET = ActionCosts(Decimal("0.00"), Decimal("0.00"))


def action_costs(policy: Policy, stage: Stage, *, carried_out: bool) -> ActionCosts:
    """Costs of an action of ``stage``: none until it is carried out (a letter sent, a visit made, a claim
    lodged; a visit only scheduled costs nothing yet); then its cost, charged to the debtor only when the
    policy says the law lets it be recovered."""
    if not carried_out:
        return NOTHING_YET
    rule = policy.rule_for(stage)
    return ActionCosts(internal=rule.cost, recoverable=rule.cost if rule.recoverable else Decimal("0.00"))


@dataclass(frozen=True)
class LegalFiling:
    """A claim filed with an arbitration commission or a court; money as given (unrounded sums of inputs)."""

    stage: Stage
    forum: str  # the commission named in the contract, or the court
    filed_on: date
    claim_principal: Decimal
    claim_penalty_interest: Decimal
    claim_costs: Decimal
    filing_cost: Decimal  # the policy's cost of the stage, recorded as the action's cost

    @property
    def claim_total(self) -> Decimal:
        """Everything claimed."""
        return self.claim_principal + self.claim_penalty_interest + self.claim_costs


def arbitration_filing(
    clause: DisputeResolution,
    principal: Decimal,
    penalty_interest: Decimal,
    costs: Decimal,
    filed_on: date,
    policy: Policy,
) -> LegalFiling:
    """File with the commission named in the contract; refused without a valid arbitration agreement."""
    _check_claim(principal, penalty_interest, costs)
    if clause.route is not LegalRoute.ARBITRATION or clause.commission is None:
        raise DomainRuleViolation(
            "no valid arbitration agreement naming a commission: the claim goes to court",
            errors=[{"field": "dispute_resolution", "message": f"clause {clause.kind} without a named commission"}],
        )
    return LegalFiling(
        Stage.ARBITRATION,
        clause.commission.strip(),
        filed_on,
        principal,
        penalty_interest,
        costs,
        policy.action_cost(Stage.ARBITRATION),
    )


def litigation_filing(
    clause: DisputeResolution,
    due_date: date,
    principal: Decimal,
    penalty_interest: Decimal,
    costs: Decimal,
    filed_on: date,
    policy: Policy,
    court: str = "competent people's court",
    limitation: LimitationStart | None = None,
) -> LegalFiling:
    """File a claim in court; refused under an arbitration agreement or past the limitation period (running
    from ``limitation``, the last interruption, else from the due date)."""
    _check_claim(principal, penalty_interest, costs)
    if clause.route is LegalRoute.ARBITRATION:
        raise DomainRuleViolation(
            f"the contract names {clause.commission} for arbitration: courts are excluded",
            errors=[{"field": "dispute_resolution", "message": "arbitration agreement excludes litigation"}],
        )
    start = limitation or LimitationStart.from_due_date(due_date)
    if not within_limitation(start.running_from, filed_on, policy.limitation_years):
        expiry = start.expires_on(policy.limitation_years)
        raise DomainRuleViolation(
            f"limitation period expired on {expiry}: review the case for write-off instead",
            errors=[{"field": "filed_on", "message": f"{filed_on} is after the limitation expiry {expiry}"}],
        )
    return LegalFiling(
        Stage.LITIGATION, court, filed_on, principal, penalty_interest, costs, policy.action_cost(Stage.LITIGATION)
    )


def _check_claim(principal: Decimal, penalty_interest: Decimal, costs: Decimal) -> None:
    require_non_negative(principal, "principal")
    require_non_negative(penalty_interest, "penalty_interest")
    require_non_negative(costs, "costs")
    if principal + penalty_interest + costs <= 0:
        raise DomainRuleViolation("nothing to claim", errors=[{"field": "principal", "message": "claim is zero"}])
