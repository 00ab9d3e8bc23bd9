"""Tracing is off unless the OTEL_* variables ask for it; the event carries its trace context as the
CloudEvents extension; log lines carry the service, the trace and the span."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
from opentelemetry.sdk.trace import TracerProvider

from shared.cloudevents import from_kafka_record, to_kafka_message
from shared.context import traceparent_var
from shared.events.customers import CustomerRegistered
from shared.observability import _add_context, _service
from shared.tracing import enabled_by_environment

OTEL_VARIABLES = (
    "OTEL_SDK_DISABLED",
    "OTEL_TRACES_EXPORTER",
    "OTEL_EXPORTER_OTLP_ENDPOINT",
    "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
)


@pytest.mark.parametrize(
    ("environment", "enabled"),
    [
        ({}, False),
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318"}, True),
        ({"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://collector:4318/v1/traces"}, True),
        ({"OTEL_TRACES_EXPORTER": "otlp"}, True),
        ({"OTEL_TRACES_EXPORTER": "console"}, True),
        ({"OTEL_TRACES_EXPORTER": "none", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318"}, False),
        ({"OTEL_SDK_DISABLED": "true", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318"}, False),
    ],
)
def test_tracing_is_off_unless_the_standard_variables_ask(
    monkeypatch: pytest.MonkeyPatch, environment: dict[str, str], enabled: bool
) -> None:
    for name in OTEL_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    assert enabled_by_environment() is enabled


TRACEPARENT = "00-" + "c" * 32 + "-" + "d" * 16 + "-01"


def test_the_event_carries_its_trace_context_as_the_cloudevents_extension() -> None:
    event = CustomerRegistered(customer_id=uuid.uuid4(), name="Acme", kind="commercial", lifecycle="active")
    key, value, headers = to_kafka_message(
        event_id="e-1",
        event_type=event.event_type,
        source="/creditflow/customers",
        subject=None,
        occurred_at=datetime(2026, 1, 2, tzinfo=UTC),
        data=event.model_dump_json(),
        key=str(event.customer_id),
        extra_headers={"traceparent": "00-" + "a" * 32 + "-" + "b" * 16 + "-01"},
        traceparent=TRACEPARENT,
    )
    assert dict(headers)["ce_traceparent"] == TRACEPARENT.encode()
    envelope = from_kafka_record(topic="t", partition=0, offset=0, key=key, value=value, headers=headers)
    assert envelope.headers["traceparent"] == TRACEPARENT  # the extension wins over the transport header


def test_log_lines_carry_service_trace_and_span(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(_service, "service", "credit")
    token = traceparent_var.set(TRACEPARENT)
    try:
        line = _add_context(None, "info", {"event": "x"})
    finally:
        traceparent_var.reset(token)
    assert line["service"] == "credit" and line["trace_id"] == "c" * 32 and line["span_id"] == "d" * 16


def test_log_lines_name_the_span_in_progress_when_tracing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(_service, "service", "customers")
    tracer = TracerProvider().get_tracer("test")
    with tracer.start_as_current_span("work") as span:
        line = _add_context(None, "info", {"event": "x"})
    context = span.get_span_context()
    assert line["trace_id"] == f"{context.trace_id:032x}" and line["span_id"] == f"{context.span_id:016x}"


@pytest.mark.parametrize("json_logs", [True, False])
def test_a_log_line_is_the_one_structlog_formats(monkeypatch: pytest.MonkeyPatch, json_logs: bool) -> None:
    """The formatter's own path for plain stdlib records (every access line) writes structlog's line, field for
    field and in the same order; a record with a traceback, arguments or bound context variables too."""
    import json
    import logging
    import sys

    import structlog

    from shared.context import request_id_var
    from shared.observability import log_formatter

    monkeypatch.setitem(_service, "service", "customers")
    ours = log_formatter(json_logs)
    theirs = structlog.stdlib.ProcessorFormatter(foreign_pre_chain=ours.foreign_pre_chain, processors=ours.processors)
    logger = logging.getLogger("creditflow.access")
    try:
        raise ValueError("boom")
    except ValueError:
        failure = sys.exc_info()
    records = [
        logger.makeRecord(
            logger.name,
            logging.INFO,
            __file__,
            1,
            "request",
            (),
            None,
            extra={"method": "GET", "path": "/v1/customers/x", "status": 200, "duration_ms": 1.23},
        ),
        logger.makeRecord(logger.name, logging.WARNING, __file__, 1, "%s of %d", ("one", 2), None),
        logger.makeRecord(logger.name, logging.ERROR, __file__, 1, "unhandled error", (), failure),
    ]
    rid = request_id_var.set("req-1")
    structlog.contextvars.bind_contextvars(tenant="t-1")
    try:
        for record in records:
            lines = [ours.format(logging.makeLogRecord(record.__dict__)), theirs.format(record)]
            if json_logs:
                parsed = [json.loads(line) for line in lines]
                assert all(line.pop("timestamp") for line in parsed)
                assert list(parsed[0].items()) == list(parsed[1].items())
                assert parsed[0]["request_id"] == "req-1" and parsed[0]["tenant"] == "t-1"
            else:  # the console line starts with its timestamp
                assert lines[0].partition(" ")[2] == lines[1].partition(" ")[2]
    finally:
        structlog.contextvars.unbind_contextvars("tenant")
        request_id_var.reset(rid)


def test_the_json_renderer_writes_what_structlogs_own_writes() -> None:
    """One encoder for every line (shared.observability): the text of ``json.dumps`` with structlog's arguments."""
    from decimal import Decimal

    import structlog

    from shared.observability import _json_renderer

    class _Own:
        def __structlog__(self) -> str:
            return "own"

    ours, theirs = _json_renderer(), structlog.processors.JSONRenderer()
    events = [
        {"event": "request", "method": "GET", "path": "/v1/x", "status": 200, "duration_ms": 1.23},
        {"event": "naïve → 中文", "nested": {"a": [1, 2.5, None, True]}, "nan": float("nan")},
        {"event": "fallback", "amount": Decimal("10.00"), "when": datetime(2026, 3, 1, tzinfo=UTC), "own": _Own()},
    ]
    for event in events:
        assert ours(None, "info", dict(event)) == theirs(None, "info", dict(event))


