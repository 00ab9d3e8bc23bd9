"""Settings of the credit service: env prefix CREDITFLOW_CREDIT_."""

from __future__ import annotations

from pydantic_settings import SettingsConfigDict

from shared.settings import ServiceSettings


class CreditSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="CREDITFLOW_CREDIT_", extra="ignore")
    service_name = "credit"
