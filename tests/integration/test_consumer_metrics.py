"""Consumer lag per partition and the dead-letter depth on /metrics, against the real broker."""

from __future__ import annotations

import asyncio

import pytest
from aiokafka import AIOKafkaProducer

from shared.broker import EmbeddedBroker
from tests.support.customers import known_to_credit, register
from tests.support.databases import DatabaseFactory
from tests.support.harness import ServiceHarness, running_service
from tests.support.metrics import scrape
from tests.support.waiting import eventually

pytestmark = pytest.mark.broker


async def _lag(credit: ServiceHarness) -> dict[str, float]:
    return {
        dict(labels)["partition"]: value
        for (name, labels), value in (await scrape(credit)).items()
        if name == "creditflow_consumer_lag"
        and dict(labels)["topic"] == "creditflow.customers"
        and dict(labels)["group"] == credit.settings.consumer_group
    }


async def _dlq(credit: ServiceHarness) -> float:
    key = ("creditflow_dlq_messages", (("service", "credit"), ("topic", credit.settings.dead_letter_topic)))
    return (await scrape(credit)).get(key, 0.0)


async def test_lag_per_partition_and_dead_letter_depth(databases: DatabaseFactory, broker: EmbeddedBroker) -> None:
    async with (
        asyncio.timeout(180),  # a stuck consumer fails this test instead of hanging the suite
        running_service("customers", await databases.create("customers"), bootstrap=broker.bootstrap) as cu,
        running_service("credit", await databases.create("credit"), bootstrap=broker.bootstrap) as cr,
    ):
        customer_id = await register(cu)
        await eventually(lambda: known_to_credit(cr, customer_id), what="credit to learn the customer")
        lag = await eventually(lambda: _lag(cr), what="a lag gauge per assigned partition")
        assert lag and all(value >= 0 for value in lag.values())
        await eventually(lambda: _all_caught_up(cr), what="lag back to 0 once everything is applied")

        dead_before = await _dlq(cr)
        producer = AIOKafkaProducer(bootstrap_servers=broker.bootstrap)
        await producer.start()
        try:
            await producer.send_and_wait(
                "creditflow.customers",
                value=b"not json",
                key=customer_id.encode(),
                headers=[
                    ("ce_type", b"creditflow.customers.customer_registered.v1"),
                    ("ce_id", b"poison-metrics"),
                    ("ce_source", b"/x"),
                    ("ce_specversion", b"1.0"),
                ],
            )
        finally:
            await producer.stop()
        await eventually(lambda: _grew(cr, dead_before), what="the dead-lettered message to be counted")


async def _all_caught_up(credit: ServiceHarness) -> bool:
    lag = await _lag(credit)
    return bool(lag) and all(value == 0 for value in lag.values())


async def _grew(credit: ServiceHarness, before: float) -> bool:
    return await _dlq(credit) >= before + 1
