"""JWT bearer auth with scopes: no or bad token -> 401, valid token without the scope -> 403."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Annotated

import jwt
from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer, SecurityScopes

from shared.errors import Forbidden, Unauthorized
from shared.settings import ServiceSettings

ADMIN_SCOPE = "admin"
ALL_SCOPES = (
    "customers:read",
    "customers:write",
    "credit:read",
    "credit:write",
    "collections:read",
    "collections:write",
    "survey:read",
    "survey:write",
    ADMIN_SCOPE,
)
_bearer = HTTPBearer(auto_error=False, description="JWT with a space-separated `scope` claim")
_CHALLENGE = {"WWW-Authenticate": 'Bearer realm="creditflow"'}


@dataclass(frozen=True)
class Principal:
    subject: str
    scopes: frozenset[str]

    def has(self, scope: str) -> bool:
        return scope in self.scopes or ADMIN_SCOPE in self.scopes


class TokenVerifier:
    """Verifies tokens with the HS256 secret, or with RS256 keys from a JWKS URL in production."""

    def __init__(self, settings: ServiceSettings) -> None:
        self.settings = settings
        self._jwks = jwt.PyJWKClient(settings.jwt_jwks_url, cache_keys=True) if settings.jwt_jwks_url else None

    def verify(self, token: str) -> Principal:
        try:
            if self._jwks is not None:
                key = self._jwks.get_signing_key_from_jwt(token).key
                claims = jwt.decode(
                    token,
                    key,
                    algorithms=["RS256"],
                    issuer=self.settings.jwt_issuer,
                    audience=self.settings.jwt_audience,
                    options={"require": ["exp", "sub"], "verify_aud": bool(self.settings.jwt_audience)},
                )
            else:
                claims = jwt.decode(
                    token,
                    self.settings.jwt_secret.get_secret_value(),
                    algorithms=["HS256"],
                    issuer=self.settings.jwt_issuer,
                    audience=self.settings.jwt_audience,
                    options={"require": ["exp", "sub"], "verify_aud": bool(self.settings.jwt_audience)},
                )
        except jwt.PyJWTError as exc:
            raise Unauthorized(f"invalid token: {exc}", headers=_CHALLENGE) from exc
        scope = claims.get("scope", "")
        if isinstance(scope, str):
            scopes = scope.split()
        elif isinstance(scope, list) and all(isinstance(item, str) for item in scope):
            scopes = scope
        else:
            raise Unauthorized("invalid token: scope must be a space-separated string", headers=_CHALLENGE)
        if not isinstance(claims["sub"], str) or not claims["sub"]:
            raise Unauthorized("invalid token: sub must be a non-empty string", headers=_CHALLENGE)
        return Principal(subject=claims["sub"], scopes=frozenset(scopes))


def mint_token(
    settings: ServiceSettings,
    scopes: list[str],
    *,
    subject: str = "creditflow-cli",
    now: datetime,
    ttl: timedelta = timedelta(hours=12),
) -> str:
    """An HS256 token for local use (the CLI and tests)."""
    claims = {
        "sub": subject,
        "iss": settings.jwt_issuer,
        "scope": " ".join(scopes),
        "iat": int(now.timestamp()),
        "exp": int((now + ttl).timestamp()),
    }
    if settings.jwt_audience:
        claims["aud"] = settings.jwt_audience
    return jwt.encode(claims, settings.jwt_secret.get_secret_value(), algorithm="HS256")


async def current_principal(
    request: Request,
    security_scopes: SecurityScopes,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise Unauthorized("a Bearer token is required", headers=_CHALLENGE)
    principal: Principal = request.app.state.token_verifier.verify(credentials.credentials)
    missing = [scope for scope in security_scopes.scopes if not principal.has(scope)]
    if missing:
        raise Forbidden(f"this operation needs the scope {' '.join(missing)}")
    request.state.principal = principal
    return principal


def require(*scopes: str) -> Callable[..., Awaitable[Principal]]:
    """Dependency factory documenting the scopes in OpenAPI: ``Security(current_principal, scopes=[...])``."""
    from fastapi import Security

    async def dependency(
        principal: Annotated[Principal, Security(current_principal, scopes=list(scopes))],
    ) -> Principal:
        return principal

    return dependency


async def require_scope_of_request(request: Request, scope: str) -> Principal:
    """The caller of ``request`` when its bearer token verifies and has ``scope``; else 401 or 403."""
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("a Bearer token is required", headers=_CHALLENGE)
    principal: Principal = request.app.state.token_verifier.verify(token.strip())
    if not principal.has(scope):
        raise Forbidden(f"this operation needs the scope {scope}")
    return principal
