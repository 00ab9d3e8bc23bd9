"""JWT bearer auth with scopes: no or bad token -> 401, valid token without the scope -> 403."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Annotated, Any

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
    "collections:backdate",
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
    """Verifies tokens: RS256 with keys from a JWKS URL (https) in production, else HS256 with the secret
    (no ``kid``) or the key of ``jwt_keys`` the token's ``kid`` names. Every token must carry this service's
    ``aud``, an ``iat``, and live no longer than ``jwt_max_lifetime_seconds``."""

    CACHE_SECONDS = 30.0
    CACHE_SIZE = 1024

    def __init__(self, settings: ServiceSettings) -> None:
        self.settings = settings
        self._jwks = jwt.PyJWKClient(settings.jwt_jwks_url, cache_keys=True) if settings.jwt_jwks_url else None
        # token -> (principal, monotonic deadline): a client sends the same token with every request,
        # and verifying its signature and claims cost more than the query of a GET by id.
        self._verified: dict[str, tuple[Principal, float]] = {}

    def verify(self, token: str) -> Principal:
        """The token's principal; a verified token is remembered for up to 30 s, never past its expiry."""
        cached = self._verified.get(token)
        if cached is not None and cached[1] > time.monotonic():
            return cached[0]
        principal, expires_at = self._verify(token)
        if len(self._verified) >= self.CACHE_SIZE:
            self._verified.clear()
        ttl = min(self.CACHE_SECONDS, expires_at - time.time())
        if ttl > 0:
            self._verified[token] = (principal, time.monotonic() + ttl)
        return principal

    def _verify(self, token: str) -> tuple[Principal, float]:
        try:
            if self._jwks is not None:
                key: Any = self._jwks.get_signing_key_from_jwt(token).key
                algorithms = ["RS256"]
            else:
                key, algorithms = self._hs256_key(jwt.get_unverified_header(token).get("kid")), ["HS256"]
            claims = jwt.decode(
                token,
                key,
                algorithms=algorithms,
                issuer=self.settings.jwt_issuer,
                audience=self.settings.expected_audience,
                options={"require": ["exp", "iat", "sub", "aud"]},
            )
        except jwt.PyJWTError as exc:
            raise Unauthorized(f"invalid token: {exc}", headers=_CHALLENGE) from exc
        if claims["exp"] - claims["iat"] > self.settings.jwt_max_lifetime_seconds:
            raise Unauthorized(
                f"invalid token: it lives longer than {self.settings.jwt_max_lifetime_seconds} s", headers=_CHALLENGE
            )
        scope = claims.get("scope", "")
        if isinstance(scope, str):
            scopes = scope.split()
        elif isinstance(scope, list) and all(isinstance(item, str) for item in scope):
            scopes = scope
        else:
            raise Unauthorized("invalid token: scope must be a space-separated string", headers=_CHALLENGE)
        if not isinstance(claims["sub"], str) or not claims["sub"]:
            raise Unauthorized("invalid token: sub must be a non-empty string", headers=_CHALLENGE)
        return Principal(subject=claims["sub"], scopes=frozenset(scopes)), float(claims["exp"])

    def _hs256_key(self, kid: Any) -> str:
        if kid is None:
            return self.settings.jwt_secret.get_secret_value()
        secret = self.settings.jwt_keys.get(kid) if isinstance(kid, str) else None
        if secret is None:
            raise jwt.InvalidKeyError(f"unknown key id {kid!r}")
        return secret.get_secret_value()


def suite_audiences(settings: ServiceSettings) -> list[str]:
    """The audiences of every service of the suite (this one's as configured): what a local token carries."""
    from shared.settings import SERVICE_PORTS

    return sorted({settings.expected_audience, *(f"creditflow-{name}" for name in SERVICE_PORTS)})


def mint_token(
    settings: ServiceSettings,
    scopes: list[str],
    *,
    subject: str = "creditflow-cli",
    now: datetime,
    ttl: timedelta = timedelta(hours=12),
    audiences: list[str] | None = None,
) -> str:
    """An HS256 token for local use (the CLI and tests); refuses a lifetime the services would refuse."""
    if ttl.total_seconds() > settings.jwt_max_lifetime_seconds:
        raise ValueError(f"a token may live at most {settings.jwt_max_lifetime_seconds} s (jwt_max_lifetime_seconds)")
    if ttl.total_seconds() <= 0:
        raise ValueError("a token's lifetime must be positive")
    claims = {
        "sub": subject,
        "iss": settings.jwt_issuer,
        "aud": audiences or suite_audiences(settings),
        "scope": " ".join(scopes),
        "iat": int(now.timestamp()),
        "exp": int((now + ttl).timestamp()),
    }
    if settings.jwt_signing_kid is not None:
        key = settings.jwt_keys[settings.jwt_signing_kid].get_secret_value()
        return jwt.encode(claims, key, algorithm="HS256", headers={"kid": settings.jwt_signing_kid})
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
