"""Child processes that die with the process that started them, however it ends (SIGTERM, SIGINT, SIGKILL).

On Linux a child is started with ``prctl(PR_SET_PDEATHSIG, SIGKILL)``: the kernel kills it when its parent
goes, so a test run or a ``creditflow up`` that is killed leaves no broker or service behind. The signal
fires when the parent *thread* that forked the child exits, not the process; children are therefore
always forked from the main thread or from one long-lived daemon thread that lasts as long as the
process. Elsewhere (macOS) children are started plainly: only a clean stop reaches them.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import queue
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Sequence
from typing import Any

_PR_SET_PDEATHSIG = 1

Spawn = Callable[[], "subprocess.Popen[bytes]"]


def _die_with_parent_hook() -> Callable[[], None] | None:
    """The preexec function that ties a child to its parent, or None where the kernel offers no such thing."""
    if not sys.platform.startswith("linux"):
        return None
    libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
    prctl = libc.prctl  # resolved here: the forked child runs no imports and no lookups
    prctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong]
    parent = os.getpid()

    def die_with_parent() -> None:
        prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        if os.getppid() != parent:  # the parent died before prctl took effect: nobody would stop us
            os.kill(os.getpid(), signal.SIGKILL)

    return die_with_parent


class _Spawner(threading.Thread):
    """A daemon thread that lives as long as the process and forks the children other threads ask for."""

    def __init__(self) -> None:
        super().__init__(name="child-spawner", daemon=True)
        self.requests: queue.Queue[tuple[Spawn, queue.Queue[tuple[bool, Any]]]] = queue.Queue()

    def run(self) -> None:
        while True:
            spawn, answer = self.requests.get()
            try:
                answer.put((True, spawn()))
            except BaseException as exc:  # handed to the caller, which raises it
                answer.put((False, exc))


_spawner: _Spawner | None = None
_spawner_lock = threading.Lock()


def _from_a_long_lived_thread(spawn: Spawn) -> subprocess.Popen[bytes]:
    if threading.current_thread() is threading.main_thread():
        return spawn()
    global _spawner
    with _spawner_lock:
        if _spawner is None:
            _spawner = _Spawner()
            _spawner.start()
    answer: queue.Queue[tuple[bool, Any]] = queue.Queue(maxsize=1)
    _spawner.requests.put((spawn, answer))
    ok, result = answer.get()
    if not ok:
        raise result
    assert isinstance(result, subprocess.Popen)
    return result


def start_tied_child(args: Sequence[str], **popen: Any) -> subprocess.Popen[bytes]:
    """``subprocess.Popen(args, **popen)``, the child killed by the kernel when this process ends (Linux)."""
    hook = _die_with_parent_hook()

    def spawn() -> subprocess.Popen[bytes]:
        return subprocess.Popen(list(args), preexec_fn=hook, **popen)

    return _from_a_long_lived_thread(spawn)
