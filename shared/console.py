"""The console's server: the built single-page app, a same-origin proxy to the services, and sign-in.

``/api/<service>/<path>`` is forwarded to that service (streamed, headers kept), so the browser talks to
one origin and no service needs CORS. ``/config.json`` tells the app how to sign in: ``dev`` (the
embedded/dev profiles: ``POST /auth/dev-token`` mints a short-lived HS256 token with chosen scopes) or
``oidc`` (authorization code + PKCE against the configured issuer; the dev endpoint is then refused).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
from pydantic import BaseModel, Field, model_validator
from pydantic_settings import SettingsConfigDict
from starlette.applications import Starlette
from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from shared.auth import ALL_SCOPES, mint_token
from shared.clock import Clock, SystemClock
from shared.problems import PROBLEM_JSON
from shared.registry import SERVICES, settings_class
from shared.settings import ServiceSettings

DEFAULT_DIST = Path(__file__).resolve().parents[1] / "console" / "dist"
# Hop-by-hop headers (RFC 9110 §7.6.1) and those httpx/uvicorn recompute.
_HOP = {
    "connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
    "host",
    "content-length",
    "date",
    "server",
}
NOT_BUILT = (
    "<!doctype html><html lang=en><meta charset=utf-8><title>Creditflow console</title>"
    "<h1>The console is not built</h1><p>Run <code>make console</code> (needs npm), then reload. "
    "The services and <code>/api/&lt;service&gt;/…</code> work without it.</p></html>"
)


class ConsoleSettings(ServiceSettings):
    """``CREDITFLOW_CONSOLE_*``: where the app is, where the services are, how users sign in."""

    model_config = SettingsConfigDict(env_prefix="CREDITFLOW_CONSOLE_", extra="ignore")
    service_name = "console"

    dist_dir: Path = Field(DEFAULT_DIST, description="the built console (npm run build in console/)")
    upstreams: dict[str, str] = Field(
        default_factory=dict, description="service -> base URL; default http://127.0.0.1:<the service's port>"
    )
    dev_token_ttl_minutes: int = Field(60, ge=1, le=720, description="lifetime of a development sign-in token")
    oidc_issuer: str | None = Field(None, description="OIDC issuer URL; when set the console signs in with OIDC")
    oidc_client_id: str = Field("creditflow-console", description="public client id registered at the issuer")
    oidc_scope: str = Field(
        "openid " + " ".join(ALL_SCOPES), description="scopes the console asks the issuer for (space-separated)"
    )

    @property
    def http_port(self) -> int:
        return self.port or 8000

    @model_validator(mode="after")
    def _enforce_non_default_secret(self) -> ConsoleSettings:
        """The console verifies no token and signs with the services' settings: nothing to enforce here."""
        return self

    @property
    def sign_in_mode(self) -> str:
        return "oidc" if self.oidc_issuer or self.jwt_jwks_url else "dev"

    def upstream(self, service: str) -> str:
        if service in self.upstreams:
            return self.upstreams[service].rstrip("/")
        return f"http://127.0.0.1:{settings_class(service)().http_port}"


class DevTokenRequest(BaseModel):
    scopes: list[str] = Field(min_length=1, max_length=len(ALL_SCOPES))
    subject: str = Field("console-user", min_length=1, max_length=100, pattern=r"^[\w.@-]+$")


def _problem(status: int, title: str, detail: str, errors: list[dict[str, str]] | None = None) -> JSONResponse:
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail, "errors": errors or []}
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON)


