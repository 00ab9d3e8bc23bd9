"""Sales history: imports and the sales read back."""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field

from services.customers.schemas.customers import STRICT
from shared.currency import Currency
from shared.inputs import BusinessDate
from shared.money import Money, PositiveMoney


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
