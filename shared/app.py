"""The service application factory: one FastAPI app per service with the suite's machinery wired in.

A service gives a ``ServiceSpec`` (its routers, its event handlers, its periodic jobs); the factory
adds problem+json errors, auth, request context and metrics middleware, health endpoints, and a
lifespan that opens the database and runs the outbox relay, the inbox consumer and the jobs.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import BaseModel, Field
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from shared import metrics, tracing
from shared.auth import TokenVerifier
from shared.clock import Clock, SystemClock
from shared.consumer import HandlerMap, InboxConsumer
from shared.cors import install_cors
from shared.db import Database
from shared.docs_ui import install_docs
from shared.edge import EdgeLimitsMiddleware
from shared.fast_reads import FastRead, FastReadMiddleware
from shared.intake import Intake
from shared.kafka import ensure_topics, suite_topics
from shared.observability import RequestContextMiddleware, configure_logging
from shared.openapi import install_openapi, operation_id
from shared.outbox import OutboxRelay
from shared.problems import RejectNulMiddleware, install_problem_handlers
from shared.settings import ServiceSettings
from shared.tables import outbox

log = logging.getLogger(__name__)


@dataclass
class PeriodicJob:
    """A job run every ``interval_seconds`` by one replica at a time (its own lease)."""

    name: str
    interval_seconds: Callable[[ServiceSettings], float]
    run: Callable[[Runtime], Awaitable[Any]]
    enabled: Callable[[ServiceSettings], bool] = lambda _settings: True
    # False: every replica runs it (the job claims its own units of work, e.g. a lease per row).
    exclusive: bool = True


@dataclass
class ServiceSpec:
    name: str
    title: str
    description: str
    routers: Sequence[APIRouter]
    handlers: HandlerMap = field(default_factory=dict)
    jobs: Sequence[PeriodicJob] = ()
    # Topics other systems publish that the service applies (shared/intake.py), from its settings.
    intakes: Callable[[ServiceSettings], Sequence[Intake]] = lambda _settings: ()
    # Gauges of the service's own tables, set from the database at each scrape of /metrics.
    measure: Callable[[AsyncSession, ServiceSettings], Awaitable[None]] | None = None
    version: str = "1.0.0"
    # Hot GETs by id answered without FastAPI's routing when they can be answered exactly as the route does.
    fast_reads: Sequence[FastRead] = ()
    tag_descriptions: dict[str, str] = field(default_factory=dict)


@dataclass
class Runtime:
    """What a running service holds: settings, database, clock, and its background workers."""

    settings: ServiceSettings
    db: Database
    clock: Clock
    relay: OutboxRelay
    consumer: InboxConsumer
    tasks: list[asyncio.Task[Any]] = field(default_factory=list)
    extras: dict[str, Any] = field(default_factory=dict)


def runtime_of(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


async def get_runtime(request: Request) -> Runtime:
    # async: FastAPI runs a plain def dependency in the thread pool, a hop that cost more than the query
    return runtime_of(request)


async def _session(request: Request) -> AsyncIterator[AsyncSession]:
    # scope="function": the transaction commits when the endpoint returns, before the response is
    # sent, so a failed commit becomes an error response and never a false 2xx. Reads (GET, HEAD)
    # take no write lock, so they never queue behind writers.
    read_only = request.method in ("GET", "HEAD")
    async with runtime_of(request).db.transaction(read_only=read_only) as session:
        yield session


async def _reads_by_key(request: Request) -> Runtime:
    # For a route that reads rows by key itself (Database.read_row, no Session): the runtime, and the
    # route is documented with the database's 503 as the routes with a Session are.
    return runtime_of(request)


async def _clock(request: Request) -> Clock:
    return runtime_of(request).clock


Session = Annotated[AsyncSession, Depends(_session, scope="function")]
ReadsByKey = Annotated[Runtime, Depends(_reads_by_key)]
ClockDep = Annotated[Clock, Depends(_clock)]
RuntimeDep = Annotated[Runtime, Depends(get_runtime)]


async def _broker_reachable(settings: ServiceSettings, wait_seconds: float = 1.5) -> bool:
    for server in settings.kafka_bootstrap_servers.split(","):
        host, _, port = server.strip().rpartition(":")
        try:
            _reader, writer = await asyncio.wait_for(
                asyncio.open_connection(host or "127.0.0.1", int(port)), wait_seconds
            )
        except (OSError, TimeoutError, ValueError):
            continue
        writer.close()
        with contextlib.suppress(Exception):
            await writer.wait_closed()
        return True
    return False


class Liveness(BaseModel):
    """The process answers."""

    status: Literal["ok"]


class Readiness(BaseModel):
    """Whether the service can do its work, and the check of each dependency."""

    status: Literal["ready", "not ready"]
    checks: dict[str, str] = Field(
        description="per dependency (database, broker): `ok`, or `down` with the reason",
        examples=[{"database": "ok", "broker": "ok"}],
    )


@functools.cache
def health_router(measure: Callable[[AsyncSession, ServiceSettings], Awaitable[None]] | None = None) -> APIRouter:
    """The probes and /metrics (one router per ``measure``: every app of a service shares its routes)."""
    router = APIRouter(tags=["operations"], generate_unique_id_function=operation_id)

    @router.get("/livez", operation_id="livez", summary="The process is alive (checks nothing else)")
    async def livez() -> Liveness:
        """Liveness probe: answers while the process runs; restart the container when it does not."""
        return Liveness(status="ok")

    @router.get(
        "/readyz",
        operation_id="readyz",
        summary="Database and broker reachable",
        response_model=Readiness,
        responses={503: {"description": "a dependency is down", "model": Readiness}},
    )
    async def readyz(runtime: RuntimeDep) -> JSONResponse:
        """Readiness probe: 200 when the database answers, the broker is reachable and no consumer is stuck."""
        checks: dict[str, str] = {}
        try:
            await asyncio.wait_for(runtime.db.ping(), 3)
            checks["database"] = "ok"
        except Exception as exc:
            checks["database"] = f"down: {type(exc).__name__}"
        checks["broker"] = "ok" if await _broker_reachable(runtime.settings) else "down"
        if runtime.consumer.retrying:
            # Events are waiting behind a transient failure: not ready until they flow again.
            checks["consumer"] = f"retrying: {runtime.consumer.retry_error}"
        ready = all(value == "ok" for value in checks.values())
        return JSONResponse(
            {"status": "ready" if ready else "not ready", "checks": checks}, status_code=200 if ready else 503
        )

    @router.get(
        "/metrics",
        operation_id="metrics",
        summary="Prometheus metrics",
        response_class=Response,
        responses={200: {"content": {"text/plain": {"schema": {"type": "string"}}}}},
    )
    async def metrics_endpoint(runtime: RuntimeDep, request: Request) -> Response:
        """Prometheus text format: HTTP, outbox, consumer and job metrics, labelled by service."""
        if runtime.settings.metrics_scope:
            await _require_scope(request, runtime.settings.metrics_scope)
        with contextlib.suppress(Exception):
            async with runtime.db.transaction(read_only=True) as session:
                pending, oldest = (
                    await session.execute(
                        select(func.count(), func.min(outbox.c.created_at)).where(outbox.c.published_at.is_(None))
                    )
                ).one()
                if measure is not None:
                    await measure(session, runtime.settings)
            service = runtime.settings.service
            metrics.OUTBOX_PENDING.labels(service).set(pending or 0)
            metrics.OUTBOX_OLDEST_AGE.labels(service).set(_age_seconds(oldest, runtime.clock) if oldest else 0)
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    return router


def _age_seconds(created_at: Any, clock: Clock) -> float:
    """Seconds since ``created_at`` by the service's clock (SQLite hands back naive UTC)."""
    from datetime import UTC

    if created_at.tzinfo is None:
        created_at = created_at.replace(tzinfo=UTC)
    age: float = (clock.now() - created_at).total_seconds()
    return max(age, 0.0)


