"""The HTTP protocol the services are served with: uvicorn's httptools protocol, a response in one send.

uvicorn writes a response's status line and headers as soon as the app starts the response, then its body:
two sends, and for the client two wake-ups and two reads, for a response whose body follows at once (every
JSON answer: a ``Response`` sends its start and its whole body back to back). Under 32 connections on a
small box, the send of the headers was the largest single cost of a GET by id (py-spy, 42 % of the
service's samples against 5 % for the body's). ``OneSendHttpProtocol`` holds the headers of a response
whose length is declared (``Content-Length``) and writes them with the body's first bytes: the same bytes
on the wire, in one send. A chunked or streamed response (no declared length), a bodiless one (HEAD, a zero
length) and the ``100 Continue`` interim line are written as uvicorn writes them; held headers are written
before the connection is closed, so a response the app fails to finish ends on the wire as it did.
"""

from __future__ import annotations

from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol, RequestResponseCycle


class _HeadWithBody:
    """The connection's transport as one response cycle writes to it: its headers go out with its body."""

    __slots__ = ("_cycle", "_head", "_head_seen", "_transport")

    def __init__(self, transport: Any, cycle: RequestResponseCycle) -> None:
        self._transport = transport
        self._cycle = cycle
        self._head: bytes | None = None
        self._head_seen = False

    def write(self, data: bytes) -> None:
        if self._head is not None:
            data = self._head + data
            self._head = None
        elif not self._head_seen and self._cycle.response_started:
            # The cycle writes its status line and headers once, as the first write after the response starts.
            self._head_seen = True
            cycle = self._cycle
            declared_body = cycle.chunked_encoding is False and cycle.expected_content_length > 0
            if declared_body and cycle.scope["method"] != "HEAD":
                self._head = data
                return
        self._transport.write(data)

    def close(self) -> None:
        if self._head is not None:
            head, self._head = self._head, None
            self._transport.write(head)
        self._transport.close()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)


class OneSendHttpProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol, sending a response of declared length (headers and body) in one write."""

    def _start_asgi_task(self, cycle: RequestResponseCycle, app: Any) -> None:
        cycle.transport = _HeadWithBody(cycle.transport, cycle)  # type: ignore[assignment]
        super()._start_asgi_task(cycle, app)
