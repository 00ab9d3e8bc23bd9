"""aiokafka clients built from settings, and topic creation (idempotent: 'already exists' is success)."""

from __future__ import annotations

import asyncio
import logging
import struct
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError
from aiokafka.helpers import create_ssl_context
from aiokafka.partitioner import DefaultPartitioner

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


_MASK = 0xFFFFFFFF
_M = 0x5BD1E995


def murmur2(data: bytes) -> int:
    """Kafka's murmur2 of a key (the Java client's ``Utils.murmur2``), as aiokafka's ``murmur2`` computes it.

    aiokafka's pure-Python version masks every intermediate and reads bytes one by one: ~40 µs a key, a
    quarter of the relay's CPU; this reads 32-bit words at once (a unit test holds it to aiokafka's).
    """
    length = len(data)
    h = 0x9747B28C ^ length
    for k in struct.unpack_from(f"<{length >> 2}I", data):
        k = (k * _M) & _MASK
        k = ((k ^ (k >> 24)) * _M) & _MASK
        h = ((h * _M) & _MASK) ^ k
    tail = length & 3
    if tail:
        base = length - tail
        if tail == 3:
            h ^= data[base + 2] << 16
        if tail >= 2:
            h ^= data[base + 1] << 8
        h = ((h ^ data[base]) * _M) & _MASK
    h ^= h >> 13
    h = (h * _M) & _MASK
    return h ^ (h >> 15)


def key_partition(key: bytes, partitions: int) -> int:
    """The partition of a keyed message among ``partitions``: the Java client's and aiokafka's default choice."""
    return (murmur2(key) & 0x7FFFFFFF) % partitions


def partitioner(key: bytes | None, all_partitions: list[int], available: list[int]) -> int:
    """aiokafka's ``DefaultPartitioner`` with the faster ``murmur2`` (a keyless message goes anywhere)."""
    if key is None:
        return DefaultPartitioner()(key, all_partitions, available)  # type: ignore[no-any-return]
    return all_partitions[key_partition(key, len(all_partitions))]


PRODUCER_BATCH_BYTES = 512 * 1024
"""Bytes of a record batch before compression (aiokafka's default is 16 KiB). The producer queues one batch
per partition and has one request in flight per broker, so with 16 KiB (~25 events) a 500-row relay batch
took ~7 round trips a partition; a broker's default limit (``message.max.bytes``, 1 MiB) applies to the
compressed batch, which stays far below it."""


def make_producer(settings: ServiceSettings, client_id: str) -> AIOKafkaProducer:
    return AIOKafkaProducer(
        client_id=client_id,
        partitioner=partitioner,
        acks="all",
        enable_idempotence=settings.kafka_enable_idempotence,
        # No linger: an event goes out as soon as it is committed; under load the producer still batches
        # what accumulates while a request is in flight.
        linger_ms=0,
        compression_type="gzip",
        max_batch_size=PRODUCER_BATCH_BYTES,
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


async def stop_client(client: AIOKafkaConsumer | AIOKafkaProducer, within_seconds: float = 5.0) -> None:
    """Stop an aiokafka client within ``within_seconds``, whatever state it is in.

    aiokafka's consumer re-raises the cancellation of its own fetch tasks when it stops (``Fetcher.close``
    awaits the tasks it has just cancelled): a ``CancelledError`` that cancels nothing of the caller's. It is
    swallowed unless the caller itself is being cancelled, so a service's shutdown goes on to stop the relay
    and close its database. A client that cannot reach the broker cannot flush either: logged, not raised.
    """
    try:
        await asyncio.wait_for(client.stop(), timeout=within_seconds)
    except asyncio.CancelledError:
        current = asyncio.current_task()
        if current is not None and current.cancelling():
            raise
        log.debug("client stop raised its own tasks' cancellation", exc_info=True)
    except Exception:
        log.debug("client stop failed", exc_info=True)


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