async def _require_scope(request: Request, scope: str) -> None:
    """401 without a valid bearer token, 403 without ``scope`` (used where a route is optionally protected)."""
    from shared.auth import require_scope_of_request

    await require_scope_of_request(request, scope)


async def _run_job(job: PeriodicJob, runtime: Runtime) -> None:
    from shared.leases import Lease  # local: only jobs need it

    interval = job.interval_seconds(runtime.settings)
    lease = Lease(
        runtime.db,
        f"job:{runtime.settings.service}:{job.name}",
        runtime.relay.lease.holder,
        SystemClock(),
        _seconds(max(interval * 3, 30)),
    )
    while True:
        await asyncio.sleep(interval)
        try:
            if not job.exclusive or await lease.acquire():
                await job.run(runtime)
                metrics.JOB_RUNS.labels(runtime.settings.service, job.name, "ok").inc()
        except asyncio.CancelledError:
            raise
        except Exception:
            metrics.JOB_RUNS.labels(runtime.settings.service, job.name, "error").inc()
            log.exception("periodic job failed", extra={"job": job.name})


def _seconds(value: float) -> Any:
    from datetime import timedelta

    return timedelta(seconds=value)


def service_topics(spec: ServiceSpec, settings: ServiceSettings) -> dict[str, int]:
    """The topics a service creates at start-up: the suite's, its dead-letter topic and its intakes' topics."""
    return suite_topics(settings) | {intake.topic: settings.kafka_topic_partitions for intake in spec.intakes(settings)}


