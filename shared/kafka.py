"""aiokafka clients built from settings, and topic creation (idempotent: 'already exists' is success)."""

from __future__ import annotations

import logging
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError
from aiokafka.helpers import create_ssl_context

from shared.registry import SERVICES, service_spec, settings_class
from shared.settings import ServiceSettings

log = logging.getLogger(__name__)

SUITE_TOPICS = tuple(f"creditflow.{name}" for name in SERVICES)


def connection_options(settings: ServiceSettings) -> dict[str, Any]:
    options: dict[str, Any] = {
        "bootstrap_servers": settings.kafka_bootstrap_servers,
        "security_protocol": settings.kafka_security_protocol,
        "request_timeout_ms": 10_000,
        "metadata_max_age_ms": 10_000,
    }
    if settings.kafka_sasl_mechanism:
        options["sasl_mechanism"] = settings.kafka_sasl_mechanism
        options["sasl_plain_username"] = settings.kafka_sasl_username
        if settings.kafka_sasl_password is not None:
            options["sasl_plain_password"] = settings.kafka_sasl_password.get_secret_value()
    if settings.kafka_security_protocol in ("SSL", "SASL_SSL"):
        # Hostnames are checked: Strimzi's broker certificates name the bootstrap and broker services.
        cafile = settings.kafka_ssl_cafile
        options["ssl_context"] = create_ssl_context(cafile=str(cafile) if cafile else None)
    return options


def make_producer(settings: ServiceSettings, client_id: str) -> AIOKafkaProducer:
    return AIOKafkaProducer(
        client_id=client_id,
        acks="all",
        enable_idempotence=settings.kafka_enable_idempotence,
        # No linger: an event goes out as soon as it is committed; under load the producer still batches
        # what accumulates while a request is in flight.
        linger_ms=0,
        compression_type="gzip",
        **connection_options(settings),
    )


def make_consumer(settings: ServiceSettings, *topics: str, group_id: str | None) -> AIOKafkaConsumer:
    return AIOKafkaConsumer(
        *topics,
        group_id=group_id,
        client_id=f"{settings.service}-consumer",
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        isolation_level="read_uncommitted",
        fetch_max_wait_ms=settings.consumer_fetch_max_wait_ms,
        **connection_options(settings),
    )


def make_admin(settings: ServiceSettings) -> AIOKafkaAdminClient:
    return AIOKafkaAdminClient(client_id=f"{settings.service}-admin", **connection_options(settings))


async def ensure_topics(settings: ServiceSettings, topics: dict[str, int]) -> None:
    """Create the topics that are missing, with their partition counts."""
    admin = make_admin(settings)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [
            NewTopic(name, num_partitions=partitions, replication_factor=settings.kafka_topic_replication_factor)
            for name, partitions in topics.items()
            if name not in existing
        ]
        if missing:
            try:
                await admin.create_topics(missing)
            except TopicAlreadyExistsError:
                pass  # another replica won the race
            log.info("topics created", extra={"topics": [t.name for t in missing]})
    finally:
        await admin.close()


def suite_topics(settings: ServiceSettings) -> dict[str, int]:
    """Every producer topic of the suite plus this service's dead-letter topic."""
    topics = dict.fromkeys(SUITE_TOPICS, settings.kafka_topic_partitions)
    topics[settings.dead_letter_topic] = 1
    return topics


async def create_suite_topics(bootstrap: str) -> None:
    """Every topic of the suite with its partitions, the intakes' too (what `creditflow broker` does after starting)."""
    from shared.app import service_topics  # shared.app builds on this module

    for name in SERVICES:
        settings = settings_class(name)(kafka_bootstrap_servers=bootstrap)
        await ensure_topics(settings, service_topics(service_spec(name), settings))
