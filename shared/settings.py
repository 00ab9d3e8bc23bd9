"""Settings shared by every service: one pydantic-settings object per service, env prefix per service.

``CREDITFLOW_<SERVICE>_DATABASE_URL``, ``CREDITFLOW_<SERVICE>_KAFKA_BOOTSTRAP_SERVERS`` ... The embedded
profile (the default) runs on SQLite files under ``var/`` and the local broker on 127.0.0.1:9092.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import ClassVar, Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

EMBEDDED_JWT_SECRET = "creditflow-embedded-secret-change-me"
MIN_HS256_SECRET_BYTES = 32
ORIGIN = re.compile(r"https?://[^/\s:,]+(:\d{1,5})?")
BASE_URL = re.compile(r"https?://[^/\s]+(/\S*)?")
SERVICE_PORTS = {"customers": 8001, "credit": 8002, "collections": 8003, "survey": 8004}


class ServiceSettings(BaseSettings):
    """Settings every service has. Subclasses set ``service_name`` and their env prefix."""

    model_config = SettingsConfigDict(env_prefix="CREDITFLOW_", extra="ignore", frozen=False)
    service_name: ClassVar[str] = "service"

    profile: Literal["embedded", "dev", "production"] = Field(
        "embedded", description="embedded/dev allow the built-in JWT secret; production refuses it"
    )
    host: str = Field("127.0.0.1", description="interface uvicorn binds")
    port: int = Field(0, ge=0, le=65535, description="HTTP port; 0 means the service's default")
    data_dir: Path = Field(Path("var"), description="where the embedded profile keeps SQLite files")
    database_url: str = Field("", description="SQLAlchemy async URL; empty means SQLite under data_dir")
    database_pool_size: int = Field(10, ge=1)
    database_echo: bool = False

    kafka_bootstrap_servers: str = Field("127.0.0.1:9092", description="comma-separated host:port list")
    kafka_enable_idempotence: bool = Field(
        False, description="idempotent producer; the embedded broker does not support it"
    )
    kafka_security_protocol: Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"] = Field(
        "PLAINTEXT", description="SASL_SSL for a Strimzi TLS listener with SCRAM users"
    )
    kafka_sasl_mechanism: Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"] | None = Field(
        None, description="set with a SASL_* protocol; Strimzi's scram-sha-512 users need SCRAM-SHA-512"
    )
    kafka_sasl_username: str | None = None
    kafka_sasl_password: SecretStr | None = None
    kafka_ssl_cafile: Path | None = Field(
        None, description="PEM CA bundle the broker certificates are checked against (SSL/SASL_SSL); none: system CAs"
    )
    kafka_topic_partitions: int = Field(3, ge=1, description="partitions of topics the service creates")
    kafka_topic_replication_factor: int = Field(1, ge=1)
    kafka_create_topics: bool = Field(True, description="create own topics at start-up if missing")

    jwt_secret: SecretStr = Field(
        SecretStr(EMBEDDED_JWT_SECRET), description="HS256 secret (at least 32 bytes) of tokens without a kid"
    )
    jwt_keys: dict[str, SecretStr] = Field(
        default_factory=dict,
        description="HS256 secrets by key id (JSON object kid -> secret, each at least 32 bytes): tokens naming "
        "a kid are verified with that key, so keys can be rotated",
    )
    jwt_signing_kid: str | None = Field(None, description="the kid of jwt_keys that local tokens are signed with")
    jwt_issuer: str = "creditflow"
    jwt_audience: str | None = Field(
        None, description="the `aud` every token must carry for this service; none means creditflow-<service>"
    )
    jwt_max_lifetime_seconds: int = Field(
        86400, ge=60, description="longest accepted token lifetime (exp - iat); tokens without iat are refused"
    )
    jwt_jwks_url: str | None = Field(
        None, pattern=r"^https://", description="RS256 key set URL (https only); when set, HS256 is refused"
    )
    idempotency_ttl_hours: int = Field(
        24, ge=1, description="how long an Idempotency-Key is remembered (per caller) before it may be reused"
    )

    http_max_body_bytes: int = Field(4 * 1024 * 1024, ge=1024, description="largest request body; larger is 413")
    http_body_timeout_seconds: float = Field(
        30.0, gt=0, description="a request body must arrive within this time, else 408 (slow clients)"
    )
    http_rate_limit: str = Field(
        "1200/minute",
        description="requests per caller (token subject, else client address) and window, e.g. 600/minute; "
        "empty: no limit. Counted in memory per process",
    )
    http_limit_concurrency: int | None = Field(
        1000, ge=1, description="uvicorn: connections/tasks at once before answering 503; none: unlimited"
    )
    http_timeout_keep_alive_seconds: int = Field(5, ge=1, description="uvicorn: idle keep-alive connections close")
    http_max_header_bytes: int = Field(
        16 * 1024, ge=1024, description="uvicorn (h11): largest request line and headers; larger is refused"
    )
    metrics_scope: str | None = Field(
        None, description="when set, /metrics needs a bearer token with this scope (e.g. admin)"
    )

    cors_allowed_origins: str = Field(
        "", description="comma-separated browser origins (https://app.example.com) allowed to call; empty: CORS off"
    )
    public_base_url: str = Field(
        "", description="URL clients reach the service at, the `servers` entry of its OpenAPI; empty: `/`"
    )

    log_level: str = "INFO"
    log_json: bool = True

    relay_enabled: bool = True
    relay_poll_interval_seconds: float = Field(
        0.2, gt=0, description="fallback poll; the relay is woken by commits that wrote outbox rows"
    )
    relay_batch_size: int = Field(500, ge=1)
    relay_max_backoff_seconds: float = Field(30.0, gt=0)
    outbox_retention_hours: int = Field(168, ge=1, description="sent events kept for replay")
    relay_broker_check_interval_seconds: float = Field(
        10.0, gt=0, description="how often the relay checks that the broker still holds what it sent"
    )

    consumer_enabled: bool = True
    # Reached only under a backlog, where a fetch's fixed cost (the inbox statement, a handler's grouped reads, the
    # commit) is spread over more events; kept at 1,000 so a fetch's transaction stays short (its row locks).
    consumer_batch_size: int = Field(1000, ge=1)
    consumer_fetch_max_wait_ms: int = Field(
        10, ge=0, description="how long a fetch waits for records when none are there (event latency)"
    )
    consumer_retry_backoff_seconds: float = Field(
        0.2, ge=0, description="first wait before retrying a transiently failing event (then doubled)"
    )
    consumer_max_retry_backoff_seconds: float = Field(
        30.0, gt=0, description="longest wait between retries of a transiently failing event (retried forever)"
    )

    @property
    def service(self) -> str:
        return self.service_name

    @property
    def http_port(self) -> int:
        return self.port or SERVICE_PORTS.get(self.service_name, 8000)

    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{(self.data_dir / f'{self.service_name}.db').as_posix()}"

    @property
    def topic(self) -> str:
        """The topic this service produces to."""
        return f"creditflow.{self.service_name}"

    @property
    def dead_letter_topic(self) -> str:
        return f"creditflow.{self.service_name}.dlq"

    @property
    def consumer_group(self) -> str:
        return f"creditflow-{self.service_name}"

    @property
    def expected_audience(self) -> str:
        """The ``aud`` this service requires in every token."""
        return self.jwt_audience or f"creditflow-{self.service_name}"

    @model_validator(mode="after")
    def _enforce_strong_keys(self) -> ServiceSettings:
        for name, secret in [
            ("jwt_secret", self.jwt_secret),
            *((f"jwt_keys[{k}]", v) for k, v in self.jwt_keys.items()),
        ]:
            if len(secret.get_secret_value().encode()) < MIN_HS256_SECRET_BYTES:
                raise ValueError(f"{name} must be at least {MIN_HS256_SECRET_BYTES} bytes (HS256 needs 256 bits)")
        if self.jwt_signing_kid is not None and self.jwt_signing_kid not in self.jwt_keys:
            raise ValueError(f"jwt_signing_kid {self.jwt_signing_kid!r} is not a key of jwt_keys")
        return self

    @property
    def cors_origins(self) -> tuple[str, ...]:
        return tuple(origin.strip() for origin in self.cors_allowed_origins.split(",") if origin.strip())

    @field_validator("cors_allowed_origins")
    @classmethod
    def _origins_are_origins(cls, value: str) -> str:
        for origin in (item.strip() for item in value.split(",")):
            if origin and origin != "*" and not ORIGIN.fullmatch(origin):
                raise ValueError(f"{origin!r} is not an origin: scheme://host[:port], no path or trailing slash")
        return value

    @field_validator("public_base_url")
    @classmethod
    def _base_url_is_absolute_or_a_path(cls, value: str) -> str:
        if value and not (BASE_URL.fullmatch(value) or value.startswith("/")):
            raise ValueError(f"{value!r} is neither an http(s) URL nor a path")
        return value.rstrip("/") if len(value) > 1 else value

    @model_validator(mode="after")
    def _enforce_non_default_secret(self) -> ServiceSettings:
        if (
            self.profile == "production"
            and self.jwt_jwks_url is None
            and self.jwt_secret.get_secret_value() == EMBEDDED_JWT_SECRET
        ):
            raise ValueError(
                "profile=production needs JWT_SECRET set to a real secret or JWT_JWKS_URL; "
                "the embedded default secret is refused"
            )
        return self
