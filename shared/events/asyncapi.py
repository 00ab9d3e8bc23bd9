"""The AsyncAPI 3.0 document of every event type, generated from the pydantic schemas."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from shared.events import EVENT_TYPES
from shared.intake import Intake

CONTACT = {"name": "Creditflow engineering", "url": "https://creditflow.dev", "email": "engineering@creditflow.dev"}

CE_HEADERS: dict[str, Any] = {
    "type": "object",
    "required": ["ce_id", "ce_source", "ce_type", "ce_specversion", "ce_time"],
    "properties": {
        "ce_id": {"type": "string", "description": "unique event id (consumers deduplicate on it)"},
        "ce_source": {"type": "string", "examples": ["/creditflow/collections"]},
        "ce_type": {"type": "string"},
        "ce_specversion": {"type": "string", "const": "1.0"},
        "ce_time": {"type": "string", "format": "date-time"},
        "ce_subject": {"type": "string", "description": "the customer id"},
        "content-type": {"type": "string", "const": "application/json"},
        "x-request-id": {"type": "string"},
        "ce_traceparent": {
            "type": "string",
            "description": "CloudEvents distributed-tracing extension: W3C trace context of the publish",
        },
        "traceparent": {"type": "string", "description": "W3C trace context (transport header)"},
    },
}


def _payload(model: Any, schemas: dict[str, Any]) -> dict[str, Any]:
    """The event's JSON schema; shared definitions (the Stage enum ...) go to components.schemas."""
    payload: dict[str, Any] = model.model_json_schema(mode="serialization", ref_template="#/components/schemas/{model}")
    schemas.update(payload.pop("$defs", {}))
    return payload


DLQ_HEADERS = {
    "type": "object",
    "description": "the original record's headers, plus why and where from",
    "required": ["dlq_error", "dlq_consumer", "dlq_original_topic", "dlq_original_partition", "dlq_original_offset"],
    "properties": {
        "dlq_error": {
            "type": "string",
            "description": "why: `unparseable: …` (not JSON, not the schema, an unknown type) or `refused: …` (a rule)",
        },
        "dlq_consumer": {"type": "string", "description": "the consumer group that dead-lettered it"},
        "dlq_original_topic": {"type": "string"},
        "dlq_original_partition": {"type": "string"},
        "dlq_original_offset": {"type": "string"},
        "dlq_attempts": {"type": "string"},
    },
}


