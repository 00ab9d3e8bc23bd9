"""Request and response models of the customers API."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field

from services.customers.domain.complaints import ComplaintCategory, ComplaintState
from services.customers.domain.contracts import SettlementMethod
from services.customers.domain.customer import (
    ChannelRole,
    CustomerKind,
    Lifecycle,
    Origin,
    PurchaseType,
    Temperature,
    prospect_temperature,
)
from shared.inputs import BusinessDate, VisibleText
from shared.money import MAX_AMOUNT, ascii_digits_only

if TYPE_CHECKING:
    from services.customers.models import Contract

STRICT = ConfigDict(extra="forbid", str_strip_whitespace=True)


class Segment(StrEnum):
    key_account = "key_account"
    general = "general"
    high_risk = "high_risk"


class Contact(BaseModel):
    model_config = STRICT
    name: VisibleText = Field(min_length=1, max_length=200)
    role: str | None = Field(None, max_length=100)
    email: str | None = Field(None, max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
    phone: str | None = Field(None, max_length=50)


class CustomerBase(BaseModel):
    model_config = STRICT
    name: VisibleText = Field(min_length=1, max_length=200, examples=["Acme Trading Co."])
    kind: CustomerKind = Field(examples=["commercial"])
    channel_role: ChannelRole | None = Field(None, examples=["intermediary"])
    origin: Origin = Origin.EXTERNAL
    lifecycle: Lifecycle = Field(Lifecycle.ACTIVE, examples=["active"])
    tax_id: str | None = Field(None, min_length=1, max_length=64, examples=["91310000MA1K000001"])
    legal_representative: str | None = Field(None, max_length=200)
    bank_account: str | None = Field(None, max_length=100)
    region: str | None = Field(None, max_length=100, examples=["East China"])
    industry: str | None = Field(None, max_length=100)
    segment: Segment = Field(Segment.general, description="collections strategy segment")
    expected_first_order_on: BusinessDate | None = Field(
        None, description="prospects: when the first order is expected"
    )
    purchase_type: PurchaseType | None = None
    contacts: list[Contact] = Field(default_factory=list, max_length=50)


class CustomerCreate(CustomerBase):
    """A customer or prospect to register."""

    model_config = ConfigDict(
        extra="forbid",
        str_strip_whitespace=True,
        json_schema_extra={
            "examples": [
                {
                    "name": "Acme Trading Co.",
                    "kind": "commercial",
                    "channel_role": "intermediary",
                    "lifecycle": "active",
                    "tax_id": "91310000MA1K000001",
                    "region": "East China",
                }
            ]
        },
    )


class CustomerUpdate(BaseModel):
    """Fields to change; absent fields stay as they are."""

    model_config = STRICT
    name: VisibleText | None = Field(None, min_length=1, max_length=200)
    kind: CustomerKind | None = None
    channel_role: ChannelRole | None = None
    origin: Origin | None = None
    lifecycle: Lifecycle | None = None
    tax_id: str | None = Field(None, min_length=1, max_length=64)
    legal_representative: str | None = Field(None, max_length=200)
    bank_account: str | None = Field(None, max_length=100)
    region: str | None = Field(None, max_length=100)
    industry: str | None = Field(None, max_length=100)
    segment: Segment | None = None
    expected_first_order_on: BusinessDate | None = None
    purchase_type: PurchaseType | None = None
    contacts: list[Contact] | None = Field(None, max_length=50)


class CustomerRead(CustomerBase):
    """A customer as the registry holds it; prospects also carry their temperature as of today."""

    model_config = ConfigDict(from_attributes=True)
    id: uuid.UUID
    temperature: Temperature | None = Field(
        None,
        description="prospects with an expected first-order date: hot (within a month), warm "
        "(within three), cold (later); computed from today's date",
    )
    version: int
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, customer: object, today: date) -> CustomerRead:
        """The read model of a row, with the prospect temperature as of ``today``."""
        read = cls.model_validate(customer)
        read.temperature = prospect_temperature(read.lifecycle, read.expected_first_order_on, today)
        return read


# --- money -------------------------------------------------------------------------------------

# ISO 4217 codes the suite accepts (the active codes a Chinese B2B seller meets in practice).
CURRENCIES = frozenset(
    {
        "AED",
        "AUD",
        "BRL",
        "CAD",
        "CHF",
        "CNY",
        "CZK",
        "DKK",
        "EUR",
        "GBP",
        "HKD",
        "HUF",
        "IDR",
        "ILS",
        "INR",
        "JPY",
        "KRW",
        "KZT",
        "MOP",
        "MXN",
        "MYR",
        "NOK",
        "NZD",
        "PHP",
        "PKR",
        "PLN",
        "RUB",
        "SAR",
        "SEK",
        "SGD",
        "THB",
        "TRY",
        "TWD",
        "UAH",
        "USD",
        "VND",
        "ZAR",
    }
)

Money = Annotated[
    Decimal, BeforeValidator(ascii_digits_only), Field(max_digits=18, decimal_places=2, examples=["60000.00"])
]
PositiveMoney = Annotated[
    Decimal,
    BeforeValidator(ascii_digits_only),
    Field(gt=0, le=MAX_AMOUNT, max_digits=18, decimal_places=2, examples=["60000.00"]),
]
Fraction = Annotated[Decimal, Field(ge=0, le=1, max_digits=9, decimal_places=6)]


def _check_currency(value: str) -> str:
    if value not in CURRENCIES:
        raise ValueError(f"not a known ISO 4217 currency code: {value!r}")
    return value


Currency = Annotated[
    str, Field(min_length=3, max_length=3, pattern="^[A-Z]{3}$", examples=["CNY"]), AfterValidator(_check_currency)
]


# --- contracts ---------------------------------------------------------------------------------


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


# --- sales history -----------------------------------------------------------------------------


class SaleImportRow(BaseModel):
    model_config = STRICT
    customer_id: uuid.UUID
    sold_on: BusinessDate = Field(examples=["2026-01-10"])
    currency: Currency
    amount: PositiveMoney
    margin: Money | None = Field(None, description="gross margin of the sale; the value matrix uses it")
    reference: str | None = Field(None, min_length=1, max_length=100, description="unique, e.g. the ERP order number")


class SalesImport(BaseModel):
    """Historical sales to add, all or nothing."""

    model_config = ConfigDict(
        extra="forbid",
        str_strip_whitespace=True,
        json_schema_extra={
            "examples": [
                {
                    "rows": [
                        {
                            "customer_id": "3f2b8c1e-4d5a-4b6c-8d7e-9f0a1b2c3d4e",
                            "sold_on": "2025-06-30",
                            "currency": "CNY",
                            "amount": "12000.00",
                            "margin": "2400.00",
                            "reference": "ERP-88121",
                        }
                    ]
                }
            ]
        },
    )
    rows: list[SaleImportRow] = Field(min_length=1, max_length=5000)


class SalesImportResult(BaseModel):
    imported: int
    totals: dict[str, Decimal] = Field(description="imported amount per currency")


class SaleRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: uuid.UUID
    customer_id: uuid.UUID
    source: str = Field(description="invoice (from collections) or import")
    invoice_id: uuid.UUID | None
    reference: str | None
    sold_on: date
    currency: str
    amount: Decimal
    margin: Decimal | None
    paid_amount: Decimal
    last_paid_on: date | None


# --- complaints --------------------------------------------------------------------------------


class ComplaintCreate(BaseModel):
    """A complaint to record; one naming an invoice makes collections treat the invoice as disputed."""

    model_config = ConfigDict(
        extra="forbid",
        str_strip_whitespace=True,
        json_schema_extra={
            "examples": [
                {
                    "customer_id": "3f2b8c1e-4d5a-4b6c-8d7e-9f0a1b2c3d4e",
                    "category": "product_quality",
                    "description": "Batch 2026-02 arrived with cracked casings",
                    "invoice_id": "8a1c2d3e-4f50-4a6b-9c7d-8e9f0a1b2c3d",
                    "disputed_amount": "4800.00",
                    "currency": "CNY",
                }
            ]
        },
    )
    customer_id: uuid.UUID
    category: ComplaintCategory
    description: str = Field(min_length=1, max_length=4000)
    invoice_id: uuid.UUID | None = None
    disputed_amount: PositiveMoney | None = Field(None, description="null with an invoice: all of it is disputed")
    currency: Currency | None = Field(None, description="required with disputed_amount")
    note: str | None = Field(None, max_length=2000)


class ComplaintTransitionCreate(BaseModel):
    """The next step: the target state and what that step records (actor = the caller)."""

    model_config = ConfigDict(
        extra="forbid",
        str_strip_whitespace=True,
        json_schema_extra={
            "examples": [{"to": "assigned", "department": "Quality assurance"}, {"to": "closed", "rating": 4}]
        },
    )
    to: ComplaintState
    department: str | None = Field(None, max_length=200)
    cause: str | None = Field(None, max_length=4000)
    solution: str | None = Field(None, max_length=4000)
    reason: str | None = Field(None, max_length=4000)
    rating: int | None = Field(None, description="1-5, when closing")
    note: str | None = Field(None, max_length=2000)


class ComplaintStepRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    sequence: int
    from_state: ComplaintState | None
    to_state: ComplaintState
    actor: str
    at: datetime
    payload: dict[str, Any]


class OverdueInfo(BaseModel):
    due_at: datetime
    overdue_by_seconds: int
    waiting_for: list[ComplaintState]


class ComplaintRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: uuid.UUID
    customer_id: uuid.UUID
    category: ComplaintCategory
    description: str
    invoice_id: uuid.UUID | None
    disputed_amount: Decimal | None
    currency: str | None
    state: ComplaintState
    state_entered_at: datetime
    allowed_next_states: list[ComplaintState]
    due_at: datetime | None = Field(None, description="when the next step is due (null in a final state)")
    overdue: OverdueInfo | None = None
    history: list[ComplaintStepRead] = Field(
        default_factory=list, description="every step so far (on single-complaint responses; empty in lists)"
    )
    version: int
    created_at: datetime
    updated_at: datetime


# --- analyses ----------------------------------------------------------------------------------


class PeriodRead(BaseModel):
    period_from: date
    period_to: date
    currency: str


class PyramidEntryRead(BaseModel):
    rank: int
    customer_id: uuid.UUID
    revenue: Decimal
    share: Decimal
    tier: str


class PyramidTierRead(BaseModel):
    tier: str
    customers: int
    revenue: Decimal
    share: Decimal


class PyramidRead(PeriodRead):
    cuts: dict[str, Decimal]
    total_revenue: Decimal
    tiers: list[PyramidTierRead]
    entries: list[PyramidEntryRead]


class AbcEntryRead(BaseModel):
    rank: int
    customer_id: uuid.UUID
    revenue: Decimal
    share: Decimal
    cumulative_share: Decimal
    abc_class: str


class AbcClassRead(BaseModel):
    abc_class: str
    customers: int
    revenue: Decimal
    share: Decimal


class AbcRead(PeriodRead):
    cuts: dict[str, Decimal]
    total_revenue: Decimal
    classes: list[AbcClassRead]
    entries: list[AbcEntryRead]


class ValueMatrixEntryRead(BaseModel):
    customer_id: uuid.UUID
    current_value: Decimal
    future_value: Decimal
    current_level: str
    future_level: str
    value_class: str
    strategy: str


class ValueMatrixRead(PeriodRead):
    cuts: dict[str, Decimal]
    assumptions: dict[str, Decimal | int]
    counts: dict[str, int]
    entries: list[ValueMatrixEntryRead]


class ClvGroup(BaseModel):
    model_config = STRICT
    group: str = Field(min_length=1, max_length=100, examples=["key accounts"])
    initial_customers: int = Field(gt=0, le=10_000_000, examples=[1000])
    revenue_per_customer: Money | list[Money] = Field(
        examples=["1000.00"], description="one amount for every year, or one per year"
    )
    cost_per_customer: Money | list[Money] = Field(examples=["600.00"])
    retention_rate: Fraction | list[Fraction] = Field(examples=["0.8"], description="one rate or one per year")
    discount_rate: Annotated[Decimal, Field(ge=0, le=10, max_digits=9, decimal_places=6, examples=["0.1"])]
    horizon_years: int = Field(ge=1, le=100, examples=[5])


class ClvRequest(BaseModel):
    """Customer groups and their yearly economics (Dwyer's retention model)."""

    model_config = ConfigDict(
        extra="forbid",
        str_strip_whitespace=True,
        json_schema_extra={
            "examples": [
                {
                    "currency": "CNY",
                    "groups": [
                        {
                            "group": "key accounts",
                            "initial_customers": 1000,
                            "revenue_per_customer": "1000.00",
                            "cost_per_customer": "600.00",
                            "retention_rate": "0.8",
                            "discount_rate": "0.1",
                            "horizon_years": 5,
                        }
                    ],
                }
            ]
        },
    )
    currency: Currency
    groups: list[ClvGroup] = Field(min_length=1, max_length=50)


class ClvYearRead(BaseModel):
    year: int
    customers: Decimal
    retention_rate: Decimal | None
    revenue: Decimal
    cost: Decimal
    profit: Decimal
    discount_factor: Decimal
    npv: Decimal
    cumulative_npv: Decimal
    cumulative_clv_per_customer: Decimal


class ClvGroupRead(BaseModel):
    group: str
    initial_customers: int
    clv_per_customer: Decimal
    retention_multiple: Decimal | None = Field(
        None, description="r / (1 + i - r) to 4 places, when one retention rate is given"
    )
    years: list[ClvYearRead]
    measured: dict[str, Any] | None = Field(
        None, description="GET only: the figures measured from the sales history that fed the table"
    )


class ClvRead(BaseModel):
    currency: str
    groups: list[ClvGroupRead]


class ClvGroupBy(StrEnum):
    kind = "kind"
    channel_role = "channel_role"
    region = "region"
    industry = "industry"
    segment = "segment"


class ClvMeasuredRead(ClvRead):
    group_by: ClvGroupBy
    as_of: date
    skipped: list[str] = Field(
        default_factory=list, description="groups without buyers in the previous year: retention unknown"
    )


class LoyaltyEntryRead(BaseModel):
    customer_id: uuid.UUID
    lifecycle: str
    purchase_count: int
    total_amount: Decimal
    average_amount: Decimal | None
    first_purchase_on: date | None
    last_purchase_on: date | None
    days_since_last_purchase: int | None
    purchases_per_year: Decimal
    is_repeat_customer: bool


class LoyaltyRead(PeriodRead):
    customers: int
    repeat_purchase_rate: Decimal
    entries: list[LoyaltyEntryRead]


class LapseSweep(BaseModel):
    """Move active customers without a purchase in more than ``days`` days (as of ``as_of``) to lapsed."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"as_of": "2026-03-01", "days": 180}]})
    as_of: date
    days: int = Field(ge=1, le=3650)


class LapseSweepResult(BaseModel):
    as_of: date
    days: int
    lapsed: list[uuid.UUID]


# --- overview ----------------------------------------------------------------------------------


class OverviewAlert(BaseModel):
    kind: str = Field(examples=["servqual_below_threshold"])
    at: datetime
    details: dict[str, Any]


class CustomerOverviewRead(CustomerRead):
    """Registry data plus what credit, collections and survey last reported about the customer."""

    credit_grade: str | None = None
    credit_score: Decimal | None = None
    credit_limit: Decimal | None = None
    credit_limit_currency: str | None = None
    credit_hold: bool = False
    credit_hold_reasons: list[str] = Field(default_factory=list)
    open_receivables: Decimal | None = None
    overdue_amount: Decimal | None = None
    receivables_currency: str | None = None
    oldest_overdue_days: int | None = None
    collection_stage: str | None = Field(None, description="highest stage among the open collection cases")
    servqual_weighted_gap: Decimal | None = None
    servqual_unweighted_gap: Decimal | None = None
    servqual_measured_at: datetime | None = None
    open_complaints: int = 0
    last_purchase_on: date | None = None
    alerts: list[OverviewAlert] = Field(default_factory=list)
