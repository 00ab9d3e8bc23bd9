"""The cyclic garbage collector paused while a consumer applies a fetch, restored as it was after (the consumer's
use: tests/integration/test_inbox_batches.py)."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from shared.consumer import collector_paused


@pytest.fixture(autouse=True)
def collector_enabled() -> Iterator[None]:
    was = gc.isenabled()
    gc.enable()
    yield
    if was:
        gc.enable()
    else:
        gc.disable()


def test_the_collector_is_off_inside_and_back_on_after_even_when_the_block_fails() -> None:
    with collector_paused():
        assert not gc.isenabled()
    assert gc.isenabled()
    with pytest.raises(RuntimeError), collector_paused():
        raise RuntimeError("a failed fetch")
    assert gc.isenabled()


def test_nested_pauses_turn_it_back_on_only_when_the_outermost_ends() -> None:
    with collector_paused():
        with collector_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()  # the other consumer of the process is still applying its fetch
    assert gc.isenabled()


def test_a_collector_someone_else_disabled_stays_disabled() -> None:
    gc.disable()
    with collector_paused():
        assert not gc.isenabled()
    assert not gc.isenabled()
