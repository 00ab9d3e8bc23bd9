"""Settings of the credit service: env prefix CREDITFLOW_CREDIT_."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from shared.settings import ServiceSettings


class CreditSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="CREDITFLOW_CREDIT_", extra="ignore")
    service_name = "credit"

    default_currency: str = Field(
        "CNY", min_length=3, max_length=3, description="currency of a profile before its first assessment"
    )
    count_approved_checks_as_orders: bool = Field(
        False,
        description="add the amount of each approved credit check to the customer's open orders (exposure)"
        " until collections reports the invoice; off by default because order systems may re-check the same order",
    )
    dso_simple_period_days: int = Field(90, gt=0, description="period of credit sales for the simple DSO")
    dso_countback_months: int = Field(12, gt=0, description="months of sales history the countback DSO may walk")