def _intake_parts(intake: Intake, schemas: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """The messages of an intake's topic (CloudEvent and plain JSON) and its dead-letter message, by name."""
    payload_name = intake.payload.__name__
    schema = intake.payload.model_json_schema(mode="validation", ref_template="#/components/schemas/{model}")
    schemas.update(schema.pop("$defs", {}))
    schemas[payload_name] = schema
    name = intake.event_type.removeprefix("creditflow.").replace(".", "_")
    payload = {"$ref": f"#/components/schemas/{payload_name}"}
    key = {"type": "string", "description": "customer id (records of one customer stay in order)"}
    ce_headers = {
        **CE_HEADERS,
        "required": ["ce_id", "ce_source", "ce_type", "ce_specversion"],
        "properties": {**CE_HEADERS["properties"], "ce_type": {"type": "string", "const": intake.event_type}},
    }
    messages = {
        name: {
            "name": intake.event_type,
            "title": f"{payload_name} as a CloudEvent",
            "summary": "one invoice, a CloudEvent in Kafka binary mode; deduplicated on ce_source + ce_id",
            "contentType": "application/json",
            "headers": ce_headers,
            "payload": payload,
            "bindings": {"kafka": {"key": key}},
        },
        f"{name}_plain_json": {
            "name": f"{intake.event_type} (plain JSON)",
            "title": f"{payload_name} as plain JSON",
            "summary": "one invoice as plain JSON, no ce_ headers; deduplicated on customer, number and content",
            "contentType": "application/json",
            "payload": payload,
            "bindings": {"kafka": {"key": key}},
        },
    }
    dead_letter = {
        f"{intake.consumer}_dead_letter": {
            "name": f"{intake.consumer} dead letter",
            "title": "Dead letter",
            "summary": "a record the consumer can never apply: its original key and value, the reason in dlq_error",
            "headers": DLQ_HEADERS,
            "payload": {"description": "the original record's value, unchanged"},
        }
    }
    return messages, dead_letter


def _add_intakes(
    intakes: Sequence[Intake],
    channels: dict[str, Any],
    operations: dict[str, Any],
    messages: dict[str, Any],
    schemas: dict[str, Any],
) -> None:
    """Topics other systems publish: each intake's channel, its receive operation and its dead-letter topic."""
    for intake in intakes:
        topic_messages, dead_letter = _intake_parts(intake, schemas)
        messages.update(topic_messages)
        messages.update(dead_letter)
        channel_id = intake.topic.replace(".", "_")
        channels[channel_id] = {
            "address": intake.topic,
            "description": intake.description,
            "messages": {m: {"$ref": f"#/components/messages/{m}"} for m in topic_messages},
        }
        operations[f"receive_{channel_id}"] = {
            "action": "receive",
            "summary": intake.summary,
            "description": intake.description,
            "channel": {"$ref": f"#/channels/{channel_id}"},
            "messages": [{"$ref": f"#/channels/{channel_id}/messages/{m}"} for m in topic_messages],
        }
        dlq = intake.dead_letter_topic
        dlq_id = dlq.replace(".", "_")
        channels[dlq_id] = {
            "address": dlq,
            "description": f"what {intake.consumer}'s consumer could never apply, with why (`creditflow dlq`)",
            "messages": {m: {"$ref": f"#/components/messages/{m}"} for m in dead_letter},
        }
        operations[f"dead_letter_{dlq_id}"] = {
            "action": "send",
            "summary": f"{intake.consumer} parks the records it can never apply",
            "description": "The original key, value and headers, plus `dlq_*` headers saying why and from where; "
            "`creditflow dlq redrive` republishes them on their original topic.",
            "channel": {"$ref": f"#/channels/{dlq_id}"},
            "messages": [{"$ref": f"#/channels/{dlq_id}/messages/{m}"} for m in dead_letter],
        }


def asyncapi_document(intakes: Sequence[Intake] | None = None) -> dict[str, Any]:
    """The document of every event the suite publishes and of the topics it takes in (default: every service's)."""
    if intakes is None:
        from shared.registry import service_intakes

        intakes = service_intakes()
    channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    messages: dict[str, Any] = {}
    schemas: dict[str, Any] = {}
    for event_type, model in sorted(EVENT_TYPES.items()):
        name = event_type.removeprefix("creditflow.").replace(".", "_")
        messages[name] = {
            "name": event_type,
            "title": model.__name__,
            "summary": (model.__doc__ or "").strip().splitlines()[0] if model.__doc__ else event_type,
            "contentType": "application/json",
            "headers": CE_HEADERS,
            "payload": _payload(model, schemas),
            "bindings": {"kafka": {"key": {"type": "string", "description": "customer id"}}},
        }
        topic = model.topic()
        channel = channels.setdefault(topic.replace(".", "_"), {"address": topic, "messages": {}})
        channel["messages"][name] = {"$ref": f"#/components/messages/{name}"}
    for channel_id, channel in channels.items():
        operations[f"publish_{channel_id}"] = {
            "action": "send",
            "summary": f"{channel['address'].removeprefix('creditflow.')} publishes its events",
            "description": (
                f"The {channel['address'].removeprefix('creditflow.')} service's outbox relay sends every event it "
                "commits, in commit order per customer (key), at least once: consumers deduplicate on `ce_id`."
            ),
            "channel": {"$ref": f"#/channels/{channel_id}"},
            "messages": [{"$ref": f"#/channels/{channel_id}/messages/{m}"} for m in channel["messages"]],
        }
    _add_intakes(intakes, channels, operations, messages, schemas)
    return {
        "asyncapi": "3.1.0",
        "info": {
            "title": "Creditflow events",
            "version": "1.0.0",
            "description": "CloudEvents 1.0 in Kafka binary mode; one topic per producing service; key = customer id. "
            "Also the topics the suite takes in from other systems (billing invoices, as CloudEvents or plain JSON).",
            "contact": CONTACT,
            "license": {"name": "Proprietary", "url": "https://creditflow.dev/license"},
            "tags": [{"name": "creditflow", "description": "events of the Creditflow suite"}],
        },
        "servers": {
            "local": {
                "host": "127.0.0.1:9092",
                "protocol": "kafka",
                "description": "the embedded broker of the local suite (`creditflow up`)",
            }
        },
        "defaultContentType": "application/json",
        "channels": channels,
        "operations": operations,
        "components": {"messages": messages, **({"schemas": schemas} if schemas else {})},
    }
