"""Contract dates, the dispute-resolution clause and credit terms."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from services.customers.domain.contracts import (
    ContractDraft,
    DisputeResolution,
    DisputeResolutionKind,
    SettlementMethod,
    dispute_resolution,
    is_in_force,
    validate_contract,
    validate_contract_dates,
)
from shared.errors import DomainRuleViolation

ARBITRATION, COURT = DisputeResolutionKind.ARBITRATION, DisputeResolutionKind.COURT


def draft(**overrides: object) -> ContractDraft:
    values: dict[str, object] = {
        "number": "HT-2024-001",
        "signed_on": date(2024, 1, 5),
        "valid_from": date(2024, 1, 1),
        "valid_to": date(2024, 12, 31),
        "credit_terms": "2/10 net 30",
        "settlement_method": SettlementMethod.CHEQUE,
        "dispute_resolution_kind": ARBITRATION,
        "arbitration_commission": "  Shanghai International Arbitration Center ",
    }
    values.update(overrides)
    return ContractDraft(**values)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("signed_on", "valid_from", "valid_to"),
    [
        (date(2023, 12, 20), date(2024, 1, 1), date(2024, 12, 31)),
        (date(2024, 3, 1), date(2024, 1, 1), date(2024, 12, 31)),  # backdated: signed after valid_from
        (date(2024, 1, 1), date(2024, 1, 1), date(2024, 1, 1)),  # one-day contract
        (date(2024, 1, 1), date(2024, 1, 1), None),  # open-ended
        (date(2024, 12, 31), date(2024, 1, 1), date(2024, 12, 31)),  # signed on its last day
    ],
    ids=["signed-before-start", "backdated", "one-day", "open-ended", "signed-on-last-day"],
)
def test_valid_dates(signed_on: date, valid_from: date, valid_to: date | None) -> None:
    assert date_errors(signed_on, valid_from, valid_to, as_of=date(2025, 1, 1)) == []


def date_errors(signed_on: date, valid_from: date, valid_to: date | None, as_of: date | None) -> list[str]:
    """The fields ``validate_contract_dates`` refuses (none when the dates are valid)."""
    try:
        validate_contract_dates(signed_on, valid_from, valid_to, as_of)
    except DomainRuleViolation as exc:
        return [str(error["field"]) for error in exc.errors]
    return []


@pytest.mark.parametrize(
    ("signed_on", "valid_from", "valid_to", "as_of", "fields"),
    [
        (date(2024, 1, 1), date(2024, 6, 1), date(2024, 5, 31), None, ["valid_to"]),
        (date(2025, 1, 1), date(2024, 1, 1), date(2024, 12, 31), None, ["signed_on"]),
        (date(2024, 7, 1), date(2024, 1, 1), None, date(2024, 6, 30), ["signed_on"]),
        # Ends before it starts and was signed after the end: both reported.
        (date(2024, 7, 1), date(2024, 6, 1), date(2024, 5, 31), None, ["valid_to", "signed_on"]),
    ],
    ids=["ends-before-start", "signed-after-expiry", "signed-in-future", "two-errors"],
)
def test_invalid_dates(
    signed_on: date, valid_from: date, valid_to: date | None, as_of: date | None, fields: list[str]
) -> None:
    with pytest.raises(DomainRuleViolation) as raised:
        validate_contract_dates(signed_on, valid_from, valid_to, as_of)
    assert raised.value.status == 422
    assert [error["field"] for error in raised.value.errors] == fields


@pytest.mark.parametrize(
    ("kind", "commission", "expected"),
    [
        (ARBITRATION, " CIETAC ", DisputeResolution(ARBITRATION, "CIETAC")),
        (COURT, None, DisputeResolution(COURT, None)),
        (COURT, "  ", DisputeResolution(COURT, None)),  # blank counts as none
    ],
    ids=["arbitration", "court", "court-blank-commission"],
)
def test_valid_dispute_resolution(
    kind: DisputeResolutionKind, commission: str | None, expected: DisputeResolution
) -> None:
    assert dispute_resolution(kind, commission) == expected


@pytest.mark.parametrize(
    ("kind", "commission"),
    [(ARBITRATION, None), (ARBITRATION, "   "), (COURT, "CIETAC")],
    ids=["arbitration-without-commission", "arbitration-blank-commission", "court-with-commission"],
)
def test_invalid_dispute_resolution(kind: DisputeResolutionKind, commission: str | None) -> None:
    with pytest.raises(DomainRuleViolation) as raised:
        dispute_resolution(kind, commission)
    assert [error["field"] for error in raised.value.errors] == ["arbitration_commission"]


def test_valid_contract_has_canonical_terms_and_clean_clause() -> None:
    contract = validate_contract(draft(), as_of=date(2024, 2, 1))
    assert str(contract.credit_terms) == "2/10, n/30"
    assert contract.credit_terms.net_days == 30
    assert contract.dispute_resolution == DisputeResolution(ARBITRATION, "Shanghai International Arbitration Center")
    assert contract.number == "HT-2024-001"
    assert contract.penalty_interest_annual_rate is None  # the policy's default applies


@pytest.mark.parametrize("rate", [Decimal(0), Decimal("0.1095"), Decimal("0.999999")])
def test_contract_may_agree_a_penalty_interest_rate(rate: Decimal) -> None:
    agreed = validate_contract(draft(penalty_interest_annual_rate=rate)).penalty_interest_annual_rate
    assert agreed == rate and agreed is not None and agreed.as_tuple().exponent == -6


@pytest.mark.parametrize(
    ("overrides", "fields"),
    [
        ({"credit_terms": "2/10"}, ["credit_terms"]),  # net period missing
        ({"credit_terms": "5/40, n/30"}, ["credit_terms"]),  # discount window longer than net
        ({"credit_terms": ""}, ["credit_terms"]),
        ({"number": "  "}, ["number"]),
        ({"valid_to": date(2023, 12, 31)}, ["valid_to", "signed_on"]),
        ({"dispute_resolution_kind": COURT}, ["arbitration_commission"]),
        ({"penalty_interest_annual_rate": Decimal(1)}, ["penalty_interest_annual_rate"]),
        ({"penalty_interest_annual_rate": Decimal("-0.0001")}, ["penalty_interest_annual_rate"]),
        # "soon" breaks two terms rules (not a tier, no net period): each is listed.
        (
            {"credit_terms": "soon", "arbitration_commission": None, "valid_to": date(2023, 12, 1)},
            ["valid_to", "signed_on", "credit_terms", "credit_terms", "arbitration_commission"],
        ),
    ],
    ids=[
        "terms-no-net",
        "terms-contradictory",
        "terms-empty",
        "blank-number",
        "ends-before-start",
        "court-naming-commission",
        "penalty-rate-100-percent",
        "penalty-rate-negative",
        "every-error-at-once",
    ],
)
def test_invalid_contract(overrides: dict[str, object], fields: list[str]) -> None:
    with pytest.raises(DomainRuleViolation) as raised:
        validate_contract(draft(**overrides))
    assert [error["field"] for error in raised.value.errors] == fields


@pytest.mark.parametrize(
    ("on", "valid_to", "expected"),
    [
        (date(2023, 12, 31), date(2024, 12, 31), False),
        (date(2024, 1, 1), date(2024, 12, 31), True),
        (date(2024, 12, 31), date(2024, 12, 31), True),
        (date(2025, 1, 1), date(2024, 12, 31), False),
        (date(2030, 1, 1), None, True),
    ],
    ids=["day-before", "first-day", "last-day", "day-after", "open-ended"],
)
def test_is_in_force(on: date, valid_to: date | None, expected: bool) -> None:
    assert is_in_force(validate_contract(draft(valid_to=valid_to)), on) is expected