_SHUTDOWN_GRACE_SECONDS = 15.0


def create_service_app(
    spec: ServiceSpec, settings: ServiceSettings, clock: Clock | None = None, *, configure_logs: bool = True
) -> FastAPI:
    """Build the FastAPI app of one service."""
    clock = clock or SystemClock()
    intakes = spec.intakes(settings)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if configure_logs:
            configure_logging(settings.service, settings.log_level, settings.log_json)
        db = Database(
            settings.effective_database_url, pool_size=settings.database_pool_size, echo=settings.database_echo
        )
        for engine in db.engines:
            tracing.instrument_engine(engine, settings.service)
        # Operational timing (relay checks, leases) runs on real time; the injected clock is business time.
        runtime = Runtime(
            settings=settings,
            db=db,
            clock=clock,
            relay=OutboxRelay(db, settings, SystemClock()),
            consumer=InboxConsumer(db, settings, clock, spec.handlers, intakes),
        )
        app.state.runtime = runtime
        app.state.token_verifier = TokenVerifier(settings)
        if settings.kafka_create_topics and (settings.relay_enabled or settings.consumer_enabled):
            try:
                await asyncio.wait_for(ensure_topics(settings, service_topics(spec, settings)), 15)
            except Exception as exc:  # the broker may come later; the relay and consumer retry
                log.warning("could not create topics at start-up", extra={"error": repr(exc)})
        if settings.relay_enabled:
            runtime.tasks.append(asyncio.create_task(runtime.relay.run(), name="outbox-relay"))
        if settings.consumer_enabled and (spec.handlers or intakes):
            runtime.tasks.append(asyncio.create_task(runtime.consumer.run(), name="inbox-consumer"))
        for job in spec.jobs:
            if job.enabled(settings):
                runtime.tasks.append(asyncio.create_task(_run_job(job, runtime), name=f"job-{job.name}"))
        log.info("service started", extra={"port": settings.http_port, "database": db.dialect})
        try:
            yield
        finally:
            for task in runtime.tasks:
                task.cancel()
            if runtime.tasks:
                # Bounded: a task stuck in its clean-up (a commit the broker never answers) must not keep the
                # service from stopping; it is named in the log, and stopping the clients below ends it.
                done, stuck = await asyncio.wait(runtime.tasks, timeout=_SHUTDOWN_GRACE_SECONDS)
                for task in done:
                    if not task.cancelled():
                        task.exception()  # retrieved: a task that failed before was logged by its loop
                for task in stuck:
                    log.error("background task did not stop when cancelled", extra={"task": task.get_name()})
            await runtime.consumer.stop()
            await runtime.relay.stop()
            await db.dispose()
            log.info("service stopped")

    app = FastAPI(
        title=spec.title,
        description=spec.description,
        version=spec.version,
        lifespan=lifespan,
        generate_unique_id_function=operation_id,
        openapi_tags=[{"name": "operations", "description": "health and metrics"}],
        servers=[{"url": settings.public_base_url or "/", "description": spec.title}],
        docs_url=None,  # served by shared.docs_ui without a CDN
        redoc_url=None,
    )
    install_docs(app)
    app.state.settings = settings
    app.state.spec = spec
    install_openapi(app, {"operations": "Health probes and metrics", **spec.tag_descriptions})
    install_problem_handlers(app)
    if spec.fast_reads:
        app.add_middleware(FastReadMiddleware, reads=tuple(spec.fast_reads))  # innermost: after auth and limits
    app.add_middleware(RejectNulMiddleware)
    app.add_middleware(EdgeLimitsMiddleware, settings=settings)  # size, time, auth and rate before parsing
    app.add_middleware(RequestContextMiddleware, service=settings.service)
    install_cors(app, settings)  # outermost: preflights are answered before auth, and errors carry CORS headers
    add_routes(app, health_router(spec.measure))
    for router in spec.routers:
        add_routes(app, router)
    tracing.instrument_app(app, settings.service)
    return app


def add_routes(app: FastAPI, router: APIRouter) -> None:
    """The router's routes, built once where they are defined, go into the app as they are.

    ``include_router`` (FastAPI 0.163) wraps a router so that every app rebuilds each route's fields and
    validators on its first request: about half a second of CPU per app, and a walk through the wrapper on
    every request. The routers here carry their own prefix, tags, responses and operationIds
    (``shared.openapi.api_router``) and the app adds nothing to them, so the routes need no per-app copy.
    """
    if router.on_startup or router.on_shutdown:
        raise ValueError("a service router has no start-up or shutdown handlers: the app's lifespan runs them")
    app.router.routes.extend(router.routes)
