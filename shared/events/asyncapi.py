"""The AsyncAPI 3.0 document of every event type, generated from the pydantic schemas."""

from __future__ import annotations

from typing import Any

from shared.events import EVENT_TYPES

CONTACT = {"name": "Creditflow engineering", "url": "https://creditflow.dev", "email": "engineering@creditflow.dev"}

CE_HEADERS = {
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


def asyncapi_document() -> dict[str, Any]:
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
    return {
        "asyncapi": "3.1.0",
        "info": {
            "title": "Creditflow events",
            "version": "1.0.0",
            "description": "CloudEvents 1.0 in Kafka binary mode; one topic per producing service; key = customer id.",
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
