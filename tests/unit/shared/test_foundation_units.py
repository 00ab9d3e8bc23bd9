"""Unit tests of the shared machinery that needs no broker: CloudEvents binding, cursors, trace
context, settings guards, the problem renderer for races."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime

import pytest

from services.credit.settings import CreditSettings
from shared.cloudevents import MalformedEvent, from_kafka_record, to_kafka_message
from shared.context import child_traceparent, valid_traceparent
from shared.errors import BadRequest
from shared.events.customers import CustomerRegistered
from shared.http import check_if_match, decode_cursor, encode_cursor


def _message(event: CustomerRegistered) -> tuple[bytes, bytes, list[tuple[str, bytes]]]:
    return to_kafka_message(
        event_id="e-1",
        event_type=event.event_type,
        source="/creditflow/customers",
        subject=str(event.customer_id),
        occurred_at=datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
        data=event.model_dump_json(),
        key=str(event.customer_id),
        extra_headers={"traceparent": "00-" + "a" * 32 + "-" + "b" * 16 + "-01"},
    )


def test_cloudevent_round_trip_in_binary_mode() -> None:
    event = CustomerRegistered(customer_id=uuid.uuid4(), name="Acme", kind="commercial", lifecycle="active")
    key, value, headers = _message(event)
    names = dict(headers)
    assert names["ce_specversion"] == b"1.0" and names["ce_id"] == b"e-1"
    assert names["ce_time"] == b"2026-01-02T03:04:05Z"
    assert names["content-type"] == b"application/json"
    assert json.loads(value)["name"] == "Acme"
    envelope = from_kafka_record(
        topic="creditflow.customers", partition=0, offset=7, key=key, value=value, headers=headers
    )
    assert envelope.data == event and envelope.id == "e-1" and envelope.offset == 7
    assert envelope.headers["traceparent"].startswith("00-")


@pytest.mark.parametrize(
    ("value", "headers", "why"),
    [
        pytest.param(b"{}", [], "not a binary-mode", id="no-ce-headers"),
        pytest.param(
            b"{}",
            [
                ("ce_type", b"creditflow.x.unknown.v1"),
                ("ce_id", b"1"),
                ("ce_source", b"/x"),
                ("ce_specversion", b"1.0"),
            ],
            "unknown event type",
            id="unknown-type",
        ),
        pytest.param(
            b'{"customer_id": "nope"}',
            [
                ("ce_type", b"creditflow.customers.customer_registered.v1"),
                ("ce_id", b"1"),
                ("ce_source", b"/x"),
                ("ce_specversion", b"1.0"),
                ("content-type", b"application/json"),
            ],
            "does not match",
            id="bad-payload",
        ),
    ],
)
def test_unreadable_records_are_malformed(value: bytes, headers: list[tuple[str, bytes]], why: str) -> None:
    with pytest.raises(MalformedEvent, match=why):
        from_kafka_record(topic="t", partition=0, offset=0, key=None, value=value, headers=headers)


def test_cursor_round_trip_and_garbage() -> None:
    cursor = encode_cursor({"created_at": "2026-01-01T00:00:00+00:00", "id": "x"})
    assert decode_cursor(cursor) == {"created_at": "2026-01-01T00:00:00+00:00", "id": "x"}
    assert decode_cursor(None) is None
    for garbage in ("@@@", "bnVsbA", "WzFd"):  # not base64 / JSON null / JSON list
        with pytest.raises(BadRequest):
            decode_cursor(garbage)


@pytest.mark.parametrize(
    ("header", "ok"),
    [
        ("00-" + "a" * 32 + "-" + "b" * 16 + "-01", True),
        ("00-" + "0" * 32 + "-" + "b" * 16 + "-01", False),  # all-zero trace id is invalid
        ("01-" + "a" * 32 + "-" + "b" * 16 + "-01", False),
        ("garbage", False),
        (None, False),
    ],
)
def test_traceparent_validation(header: str | None, ok: bool) -> None:
    assert (valid_traceparent(header) is not None) is ok


def test_child_traceparent_keeps_the_trace() -> None:
    parent = "00-" + "a" * 32 + "-" + "b" * 16 + "-01"
    child = child_traceparent(parent)
    assert child.split("-")[1] == "a" * 32 and child.split("-")[2] != "b" * 16


@pytest.mark.parametrize(
    ("if_match", "version", "outcome"),
    [
        ('"3"', 3, None),
        ('W/"3"', 3, None),
        ("*", 9, None),
        ('"2", "3"', 3, None),
        ('"2"', 3, 412),
        (None, 3, 428),
    ],
)
def test_if_match(if_match: str | None, version: int, outcome: int | None) -> None:
    if outcome is None:
        check_if_match(if_match, version)
    else:
        with pytest.raises(Exception) as raised:
            check_if_match(if_match, version)
        assert raised.value.status == outcome  # type: ignore[attr-defined]


def test_production_profile_refuses_the_embedded_secret() -> None:
    with pytest.raises(ValueError, match="embedded default secret is refused"):
        CreditSettings(profile="production")
    assert CreditSettings(profile="production", jwt_secret="s" * 40).profile == "production"
    assert CreditSettings(profile="production", jwt_jwks_url="https://idp.example/jwks").profile == "production"


def test_settings_read_the_service_prefix(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CREDITFLOW_CREDIT_DATABASE_URL", "postgresql+asyncpg://u@h/credit")
    monkeypatch.setenv("CREDITFLOW_CUSTOMERS_DATABASE_URL", "postgresql+asyncpg://u@h/customers")
    settings = CreditSettings()
    assert settings.effective_database_url == "postgresql+asyncpg://u@h/credit"
    assert settings.topic == "creditflow.credit" and settings.dead_letter_topic == "creditflow.credit.dlq"


def test_asyncapi_lists_every_event_type() -> None:
    from shared.events import EVENT_TYPES
    from shared.events.asyncapi import asyncapi_document

    document = asyncapi_document(intakes=[])
    names = {message["name"] for message in document["components"]["messages"].values()}
    assert names == set(EVENT_TYPES)
    assert set(document["channels"]) == {
        "creditflow_customers",
        "creditflow_credit",
        "creditflow_collections",
        "creditflow_survey",
    }


def test_asyncapi_documents_the_billing_topic_in_both_forms_and_its_dead_letters() -> None:
    from shared.events.asyncapi import asyncapi_document

    document = asyncapi_document()
    channel = document["channels"]["creditflow_billing_invoices"]
    assert channel["address"] == "creditflow.billing.invoices"
    messages = [document["components"]["messages"][name] for name in channel["messages"]]
    assert [message["payload"] for message in messages] == [{"$ref": "#/components/schemas/InvoiceCreate"}] * 2
    assert messages[0]["headers"]["properties"]["ce_type"]["const"] == "creditflow.billing.invoice_issued.v1"
    assert "headers" not in messages[1]  # plain JSON
    assert document["operations"]["receive_creditflow_billing_invoices"]["action"] == "receive"
    [dead_letter] = document["channels"]["creditflow_collections_dlq"]["messages"]
    assert "dlq_error" in document["components"]["messages"][dead_letter]["headers"]["required"]
    assert "amount" in document["components"]["schemas"]["InvoiceCreate"]["properties"]


def test_cloudevent_headers_agree_with_the_sdk_binding_both_ways() -> None:
    """The hand-written binary mode reads what the SDK writes and writes what the SDK reads."""
    from cloudevents.core.bindings import kafka as ce_kafka
    from cloudevents.core.v1.event import CloudEvent

    event = CustomerRegistered(customer_id=uuid.uuid4(), name="Acme", kind="commercial", lifecycle="active")
    at = datetime(2026, 1, 2, 3, 4, 5, 120000, tzinfo=UTC)
    sdk = ce_kafka.to_binary_event(
        CloudEvent(
            attributes={
                "id": "e-2",
                "source": "/creditflow/customers",
                "type": event.event_type,
                "specversion": "1.0",
                "time": at,
                "datacontenttype": "application/json",
                "subject": "s-1",
            },
            data=json.loads(event.model_dump_json()),
        ),
        key_mapper=lambda _event: "k",
    )
    ours = to_kafka_message(
        event_id="e-2",
        event_type=event.event_type,
        source="/creditflow/customers",
        subject="s-1",
        occurred_at=at,
        data=event.model_dump_json(),
        key="k",
        extra_headers={},
    )
    assert dict(ours[2]) == dict(sdk.headers)
    read = from_kafka_record(
        topic="t", partition=0, offset=1, key=b"k", value=sdk.value, headers=list(sdk.headers.items())
    )
    assert (read.id, read.time, read.subject, read.data) == ("e-2", at, "s-1", event)
    back = ce_kafka.from_binary_event(ce_kafka.KafkaMessage(headers=dict(ours[2]), key=ours[0], value=ours[1]))
    assert back.get_id() == "e-2" and back.get_time() == at and back.get_data() == json.loads(ours[1])


def test_token_verifier_remembers_a_verified_token_but_not_past_its_expiry(monkeypatch: pytest.MonkeyPatch) -> None:
    from datetime import timedelta

    import jwt

    from shared.auth import TokenVerifier, mint_token
    from shared.errors import Unauthorized

    settings = CreditSettings()
    verifier = TokenVerifier(settings)
    decodes: list[str] = []
    real_decode = jwt.decode

    def counting_decode(token: str, *args: object, **kwargs: object) -> object:
        decodes.append(token)
        return real_decode(token, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(jwt, "decode", counting_decode)
    now = datetime.now(UTC)
    token = mint_token(settings, ["credit:read"], subject="alice", now=now)
    assert verifier.verify(token).subject == "alice"
    assert verifier.verify(token).has("credit:read")
    assert len(decodes) == 1  # the second request did not decode again
    expired = mint_token(settings, ["credit:read"], now=now - timedelta(hours=2), ttl=timedelta(hours=1))
    for _ in range(2):
        with pytest.raises(Unauthorized):
            verifier.verify(expired)
    assert len(decodes) == 3  # a rejected token is never remembered