async def test_the_access_line_is_the_record_info_would_make() -> None:
    """RequestContextMiddleware makes its access record itself (no stack walk): the same name, level, message,
    fields and source file as ``logger.info`` called there."""
    import logging

    from starlette.responses import Response

    from shared import observability

    records: list[logging.LogRecord] = []

    class _Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    async def app(scope: object, receive: object, send: object) -> None:
        await Response(b"{}", media_type="application/json")(scope, receive, send)  # type: ignore[arg-type]

    async def receive() -> dict[str, object]:
        return {"type": "http.request", "body": b""}

    async def send(_message: object) -> None:
        pass

    middleware = observability.RequestContextMiddleware(app, service="customers")
    handler = _Keep()
    middleware.log.addHandler(handler)
    level = middleware.log.level
    middleware.log.setLevel(logging.INFO)
    try:
        scope = {"type": "http", "method": "GET", "path": "/v1/x", "headers": [(b"x-request-id", b"rid-1")]}
        await middleware(scope, receive, send)
    finally:
        middleware.log.removeHandler(handler)
        middleware.log.setLevel(level)
    [record] = records
    assert (record.name, record.levelno, record.getMessage()) == ("creditflow.access", logging.INFO, "request")
    assert record.pathname == observability.__file__ and record.funcName == "__call__"
    fields = {name: getattr(record, name) for name in ("method", "path", "status")}
    assert fields == {"method": "GET", "path": "/v1/x", "status": 200}
    assert isinstance(record.duration_ms, float) and record.duration_ms >= 0  # type: ignore[attr-defined]
