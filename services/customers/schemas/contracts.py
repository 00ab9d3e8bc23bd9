"""Contracts: terms, settlement, dispute resolution (arbitration or court)."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from services.customers.domain.contracts import SettlementMethod
from services.customers.schemas.customers import STRICT
from shared.inputs import BusinessDate, VisibleText

if TYPE_CHECKING:
    from services.customers.models import Contract


class ArbitrationClause(BaseModel):
    """Disputes go to the named arbitration commission (collections escalates to arbitration)."""

    model_config = STRICT
    kind: Literal["arbitration"]
    commission: str = Field(min_length=1, max_length=300, examples=["Shanghai International Arbitration Center"])


class CourtClause(BaseModel):
    """Disputes go to the courts (collections escalates to litigation)."""

    model_config = STRICT
    kind: Literal["court"]


DisputeResolutionBody = Annotated[ArbitrationClause | CourtClause, Field(discriminator="kind")]


ClauseText = Annotated[str | None, Field(None, max_length=4000)]


class ContractBase(BaseModel):
    model_config = STRICT
    number: VisibleText = Field(min_length=1, max_length=100, examples=["C-2026-001"])
    signed_on: BusinessDate = Field(examples=["2026-01-05"])
    valid_from: BusinessDate = Field(examples=["2026-01-05"])
    valid_to: BusinessDate | None = Field(None, examples=["2027-01-04"], description="null: open-ended")
    subject: ClauseText = None
    quality_terms: ClauseText = None
    delivery_terms: ClauseText = None
    dealer_rights: ClauseText = None
    settlement_method: SettlementMethod = Field(SettlementMethod.BANK_TRANSFER, examples=["bank_transfer"])
    rebate_policy: ClauseText = None
    ordering_and_returns: ClauseText = None
    breach_liability: ClauseText = None
    credit_terms: str = Field(
        min_length=1, max_length=200, examples=["2/10, n/30"], description="stored and published in canonical form"
    )
    dispute_resolution: DisputeResolutionBody
    penalty_interest_annual_rate: Decimal | None = Field(
        None,
        max_digits=7,
        decimal_places=6,
        examples=["0.1095"],
        description="late-payment interest agreed in the contract, a fraction a year (0.1095 = 0.03 % a day);"
        " null: collections charges its policy's default rate",
    )


class ContractCreate(ContractBase):
    """A signed contract to record; emits `contract_signed`."""

    model_config = ConfigDict(
        extra="forbid",
        str_strip_whitespace=True,
        json_schema_extra={
            "examples": [
                {
                    "number": "C-2026-001",
                    "signed_on": "2026-01-05",
                    "valid_from": "2026-01-05",
                    "valid_to": "2027-01-04",
                    "credit_terms": "2/10, n/30",
                    "dispute_resolution": {
                        "kind": "arbitration",
                        "commission": "Shanghai International Arbitration Center",
                    },
                }
            ]
        },
    )


class ContractRead(ContractBase):
    model_config = ConfigDict(from_attributes=True)
    id: uuid.UUID
    customer_id: uuid.UUID
    version: int
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, contract: Contract) -> ContractRead:
        """The read model of a contract row (the clause is stored as two columns)."""
        values = {
            name: getattr(contract, name)
            for name in (
                "id",
                "customer_id",
                "number",
                "signed_on",
                "valid_from",
                "valid_to",
                "subject",
                "quality_terms",
                "delivery_terms",
                "dealer_rights",
                "settlement_method",
                "rebate_policy",
                "ordering_and_returns",
                "breach_liability",
                "credit_terms",
                "penalty_interest_annual_rate",
                "version",
                "created_at",
                "updated_at",
            )
        }
        kind = contract.dispute_kind
        clause: ArbitrationClause | CourtClause = (
            ArbitrationClause(kind="arbitration", commission=contract.arbitration_commission)
            if kind == "arbitration"
            else CourtClause(kind="court")
        )
        return cls.model_validate({**values, "dispute_resolution": clause})
