"""shared.context: request ids and traceparents drawn from a buffer of the OS's random source, in the formats
``uuid.uuid4().hex`` and ``secrets.token_hex`` give; a forked child draws its own."""

from __future__ import annotations

import os
import uuid

from shared.context import new_request_id, new_traceparent, valid_traceparent


def test_a_request_id_is_a_random_uuid_as_hex() -> None:
    ids = [new_request_id() for _ in range(2000)]  # more than one buffer's worth
    assert len(set(ids)) == len(ids)
    for request_id in ids:
        parsed = uuid.UUID(hex=request_id)
        assert parsed.hex == request_id and len(request_id) == 32
        assert parsed.version == 4 and parsed.variant == uuid.RFC_4122


def test_a_new_traceparent_is_valid_and_new() -> None:
    parents = [new_traceparent() for _ in range(2000)]
    assert len({parent.split("-")[1] for parent in parents}) == len(parents)
    assert len({parent.split("-")[2] for parent in parents}) == len(parents)
    for parent in parents:
        assert valid_traceparent(parent) == parent and parent.startswith("00-") and parent.endswith("-01")


def test_a_forked_child_does_not_draw_its_parents_ids() -> None:
    new_request_id()  # the buffer holds bytes the parent has not handed out yet
    reading, writing = os.pipe()
    child = os.fork()
    if child == 0:  # pragma: no cover - the child
        try:
            os.write(writing, new_request_id().encode())
        finally:
            os._exit(0)
    os.close(writing)
    os.waitpid(child, 0)
    childs = os.read(reading, 64).decode()
    os.close(reading)
    assert len(childs) == 32 and childs != new_request_id()


def test_threads_never_draw_the_same_id() -> None:
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(4) as pool:
        batches = list(pool.map(lambda _: [new_request_id() for _ in range(500)], range(8)))
    ids = [request_id for batch in batches for request_id in batch]
    assert len(set(ids)) == len(ids) == 4000
