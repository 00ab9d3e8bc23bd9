"""The key reads' held connections (PostgreSQL) go to waiting reads first come, first served."""

from __future__ import annotations

import asyncio
from typing import Any

from shared.db import _HeldConnections


def _held(*connections: Any) -> _HeldConnections:
    held = _HeldConnections("postgresql+asyncpg://nobody@127.0.0.1:9/none", len(connections))  # never connects
    held._idle = list(connections)
    return held


async def test_waiting_reads_get_a_released_connection_in_their_order_of_arrival() -> None:
    held = _held("only")
    first = await held._acquire()
    order: list[int] = []

    async def read(number: int) -> None:
        connection = await held._acquire()
        order.append(number)
        await asyncio.sleep(0)
        held._release(connection)

    waiting = [asyncio.create_task(read(number)) for number in range(8)]
    await asyncio.sleep(0)  # all eight are waiting now
    held._release(first)
    # A read arriving after the release must not take the connection the oldest waiter was handed.
    late = asyncio.create_task(read(99))
    await asyncio.gather(*waiting, late)
    assert order == [*range(8), 99]
    assert held._idle == ["only"] and not held._waiters


async def test_a_free_connection_is_taken_at_once_and_warm_ones_first() -> None:
    held = _held("cold", "warm")
    assert await held._acquire() == "warm"
    held._release("warm")
    assert await held._acquire() == "warm"
    assert await held._acquire() == "cold"


async def test_a_cancelled_waiter_passes_its_connection_on() -> None:
    held = _held("only")
    first = await held._acquire()
    cancelled = asyncio.create_task(held._acquire())
    cancelled_early = asyncio.create_task(held._acquire())
    after = asyncio.create_task(held._acquire())
    await asyncio.sleep(0)
    cancelled_early.cancel()  # cancelled while waiting: leaves the line
    held._release(first)  # handed to ``cancelled`` ...
    cancelled.cancel()  # ... which is cancelled before it runs: the connection goes on to ``after``
    assert await asyncio.wait_for(after, 5) == "only"
    assert cancelled.cancelled() and cancelled_early.cancelled()
    assert not held._waiters
