"""JSON logs with the request id, request metrics, and the middleware that sets both up."""

from __future__ import annotations

import json
import logging
import sys
import time
from typing import Any, cast

import structlog
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared import metrics
from shared.context import new_request_id, new_traceparent, request_id_var, traceparent_var, valid_traceparent
from shared.tracing import current_traceparent

_service: dict[str, str] = {}


def _add_context(_logger: Any, _method: str, event_dict: dict[str, Any]) -> dict[str, Any]:
    """Every line says which service wrote it, for which request, in which trace and span."""
    if "service" in _service:
        event_dict.setdefault("service", _service["service"])
    if (rid := request_id_var.get()) is not None:
        event_dict.setdefault("request_id", rid)
    if (tp := current_traceparent() or traceparent_var.get()) is not None:
        _version, trace_id, span_id, _flags = tp.split("-")
        event_dict.setdefault("trace_id", trace_id)
        event_dict.setdefault("span_id", span_id)
    return event_dict


class _Formatter(structlog.stdlib.ProcessorFormatter):
    """structlog's formatter, without its per-record copying for the plain records of the standard library.

    A record of a stdlib logger without a traceback (every access line) runs through the same processors with
    the same arguments, on the record itself rather than a copy: the processors only read it, so the line is
    the same, for a third of the formatter's time. Anything else takes structlog's own path.
    """

    def format(self, record: logging.LogRecord) -> str:
        if record.exc_info or record.stack_info or hasattr(record, "_logger") or self.pass_foreign_args:
            return super().format(record)
        method = record.levelname.lower()
        ed: Any = {"event": record.getMessage(), "_record": record, "_from_structlog": False}
        for processor in self.foreign_pre_chain or ():
            ed = processor(self.logger, method, ed)
        for processor in self.processors:
            ed = processor(self.logger, method, ed)
        return cast(str, ed)


_SHARED_PROCESSORS: list[Any] = [
    structlog.contextvars.merge_contextvars,
    structlog.stdlib.add_log_level,
    structlog.stdlib.add_logger_name,
    structlog.processors.TimeStamper(fmt="iso", utc=True),
    _add_context,
    structlog.stdlib.ExtraAdder(),
]


def _json_renderer() -> structlog.processors.JSONRenderer:
    """structlog's JSON renderer with one encoder for every line: ``json.dumps`` given keyword arguments (the
    fallback for other types) builds an encoder per call, a third of the rendering; the same arguments
    render the same text."""
    arguments = structlog.processors.JSONRenderer()._dumps_kw
    encoder = json.JSONEncoder(**arguments)

    def render(event_dict: Any, **_arguments: Any) -> str:
        return encoder.encode(event_dict)

    return structlog.processors.JSONRenderer(serializer=render)


def log_formatter(json_logs: bool = True) -> structlog.stdlib.ProcessorFormatter:
    """The formatter of every log line: JSON (or console) with the service, request, trace and extra fields."""
    renderer: Any = _json_renderer() if json_logs else structlog.dev.ConsoleRenderer()
    return _Formatter(
        foreign_pre_chain=_SHARED_PROCESSORS,
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,
            renderer,
        ],
    )


