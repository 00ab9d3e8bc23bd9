"""A process that starts an embedded broker takes it down with it, however it ends: killed (SIGKILL),
terminated (SIGTERM) or interrupted (SIGINT), and also when the thread that started the broker is gone.
A test session stopped with SIGTERM tears its fixtures down as Ctrl-C does."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from shared.broker import port_open
from tests.support.waiting import until

pytestmark = pytest.mark.broker

ROOT = Path(__file__).resolve().parents[2]

# Starts a broker (from the main thread, or from a short-lived thread that is gone before it reports),
# prints "<broker pid> <port>", then waits to be killed.
_STARTER = textwrap.dedent(
    """
    import os, signal, sys, threading, time
    from shared.broker import EmbeddedBroker, free_port, port_open

    # Ctrl-C's default, even when this run was started in the background (where SIGINT is inherited ignored)
    signal.signal(signal.SIGINT, signal.default_int_handler)

    started = []
    def start():
        started.append(EmbeddedBroker(free_port()).start())
    if sys.argv[1] == "thread":
        worker = threading.Thread(target=start)
        worker.start()
        worker.join()
        while os.path.exists(f"/proc/self/task/{worker.native_id}"):
            time.sleep(0.01)  # the thread has left the kernel too: a death signal tied to it has fired
    else:
        start()
    broker = started[0]
    assert broker.process.poll() is None and port_open("127.0.0.1", broker.port)
    print(broker.process.pid, broker.port, flush=True)
    time.sleep(600)
    """
)


def _gone(pid: int) -> bool:
    """The process no longer runs (exited, or a zombie nobody has reaped yet)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return True
    return state in ("Z", "X")


class _Broker:
    """The broker a child process reported starting (None until it has)."""

    pid: int | None = None


@contextmanager
def _cleaned_up(process: subprocess.Popen[str]) -> Iterator[_Broker]:
    """Kill the child, and its broker if it outlived it (only when the behaviour under test failed)."""
    broker = _Broker()
    try:
        yield broker
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        if broker.pid is not None and not _gone(broker.pid):
            os.kill(broker.pid, signal.SIGKILL)


def _assert_gone(pid: int, port: int) -> None:
    until(lambda: _gone(pid), timeout=30, what=f"broker {pid} to exit")
    until(lambda: not port_open("127.0.0.1", port), timeout=30, what=f"port {port} to be free")


def _child_env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT)}


@pytest.mark.parametrize(
    ("how", "started_from"),
    [
        (signal.SIGKILL, "main"),
        (signal.SIGTERM, "main"),
        (signal.SIGINT, "main"),
        (signal.SIGKILL, "thread"),
    ],
    ids=["sigkill", "sigterm", "sigint", "sigkill-started-from-a-finished-thread"],
)
def test_the_broker_dies_with_the_process_that_started_it(how: signal.Signals, started_from: str) -> None:
    child = subprocess.Popen(
        [sys.executable, "-c", _STARTER, started_from], cwd=ROOT, env=_child_env(), stdout=subprocess.PIPE, text=True
    )
    with _cleaned_up(child) as broker:
        assert child.stdout is not None
        broker.pid, port = (int(part) for part in child.stdout.readline().split())
        assert not _gone(broker.pid) and port_open("127.0.0.1", port)  # it outlived the thread that started it
        child.send_signal(how)
        child.wait(30)
        _assert_gone(broker.pid, port)


_SESSION = textwrap.dedent(
    """
    import os, time
    from pathlib import Path

    import pytest

    @pytest.fixture
    def torn_down():
        yield
        Path(os.environ["TORN_DOWN"]).write_text("yes")

    def test_waits(broker, torn_down):
        Path(os.environ["READY"]).write_text(f"{broker.process.pid} {broker.port}")
        time.sleep(600)
    """
)


def test_a_test_session_stopped_with_sigterm_tears_its_fixtures_down(tmp_path: Path) -> None:
    (tmp_path / "test_session.py").write_text(_SESSION)
    ready, torn_down = tmp_path / "ready", tmp_path / "torn_down"
    session = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "tests.conftest",
            "-p",
            "no:cacheprovider",
            "--rootdir",
            str(tmp_path),
            str(tmp_path / "test_session.py"),
        ],
        cwd=ROOT,
        env={**_child_env(), "READY": str(ready), "TORN_DOWN": str(torn_down)},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    with _cleaned_up(session) as broker:
        until(ready.exists, timeout=60, what="the inner session's test to start")
        broker.pid, port = (int(part) for part in ready.read_text().split())
        session.send_signal(signal.SIGTERM)
        output, _ = session.communicate(timeout=60)
        assert session.returncode == pytest.ExitCode.INTERRUPTED, output
        assert torn_down.read_text() == "yes"
        _assert_gone(broker.pid, port)
