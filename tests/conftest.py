"""Fixtures shared by the whole suite: databases (SQLite or PostgreSQL), a real broker, service harnesses."""

from __future__ import annotations

import signal
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from shared.broker import EmbeddedBroker, free_port
from tests.support.databases import DatabaseFactory


@pytest.fixture(scope="session")
async def databases(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[DatabaseFactory]:
    factory = DatabaseFactory(tmp_path_factory.mktemp("databases"))
    yield factory
    await factory.drop_all()


@pytest.fixture(scope="session")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedBroker]:
    """One real Kafka-protocol broker for the session, on a free loopback port."""
    log = tmp_path_factory.mktemp("broker") / "broker.log"
    with EmbeddedBroker(free_port(), log_path=log) as running:
        yield running


@pytest.fixture
def broker_factory(tmp_path: Path) -> Iterator[type[EmbeddedBroker]]:
    """Brokers a test may stop and start itself (outage tests); all stopped at the end."""
    started: list[EmbeddedBroker] = []

    class TrackedBroker(EmbeddedBroker):
        def start(self, wait_seconds: float = 30.0) -> EmbeddedBroker:
            started.append(self)
            return super().start(wait_seconds)

    yield TrackedBroker
    for instance in started:
        instance.stop()


def _interrupt_on_sigterm(_signum: int, _frame: object) -> None:
    """SIGTERM (a CI timeout, ``kill``) ends the run as Ctrl-C does: fixtures torn down, databases dropped.

    A second SIGTERM during that teardown ends the process at once; the brokers die with it anyway
    (shared/processes.py).
    """
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    raise KeyboardInterrupt


def pytest_sessionstart(session: pytest.Session) -> None:
    signal.signal(signal.SIGTERM, _interrupt_on_sigterm)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark what needs the real broker, so `make test-fast` (-m "not broker and not e2e") can leave it out."""
    for item in items:
        fixtures = getattr(item, "fixturenames", ())
        if "broker" in fixtures or "broker_factory" in fixtures:
            item.add_marker(pytest.mark.broker)
        if "/tests/e2e/" in str(item.path):
            item.add_marker(pytest.mark.e2e)