def configure_logging(service: str, level: str = "INFO", json_logs: bool = True) -> None:
    """Route stdlib and structlog records through one JSON (or console) renderer on stdout."""
    _service["service"] = service  # one service per process; contextvars bound here do not reach requests
    formatter = log_formatter(json_logs)
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers = [handler]
    root.setLevel(level.upper())
    for noisy in ("aiokafka", "kafka"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    structlog.configure(
        processors=[*_SHARED_PROCESSORS, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    structlog.contextvars.bind_contextvars(service=service)


def route_template(scope: Scope) -> str:
    """The route template a request addressed, found again when an error left routing unfinished."""
    from fastapi import routing
    from starlette.routing import Match

    app = scope.get("app")
    candidates = routing.iter_route_contexts(getattr(app, "routes", []))
    partial = None
    for candidate in candidates:
        try:
            match, _child = candidate.matches(scope)
        except Exception:  # a route that cannot even be matched against this scope
            continue
        if match is Match.FULL:
            return str(candidate.path_format)
        if match is Match.PARTIAL and partial is None:
            partial = str(candidate.path_format)  # the path exists, the method does not (405)
    return partial or "unmatched"


class RequestContextMiddleware:
    """Request id and traceparent in, echoed out, in logs and Kafka headers; request metrics."""

    def __init__(self, app: ASGIApp, service: str) -> None:
        self.app = app
        self.service = service
        self.log = logging.getLogger("creditflow.access")
        # (method, route, status) -> the request counter's and the latency histogram's children of those labels:
        # looking them up by their label values cost 27 µs a request, against 4 µs from this dict (timeit).
        self._metrics: dict[tuple[str, str, int], tuple[Any, Any]] = {}

    def _labelled(self, method: str, route_path: str, status: int) -> tuple[Any, Any]:
        if len(self._metrics) >= 4096:  # clients choose the methods: bounded, as the labels are not
            self._metrics.clear()
        counted = self._metrics[(method, route_path, status)] = (
            metrics.HTTP_REQUESTS.labels(self.service, method, route_path, str(status)),
            metrics.HTTP_LATENCY.labels(self.service, method, route_path),
        )
        return counted

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        sent_request_id = sent_traceparent = None
        for name, value in scope["headers"]:  # the last of a repeated header counts
            name = name.lower()
            if name == b"x-request-id":
                sent_request_id = value
            elif name == b"traceparent":
                sent_traceparent = value
        request_id = (sent_request_id.decode("latin-1") if sent_request_id else "")[:128] or new_request_id()
        # With tracing on, the server span (opened outside this middleware) is the request's context.
        traceparent = (
            current_traceparent()
            or valid_traceparent(sent_traceparent.decode("latin-1") if sent_traceparent is not None else None)
            or new_traceparent()
        )
        rid_token = request_id_var.set(request_id)
        tp_token = traceparent_var.set(traceparent)
        started = time.perf_counter()
        status_holder = {"status": 500}

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                status_holder["status"] = message["status"]
                status_holder["started"] = 1
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], (b"x-request-id", request_id.encode("latin-1"))]
            await send(message)

        try:
            await self.app(scope, receive, send_with_headers)
        except Exception:
            # Answered here, not by Starlette's outermost error middleware: there the request id is
            # already gone from the context, the header and the log line.
            self.log.exception("unhandled error")
            if status_holder.get("started"):
                raise
            from starlette.requests import Request

            from shared.problems import problem_response

            response = problem_response(
                Request(scope),
                500,
                "internal-error",
                "Internal error",
                "The service failed to handle the request; it has been logged.",
            )
            await response(scope, receive, send_with_headers)
        finally:
            elapsed = time.perf_counter() - started
            route_path = getattr(scope.get("route"), "path", None) or route_template(scope)
            method = scope.get("method", "GET")
            status = status_holder["status"]
            counted = self._metrics.get((method, route_path, status))
            if counted is None:
                counted = self._labelled(method, route_path, status)
            counted[0].inc()
            counted[1].observe(elapsed)
            if route_path not in ("/livez", "/readyz", "/metrics") and self.log.isEnabledFor(logging.INFO):
                # The record made here: ``info`` would first walk the stack for the caller's file and line (a
                # quarter of the line's cost), which no line renders.
                duration_ms = round(elapsed * 1000, 2)
                access = {"method": method, "path": scope.get("path"), "status": status, "duration_ms": duration_ms}
                self.log.handle(
                    self.log.makeRecord(
                        self.log.name, logging.INFO, __file__, 0, "request", (), None, "__call__", access
                    )
                )
            request_id_var.reset(rid_token)
            traceparent_var.reset(tp_token)