def create_console_app(
    settings: ConsoleSettings | None = None,
    *,
    signer: ServiceSettings | None = None,
    clock: Clock | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
) -> Starlette:
    """The console app; ``signer`` holds the JWT settings tokens are signed with (the services' own)."""
    settings = settings or ConsoleSettings()
    signer = signer or settings_class("customers")()
    clock = clock or SystemClock()
    client = httpx.AsyncClient(transport=transport, timeout=httpx.Timeout(60.0, connect=5.0))
    dist = settings.dist_dir

    async def config(_request: Request) -> Response:
        body: dict[str, Any] = {"mode": settings.sign_in_mode, "scopes": list(ALL_SCOPES), "services": SERVICES}
        if settings.sign_in_mode == "oidc":
            body["oidc"] = {
                "authority": settings.oidc_issuer,
                "client_id": settings.oidc_client_id,
                "scope": settings.oidc_scope,
            }
        return JSONResponse(body, headers={"Cache-Control": "no-store"})

    async def dev_token(request: Request) -> Response:
        if settings.profile == "production" or signer.profile == "production" or settings.sign_in_mode != "dev":
            return _problem(403, "Development sign-in is off", "this deployment signs in through its OIDC issuer")
        try:
            body = DevTokenRequest.model_validate_json(await request.body())
        except ValueError as exc:
            return _problem(422, "Invalid request", f"expected {{scopes: [...], subject?}}: {exc}")
        unknown = [s for s in body.scopes if s not in ALL_SCOPES]
        if unknown:
            errors = [{"field": "body.scopes", "message": f"unknown scope {s}"} for s in unknown]
            return _problem(422, "Invalid request", f"unknown scope(s) {', '.join(unknown)}", errors)
        ttl = timedelta(minutes=settings.dev_token_ttl_minutes)
        token = mint_token(signer, body.scopes, subject=body.subject, now=clock.now(), ttl=ttl)
        return JSONResponse(
            {
                "access_token": token,
                "token_type": "Bearer",
                "expires_in": int(ttl.total_seconds()),
                "scope": " ".join(body.scopes),
            },
            headers={"Cache-Control": "no-store"},
        )

    async def proxy(request: Request) -> Response:
        service = request.path_params["service"]
        if service not in SERVICES:
            return _problem(404, "Unknown service", f"no service {service!r}; one of {', '.join(SERVICES)}")
        url = f"{settings.upstream(service)}/{request.path_params['path']}"
        headers = [(k, v) for k, v in request.headers.items() if k.lower() not in _HOP]
        upstream = client.build_request(
            request.method, url, params=request.query_params, headers=headers, content=request.stream()
        )
        try:
            answer = await client.send(upstream, stream=True)
        except httpx.HTTPError as exc:
            return _problem(502, "Service unreachable", f"{service} did not answer: {type(exc).__name__}")
        kept = {k: v for k, v in answer.headers.items() if k.lower() not in _HOP}
        return StreamingResponse(
            _body(answer), status_code=answer.status_code, headers=kept, background=BackgroundTask(answer.aclose)
        )

    async def static(request: Request) -> Response:
        index = dist / "index.html"
        if not index.is_file():
            return HTMLResponse(NOT_BUILT, status_code=503)
        relative = request.path_params.get("path", "")
        candidate = (dist / relative).resolve()
        if relative and candidate.is_file() and candidate.is_relative_to(dist.resolve()):
            immutable = relative.startswith("assets/")
            cache = "public, max-age=31536000, immutable" if immutable else "no-cache"
            return FileResponse(candidate, headers={"Cache-Control": cache})
        if relative.startswith("api/"):
            return _problem(404, "Not found", f"no route /{relative}")
        # Client-side routes (/cases/…, /customers/…) all load the app.
        return FileResponse(index, headers={"Cache-Control": "no-cache"})

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        yield
        await client.aclose()

    routes = [
        Route("/config.json", config, methods=["GET"]),
        Route("/auth/dev-token", dev_token, methods=["POST"]),
        Route(
            "/api/{service}/{path:path}",
            proxy,
            methods=["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"],
        ),
        Route("/{path:path}", static, methods=["GET", "HEAD"]),
    ]
    return Starlette(routes=routes, lifespan=lifespan)


async def _body(answer: httpx.Response) -> AsyncIterator[bytes]:
    async for chunk in answer.aiter_raw():
        yield chunk


def serve_console() -> None:
    """Run the console server with uvicorn on its host and port."""
    import uvicorn

    settings = ConsoleSettings()
    uvicorn.run(create_console_app(settings), host=settings.host, port=settings.http_port, access_log=False)
