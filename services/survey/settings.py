"""Settings of the survey service: env prefix CREDITFLOW_SURVEY_."""

from __future__ import annotations

from pydantic_settings import SettingsConfigDict

from shared.settings import ServiceSettings


class SurveySettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="CREDITFLOW_SURVEY_", extra="ignore")
    service_name = "survey"
