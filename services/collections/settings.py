"""Settings of the collections service: env prefix CREDITFLOW_COLLECTIONS_."""

from __future__ import annotations

from pydantic_settings import SettingsConfigDict

from shared.settings import ServiceSettings


class CollectionsSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="CREDITFLOW_COLLECTIONS_", extra="ignore")
    service_name = "collections"
