"""Settings of the survey service: env prefix CREDITFLOW_SURVEY_."""

from __future__ import annotations

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import SettingsConfigDict

from shared.settings import ServiceSettings

EMBEDDED_INVITATION_SECRET = "creditflow-embedded-invitation-secret-change-me"


class SurveySettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="CREDITFLOW_SURVEY_", extra="ignore")
    service_name = "survey"

    invitation_secret: SecretStr = Field(
        SecretStr(EMBEDDED_INVITATION_SECRET),
        description="HMAC-SHA256 key signing respondent invitation tokens; production refuses the default",
    )
    invitation_ttl_hours: int = Field(
        336, ge=1, le=24 * 366, description="how long an invitation link stays valid (capped at the campaign's close)"
    )
    reminders_enabled: bool = Field(
        False, description="run the periodic reminder job (reminds unused, unexpired invitations of open campaigns)"
    )
    reminder_interval_hours: int = Field(
        72,
        ge=1,
        le=24 * 366,
        description="the reminder job (run hourly) reminds an invitation again once its last contact (its issue "
        "or its last reminder) is at least this many hours old",
    )

    @model_validator(mode="after")
    def _enforce_non_default_invitation_secret(self) -> SurveySettings:
        if self.profile == "production" and self.invitation_secret.get_secret_value() == EMBEDDED_INVITATION_SECRET:
            raise ValueError(
                "profile=production needs INVITATION_SECRET set to a real secret; "
                "the embedded default secret is refused"
            )
        return self
