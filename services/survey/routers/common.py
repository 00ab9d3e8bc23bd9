"""What every survey router shares: scopes, the optional staff principal, settings, the rounding note."""

from __future__ import annotations

from typing import Annotated, cast

from fastapi import Depends, Request, Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from services.survey.settings import SurveySettings
from shared.app import RuntimeDep
from shared.auth import Principal, current_principal

Reader = Annotated[Principal, Security(current_principal, scopes=["survey:read"])]
Writer = Annotated[Principal, Security(current_principal, scopes=["survey:write"])]

_optional_bearer = HTTPBearer(auto_error=False, description="staff JWT (survey:write); not needed with a token")

ROUNDING = (
    "All scores are computed exactly (fractions) and presented as decimal strings rounded to "
    "4 decimal places, ROUND_HALF_UP (halves away from zero: 0.00005 → 0.0001, −0.00005 → −0.0001); "
    "nothing is rounded before the end, and verdicts are read on the presented values."
)


def settings_of(runtime: RuntimeDep) -> SurveySettings:
    """The survey settings of the running app."""
    return cast(SurveySettings, runtime.settings)


async def optional_principal(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_optional_bearer)],
) -> Principal | None:
    """The staff principal when a bearer token is sent, else None (respondents use their invitation token)."""
    if credentials is None or credentials.scheme.lower() != "bearer":
        return None
    principal: Principal = request.app.state.token_verifier.verify(credentials.credentials)
    return principal


async def _settings_dependency(runtime: RuntimeDep) -> SurveySettings:
    # async: FastAPI runs a plain def dependency in the thread pool, a hop per request
    return settings_of(runtime)


SettingsDep = Annotated[SurveySettings, Depends(_settings_dependency)]
OptionalPrincipal = Annotated[Principal | None, Depends(optional_principal)]
