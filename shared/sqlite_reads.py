"""SQLite reads in the event loop's thread: what a read-only unit of work runs on (see ``shared.db``).

aiosqlite runs every call (cursor, execute, fetch, close, BEGIN, COMMIT) in a worker thread and wakes the
event loop for its result: about nine thread switches for a GET by id, each costing more CPU than the read
itself (a primary-key lookup in a local file takes microseconds). A read-only unit under WAL reads a
snapshot and never waits for a lock, so its calls can run directly in the loop's thread. Its connections
are ``query_only``: a write on them fails at once instead of blocking the loop while it waits for the
write lock. Writers keep aiosqlite (their ``BEGIN IMMEDIATE`` may wait for another writer).
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable, Generator
from typing import Any

import aiosqlite


class _RunAtOnce:
    """Stands in for aiosqlite's queue to its worker thread (SQLAlchemy's adapter puts calls there too)."""

    def put_nowait(self, item: tuple[asyncio.Future[Any] | None, Callable[[], Any]]) -> None:
        future, function = item
        try:
            result = function()
        except BaseException as error:
            if future is None:
                raise
            future.set_exception(error)
        else:
            if future is not None:
                future.set_result(result)


class InlineSqliteConnection(aiosqlite.Connection):
    """An aiosqlite connection whose calls run in the caller's thread (no worker thread, no hand-over)."""

    def __init__(self, connector: Callable[[], sqlite3.Connection], iter_chunk_size: int) -> None:
        super().__init__(connector, iter_chunk_size)
        self._tx = _RunAtOnce()  # type: ignore[assignment]

    def __await__(self) -> Generator[Any, None, InlineSqliteConnection]:
        return self._connect_inline().__await__()

    async def _connect_inline(self) -> InlineSqliteConnection:
        if self._connection is None:
            self._connection = self._connector()
        return self

    async def _execute(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        if not self._running or self._connection is None:
            raise ValueError("Connection closed")
        return fn(*args, **kwargs)

    @property
    def sqlite_connection(self) -> sqlite3.Connection:
        """The sqlite3 connection itself (``Database.read_row`` runs its statement on it)."""
        if not self._running or self._connection is None:
            raise ValueError("Connection closed")
        return self._connection

    def stop(self) -> None:
        self._running = False
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    async def close(self) -> None:
        self.stop()


def query_only_connection(path: str) -> sqlite3.Connection:
    """A connection to the database file ``path`` for reads in the loop's thread: autocommit, query-only.

    The writers' connections put the file in WAL; a reader waits (rarely: only while a crashed writer's WAL
    index is rebuilt) for at most 5 s, in the loop's thread.
    """
    connection = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
    connection.execute("PRAGMA query_only=ON")
    connection.execute("PRAGMA busy_timeout=5000")
    return connection


def inline_connector(path: str) -> Callable[[], Any]:
    """``async_creator`` for ``create_async_engine``: query-only connections to the database file ``path``."""

    async def connect() -> InlineSqliteConnection:
        return await InlineSqliteConnection(lambda: query_only_connection(path), iter_chunk_size=64)

    return connect
