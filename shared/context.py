"""Per-request (or per-event) context: request id and W3C trace context, carried into Kafka headers."""

from __future__ import annotations

import os
import re
import secrets
import threading
import uuid
from contextvars import ContextVar

request_id_var: ContextVar[str | None] = ContextVar("request_id", default=None)
traceparent_var: ContextVar[str | None] = ContextVar("traceparent", default=None)

_TRACEPARENT = re.compile(r"^00-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$")


_RANDOM_BATCH = 4096
_random = memoryview(b"")
_random_lock = threading.Lock()  # two threads never take the same bytes


def _random_bytes(count: int) -> bytes:
    """``count`` bytes of the OS's random source, read 4 KiB at a time (``uuid4`` and ``token_hex`` read it
    once per call: three system calls per request for its id and traceparent)."""
    global _random
    with _random_lock:
        if len(_random) < count:
            _random = memoryview(os.urandom(_RANDOM_BATCH))
        taken, _random = _random[:count], _random[count:]
    return taken.tobytes()


def _forget_random_bytes() -> None:
    # A forked child must not hand out the bytes its parent hands out too (nor wait on a lock held at the fork).
    global _random, _random_lock
    _random = memoryview(b"")
    _random_lock = threading.Lock()


os.register_at_fork(after_in_child=_forget_random_bytes)


def new_request_id() -> str:
    """A random (version 4) UUID as 32 hex digits, as ``uuid.uuid4().hex``."""
    return uuid.UUID(bytes=_random_bytes(16), version=4).hex


def valid_traceparent(value: str | None) -> str | None:
    """The header if it is a well-formed version-00 traceparent, else None."""
    if value and _TRACEPARENT.match(value.strip().lower()):
        trace_id = value.strip().lower().split("-")[1]
        return value.strip().lower() if trace_id != "0" * 32 else None
    return None


def new_traceparent() -> str:
    """A new sampled trace: random trace id (16 bytes) and span id (8 bytes), as ``secrets.token_hex`` gives."""
    random = _random_bytes(24)
    return f"00-{random[:16].hex()}-{random[16:].hex()}-01"


def child_traceparent(parent: str) -> str:
    """Same trace, new span id: what a hop (HTTP -> Kafka -> consumer) should carry on."""
    _, trace_id, _, flags = parent.split("-")
    return f"00-{trace_id}-{secrets.token_hex(8)}-{flags}"


def propagation_headers() -> dict[str, str]:
    """Headers an outgoing event carries so one invoice can be followed across services."""
    headers: dict[str, str] = {}
    if (rid := request_id_var.get()) is not None:
        headers["x-request-id"] = rid
    from shared.tracing import current_traceparent  # the span in progress, when tracing is on

    if (span_traceparent := current_traceparent()) is not None:
        headers["traceparent"] = span_traceparent
    elif (tp := traceparent_var.get()) is not None:
        headers["traceparent"] = child_traceparent(tp)
    return headers
