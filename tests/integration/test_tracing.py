"""One trace from an HTTP request in customers, through its outbox relay and the real broker, to the handler
in credit: the W3C context is stored with the outbox row and travels as the CloudEvents ``traceparent``."""

from __future__ import annotations

import pytest
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from shared.broker import EmbeddedBroker
from shared.tracing import tracing_to
from tests.support.customers import acme, known_to_credit
from tests.support.databases import DatabaseFactory
from tests.support.harness import running_service
from tests.support.topics import read_topic
from tests.support.waiting import eventually

pytestmark = pytest.mark.broker

TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
CALLER = f"00-{TRACE_ID}-00f067aa0ba902b7-01"


def _in_trace(spans: tuple[ReadableSpan, ...], trace_id: int) -> list[ReadableSpan]:
    return [span for span in spans if span.context is not None and span.context.trace_id == trace_id]


async def test_one_trace_from_an_http_request_to_the_handler_in_another_service(
    databases: DatabaseFactory, broker: EmbeddedBroker
) -> None:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    with tracing_to(provider):
        async with (
            running_service("customers", await databases.create("customers"), bootstrap=broker.bootstrap) as cu,
            running_service("credit", await databases.create("credit"), bootstrap=broker.bootstrap) as cr,
        ):
            response = await cu.client.post(
                "/v1/customers",
                json=acme(1),
                headers={**cu.auth("customers:write"), "traceparent": CALLER},
            )
            assert response.status_code == 201, response.text
            customer_id = response.json()["id"]
            await eventually(lambda: known_to_credit(cr, customer_id), what="credit to learn the customer")
    trace_id = int(TRACE_ID, 16)
    spans = _in_trace(exporter.get_finished_spans(), trace_id)
    by_id = {span.context.span_id: span for span in spans if span.context is not None}

    server = [s for s in spans if s.kind is SpanKind.SERVER and s.attributes and s.attributes.get("http.route")]
    assert [s.attributes["http.route"] for s in server if s.attributes] == ["/v1/customers"]
    assert server[0].parent is not None and server[0].parent.span_id == int(CALLER.split("-")[2], 16)
    insert_customer = [
        s
        for s in spans
        if s.kind is SpanKind.CLIENT and "INSERT INTO customers" in str(s.attributes.get("db.statement"))
    ]
    assert insert_customer, "the request's SQL is traced"

    [publish] = [s for s in spans if s.name == "creditflow.customers publish"]
    [send] = [s for s in spans if s.name == "creditflow.customers send" and s.kind is SpanKind.PRODUCER]
    [process] = [s for s in spans if s.name == "creditflow.customers process" and s.kind is SpanKind.CONSUMER]
    # The relay's publish continues the request (the traceparent stored with the outbox row) ...
    assert publish.parent is not None and by_id[publish.parent.span_id] is server[0]
    assert send.parent is not None and send.parent.span_id == publish.context.span_id
    # ... and credit's handler continues the publish (the event's CloudEvents traceparent) ...
    assert process.parent is not None and process.parent.span_id == publish.context.span_id
    # ... with its own SQL inside it.
    assert process.attributes is not None
    assert process.attributes["cloudevents.event_type"] == "creditflow.customers.customer_registered.v1"

    [record] = [
        r for r in await read_topic(broker.bootstrap, "creditflow.customers", 50) if r.key == customer_id.encode()
    ]
    headers = dict(record.headers)
    assert headers["ce_traceparent"].decode() == f"00-{TRACE_ID}-{publish.context.span_id:016x}-01"
