"""Contract rules: validity dates, the dispute-resolution clause and the credit terms it carries."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum

from shared.errors import DomainRuleViolation, FieldErrors
from shared.terms import CreditTerms, parse_terms


class DisputeResolutionKind(StrEnum):
    ARBITRATION = "arbitration"  # collections escalates to the named arbitration commission
    COURT = "court"  # collections escalates to litigation


class SettlementMethod(StrEnum):
    CASH = "cash"
    CHEQUE = "cheque"
    INSTALMENTS = "instalments"
    BANK_TRANSFER = "bank_transfer"


@dataclass(frozen=True)
class DisputeResolution:
    kind: DisputeResolutionKind
    arbitration_commission: str | None  # set exactly when kind is arbitration


@dataclass(frozen=True)
class ContractDraft:
    """The checked parts of a contract as submitted; free-text clauses (quality, delivery …) need no rule."""

    number: str
    signed_on: date
    valid_from: date
    valid_to: date | None  # None: open-ended, until terminated
    credit_terms: str  # e.g. "2/10, n/30"
    settlement_method: SettlementMethod
    dispute_resolution_kind: DisputeResolutionKind
    arbitration_commission: str | None = None
    penalty_interest_annual_rate: Decimal | None = None  # None: the collections policy's default applies


@dataclass(frozen=True)
class ValidContract:
    number: str
    signed_on: date
    valid_from: date
    valid_to: date | None
    credit_terms: CreditTerms  # str(credit_terms) is the canonical text to store and publish
    settlement_method: SettlementMethod
    dispute_resolution: DisputeResolution
    penalty_interest_annual_rate: Decimal | None = None


# An agreed late-payment rate is a fraction a year; a whole 100 % a year is no rate a court would enforce.
MAX_PENALTY_INTEREST_ANNUAL_RATE = Decimal(1)
RATE_PLACES = Decimal("0.000001")


def _dispute_resolution(kind: DisputeResolutionKind, commission: str | None, errors: FieldErrors) -> DisputeResolution:
    name = commission.strip() if commission else ""
    if kind is DisputeResolutionKind.ARBITRATION:
        errors.check(bool(name), "arbitration_commission", "an arbitration clause must name the arbitration commission")
        return DisputeResolution(kind, name or None)
    errors.check(not name, "arbitration_commission", "a court clause names no arbitration commission")
    return DisputeResolution(kind, None)


def dispute_resolution(kind: DisputeResolutionKind, arbitration_commission: str | None) -> DisputeResolution:
    """Validated clause: arbitration needs a non-blank commission name (stripped); court must have none."""
    errors = FieldErrors()
    clause = _dispute_resolution(kind, arbitration_commission, errors)
    errors.raise_if_any("Invalid dispute-resolution clause")
    return clause


def _check_dates(
    signed_on: date, valid_from: date, valid_to: date | None, as_of: date | None, errors: FieldErrors
) -> None:
    if valid_to is not None:
        errors.check(valid_to >= valid_from, "valid_to", "must not be before valid_from")
        errors.check(signed_on <= valid_to, "signed_on", "must not be after valid_to: the contract had expired")
    if as_of is not None:
        errors.check(signed_on <= as_of, "signed_on", "must not be in the future")


def validate_contract_dates(
    signed_on: date, valid_from: date, valid_to: date | None, as_of: date | None = None
) -> None:
    """Raise DomainRuleViolation unless valid_from ≤ valid_to and the signature is not after valid_to.

    Signing after valid_from is allowed: a contract often formalises terms already in effect
    (backdated validity). A one-day contract (valid_from == valid_to) is allowed. Given ``as_of``,
    a signature date in the future is refused.
    """
    errors = FieldErrors()
    _check_dates(signed_on, valid_from, valid_to, as_of, errors)
    errors.raise_if_any("Invalid contract dates")


def _credit_terms(text: str, errors: FieldErrors) -> CreditTerms | None:
    try:
        return parse_terms(text)
    except DomainRuleViolation as error:
        # Re-home the parser's messages on the contract's own field so the API can point at it.
        for problem in error.errors or [{"message": error.detail}]:
            errors.add("credit_terms", str(problem.get("message", error.detail)))
        return None


def validate_contract(draft: ContractDraft, as_of: date | None = None) -> ValidContract:
    """Check number, dates, credit terms and dispute clause together; one DomainRuleViolation lists every error."""
    errors = FieldErrors()
    number = draft.number.strip()
    errors.check(bool(number), "number", "must not be blank")
    _check_dates(draft.signed_on, draft.valid_from, draft.valid_to, as_of, errors)
    terms = _credit_terms(draft.credit_terms, errors)
    clause = _dispute_resolution(draft.dispute_resolution_kind, draft.arbitration_commission, errors)
    rate = draft.penalty_interest_annual_rate
    if rate is not None:
        rate = rate.quantize(RATE_PLACES)  # as stored (6 places), so the response and a later read agree
        errors.check(
            0 <= rate < MAX_PENALTY_INTEREST_ANNUAL_RATE,
            "penalty_interest_annual_rate",
            "must be a yearly fraction from 0 up to (not including) 1, e.g. 0.1095 for 0.03 % a day",
        )
    errors.raise_if_any("Invalid contract")
    assert terms is not None  # parse failures were recorded as errors and raised above
    return ValidContract(
        number, draft.signed_on, draft.valid_from, draft.valid_to, terms, draft.settlement_method, clause, rate
    )


def is_in_force(contract: ValidContract, on: date) -> bool:
    """Whether ``on`` falls within the contract's validity (both ends inclusive; open-ended has no end)."""
    return contract.valid_from <= on and (contract.valid_to is None or on <= contract.valid_to)
