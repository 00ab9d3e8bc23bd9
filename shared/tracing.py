"""OpenTelemetry tracing: one trace from an HTTP request through the outbox relay to another service's handler.

Off by default. On when the standard variables ask for it (``OTEL_EXPORTER_OTLP_ENDPOINT``,
``OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`` or ``OTEL_TRACES_EXPORTER``; ``OTEL_SDK_DISABLED=true`` wins), in
which case spans go to OTLP/HTTP as those variables configure it; or when a host (a test) hands in its own
provider with ``tracing_to``. Instrumented: FastAPI (server spans), SQLAlchemy (one span per statement),
aiokafka (producer send, consumer fetch). Ours: the relay's publish span, whose parent is the request that
wrote the outbox row (its W3C ``traceparent`` is stored with the row), and the consumer's process span,
whose parent is the CloudEvents distributed-tracing extension ``traceparent`` (Kafka header
``ce_traceparent``) of the event.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from opentelemetry import propagate, trace
from opentelemetry.context import Context
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.trace import Link, Span, SpanKind

if TYPE_CHECKING:
    from shared.events.base import Envelope

_provider: TracerProvider | None = None
_kafka_instrumented = False
TRACER_NAME = "creditflow"


def enabled_by_environment() -> bool:
    """Whether the standard ``OTEL_*`` variables ask for traces."""
    if os.environ.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return False
    exporter = os.environ.get("OTEL_TRACES_EXPORTER", "").strip().lower()
    if exporter == "none":
        return False
    return bool(
        exporter
        or os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT")
        or os.environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
    )


def _provider_from_environment(service: str) -> TracerProvider:
    from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter, SpanExporter

    attributes = {"service.name": os.environ.get("OTEL_SERVICE_NAME") or f"creditflow-{service}"}
    provider = TracerProvider(resource=Resource.create(attributes))  # also reads OTEL_RESOURCE_ATTRIBUTES
    exporter: SpanExporter
    if os.environ.get("OTEL_TRACES_EXPORTER", "otlp").strip().lower() == "console":
        exporter = ConsoleSpanExporter()
    else:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        exporter = OTLPSpanExporter()  # endpoint, headers, timeout from OTEL_EXPORTER_OTLP_*
    provider.add_span_processor(BatchSpanProcessor(exporter))
    return provider


def tracer_provider(service: str) -> TracerProvider | None:
    """The provider in use (built from the environment on first use), or None when tracing is off."""
    global _provider
    if _provider is None and enabled_by_environment():
        _provider = _provider_from_environment(service)
        trace.set_tracer_provider(_provider)
        _instrument_kafka(_provider)
    return _provider


def _instrument_kafka(provider: TracerProvider) -> None:
    global _kafka_instrumented
    from opentelemetry.instrumentation.aiokafka import AIOKafkaInstrumentor

    AIOKafkaInstrumentor().instrument(tracer_provider=provider)
    _kafka_instrumented = True


def kafka_instrumented() -> bool:
    """Whether aiokafka's sends inject ``traceparent`` themselves (then the relay does not add its own)."""
    return _kafka_instrumented


@contextmanager
def tracing_to(provider: TracerProvider) -> Iterator[TracerProvider]:
    """Trace apps created inside the block to ``provider`` (tests: an in-memory exporter)."""
    global _provider, _kafka_instrumented
    from opentelemetry.instrumentation.aiokafka import AIOKafkaInstrumentor

    previous = _provider
    _provider = provider
    _instrument_kafka(provider)
    try:
        yield provider
    finally:
        AIOKafkaInstrumentor().uninstrument()
        _kafka_instrumented = False
        _provider = previous
        # The SQLAlchemy instrumentor is process-wide: once on, it refuses later engines and traces every new
        # one to the first provider, so a later block would see none of its statements.
        from opentelemetry.instrumentation.sqlalchemy import SQLAlchemyInstrumentor

        if SQLAlchemyInstrumentor().is_instrumented_by_opentelemetry:
            SQLAlchemyInstrumentor().uninstrument()


def instrument_app(app: Any, service: str) -> None:
    """Server spans for every request but the probes (no-op when tracing is off)."""
    provider = tracer_provider(service)
    if provider is not None:
        from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor

        FastAPIInstrumentor.instrument_app(app, tracer_provider=provider, excluded_urls="livez,readyz,metrics")


def instrument_engine(engine: Any, service: str) -> None:
    """A span per SQL statement of ``engine`` (an AsyncEngine), when tracing is on."""
    provider = tracer_provider(service)
    if provider is not None:
        from opentelemetry.instrumentation.sqlalchemy import SQLAlchemyInstrumentor

        # Its declared range stops below SQLAlchemy 2.1, but it only uses the stable cursor-execute events,
        # which 2.1 keeps (tests/integration/test_tracing.py checks the statement spans).
        SQLAlchemyInstrumentor().instrument(engine=engine.sync_engine, tracer_provider=provider, skip_dep_check=True)


def recording() -> bool:
    """Whether spans started now are recorded (ours, or a provider the host installed): hot loops skip them if not."""
    return _provider is not None or not isinstance(
        trace.get_tracer_provider(), trace.ProxyTracerProvider | trace.NoOpTracerProvider
    )


def tracer() -> trace.Tracer:
    if _provider is not None:
        return _provider.get_tracer(TRACER_NAME)
    return trace.get_tracer(TRACER_NAME)


def context_of(traceparent: str | None) -> Context | None:
    """The remote parent a W3C ``traceparent`` names (None when there is none)."""
    if not traceparent:
        return None
    return propagate.extract({"traceparent": traceparent})


def current_traceparent() -> str | None:
    """The W3C ``traceparent`` of the current span, when there is a valid one."""
    carrier: dict[str, str] = {}
    if trace.get_current_span().get_span_context().is_valid:
        propagate.inject(carrier)
    return carrier.get("traceparent")


@contextmanager
def process_span(envelope: Envelope, also: Sequence[Envelope] = ()) -> Iterator[Span]:
    """A consumer span continuing the event's trace (its CloudEvents ``traceparent``); linked to the rest of a batch."""
    links = (
        [
            Link(trace.get_current_span(parent).get_span_context())
            for other in also
            if (parent := context_of(other.headers.get("traceparent"))) is not None
        ]
        if also and recording()
        else []
    )
    with tracer().start_as_current_span(
        f"{envelope.topic} process",
        context=context_of(envelope.headers.get("traceparent")),
        kind=SpanKind.CONSUMER,
        links=links,
        attributes={
            "messaging.system": "kafka",
            "messaging.destination.name": envelope.topic,
            "messaging.message.id": envelope.id,
            "cloudevents.event_type": envelope.type,
            "messaging.kafka.offset": envelope.offset,
        },
    ) as span:
        yield span


def traceparent_of(span: Span) -> str | None:
    carrier: dict[str, str] = {}
    if span.get_span_context().is_valid:
        propagate.inject(carrier, context=trace.set_span_in_context(span))
    return carrier.get("traceparent")


__all__ = [
    "SpanKind",
    "context_of",
    "current_traceparent",
    "enabled_by_environment",
    "instrument_app",
    "instrument_engine",
    "kafka_instrumented",
    "process_span",
    "recording",
    "traceparent_of",
    "tracer",
    "tracer_provider",
    "tracing_to",
]
