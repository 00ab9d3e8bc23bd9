"""Settings of the customers service: env prefix CREDITFLOW_CUSTOMERS_."""

from __future__ import annotations

from pydantic_settings import SettingsConfigDict

from shared.settings import ServiceSettings


class CustomersSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="CREDITFLOW_CUSTOMERS_", extra="ignore")
    service_name = "customers"
