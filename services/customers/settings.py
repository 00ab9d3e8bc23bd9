"""Settings of the customers service: env prefix CREDITFLOW_CUSTOMERS_."""

from __future__ import annotations

from decimal import Decimal

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from shared.settings import ServiceSettings


class CustomersSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="CREDITFLOW_CUSTOMERS_", extra="ignore")
    service_name = "customers"

    default_currency: str = Field(
        "CNY", min_length=3, max_length=3, description="currency of the analyses when the request names none"
    )
    lapse_sweep_enabled: bool = Field(True, description="run the periodic lapse detection")
    lapse_sweep_interval_seconds: float = Field(86400.0, gt=0, description="how often lapse detection runs")
    lapse_after_days: int = Field(180, ge=1, description="an active customer with no purchase for longer lapses")
    value_matrix_current_high_from: Decimal | None = Field(
        None, gt=0, description="default cut: current value (12 months' margin) at or above this is high"
    )
    value_matrix_future_high_from: Decimal | None = Field(
        None, gt=0, description="default cut: future value at or above this is high"
    )
    value_matrix_future_medium_from: Decimal | None = Field(
        None, gt=0, description="default cut: future value at or above this (below high) is medium"
    )
    value_matrix_margin_rate: Decimal = Field(
        Decimal("0.20"), ge=0, le=1, description="margin assumed for sales recorded without one (invoices)"
    )
