"""Stopping aiokafka clients: a service's shutdown goes on whatever a client's stop raises."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from shared.consumer import InboxConsumer
from shared.kafka import stop_client


class RaisesItsOwnCancellation:
    """aiokafka's consumer when its fetcher closes: ``stop()`` re-raises the fetch task it cancelled."""

    def __init__(self) -> None:
        self.stopped = False

    async def stop(self) -> None:
        async def fetch() -> None:
            await asyncio.sleep(3600)

        task = asyncio.create_task(fetch())
        await asyncio.sleep(0)
        task.cancel()
        self.stopped = True
        await task  # as Fetcher.close does: the task's CancelledError reaches the caller


class Fails:
    async def stop(self) -> None:
        raise ConnectionError("broker gone")


class Slow:
    def __init__(self) -> None:
        self.started = asyncio.Event()

    async def stop(self) -> None:
        self.started.set()
        await asyncio.sleep(3600)


@pytest.mark.parametrize("client", [RaisesItsOwnCancellation(), Fails()], ids=["own-cancellation", "error"])
async def test_a_client_whose_stop_raises_is_stopped_without_raising(client: Any) -> None:
    await stop_client(client)


async def test_a_stop_that_never_ends_is_given_up_after_the_timeout() -> None:
    await asyncio.wait_for(stop_client(Slow(), within_seconds=0.05), timeout=30)


async def test_cancelling_the_caller_still_cancels_it() -> None:
    client = Slow()
    stopping = asyncio.create_task(stop_client(client, within_seconds=3600))
    await asyncio.wait_for(client.started.wait(), timeout=30)
    stopping.cancel()
    with pytest.raises(asyncio.CancelledError):
        await stopping


async def test_the_inbox_consumer_stops_both_clients_when_the_consumer_raises_its_own_cancellation() -> None:
    consumer = InboxConsumer.__new__(InboxConsumer)  # only the clients matter to stop()
    kafka_consumer, dlq_producer = RaisesItsOwnCancellation(), RaisesItsOwnCancellation()
    consumer.consumer, consumer.dlq_producer = kafka_consumer, dlq_producer  # type: ignore[assignment]
    await consumer.stop()
    assert kafka_consumer.stopped and dlq_producer.stopped
    assert consumer.consumer is None and consumer.dlq_producer is None
