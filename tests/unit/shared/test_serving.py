"""shared.serving.OneSendHttpProtocol: the same bytes on the wire as uvicorn's httptools protocol, a response
of declared length in one send."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from starlette.responses import Response, StreamingResponse
from uvicorn.config import Config
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
from uvicorn.server import ServerState

from shared.serving import OneSendHttpProtocol


class _Transport(asyncio.Transport):
    """A connection's transport that records what the protocol writes."""

    def __init__(self) -> None:
        super().__init__()
        self.writes: list[bytes] = []
        self.closed = False

    def write(self, data: bytes | bytearray | memoryview) -> None:
        self.writes.append(bytes(data))

    def close(self) -> None:
        self.closed = True

    def is_closing(self) -> bool:
        return self.closed

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return {"peername": ("127.0.0.1", 50000), "sockname": ("127.0.0.1", 8000)}.get(name, default)

    def pause_reading(self) -> None:
        pass

    def resume_reading(self) -> None:
        pass


async def _json(scope: Any, receive: Any, send: Any) -> None:
    await Response(b'{"id": "1", "name": "Acme"}', media_type="application/json", headers={"ETag": '"3"'})(
        scope, receive, send
    )


async def _streamed(scope: Any, receive: Any, send: Any) -> None:
    async def chunks() -> Any:
        yield b"first,"
        yield b"second"

    await StreamingResponse(chunks(), media_type="text/csv")(scope, receive, send)


async def _no_content(scope: Any, receive: Any, send: Any) -> None:
    await Response(status_code=204)(scope, receive, send)


async def _empty(scope: Any, receive: Any, send: Any) -> None:
    await Response(b"", media_type="application/json")(scope, receive, send)


async def _in_parts(scope: Any, receive: Any, send: Any) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"10")]})
    await send({"type": "http.response.body", "body": b"01234", "more_body": True})
    await send({"type": "http.response.body", "body": b"56789"})


async def _fails_after_start(scope: Any, receive: Any, send: Any) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"10")]})
    raise RuntimeError("failed after the start")


async def _fails_before_start(scope: Any, receive: Any, send: Any) -> None:
    raise RuntimeError("failed before the start")


async def _echo(scope: Any, receive: Any, send: Any) -> None:
    body = b""
    more = True
    while more:
        message = await receive()
        body += message.get("body", b"")
        more = message.get("more_body", False)
    await Response(body, media_type="application/json")(scope, receive, send)


GET = b"GET /v1/customers/1 HTTP/1.1\r\nHost: service\r\n\r\n"
HEAD = b"HEAD /v1/customers/1 HTTP/1.1\r\nHost: service\r\n\r\n"
CLOSE = b"GET /v1/customers/1 HTTP/1.1\r\nHost: service\r\nConnection: close\r\n\r\n"
CONTINUE = b"POST /v1/x HTTP/1.1\r\nHost: s\r\nExpect: 100-continue\r\nContent-Length: 7\r\n\r\n"

CASES = [
    # (app, request, body sent after the request's head, sends by OneSendHttpProtocol)
    (_json, GET, b"", 1),
    (_json, HEAD, b"", 1),
    (_json, CLOSE, b"", 1),
    (_in_parts, GET, b"", 2),
    (_streamed, GET, b"", 4),
    (_no_content, GET, b"", 2),
    (_empty, GET, b"", 2),
    (_fails_after_start, GET, b"", 1),
    (_fails_before_start, GET, b"", 1),
    (_echo, CONTINUE, b'{"a":1}', 2),
]


async def _exchange(protocol_class: type[HttpToolsProtocol], app: Any, head: bytes, body: bytes) -> _Transport:
    config = Config(app=app, log_config=None, access_log=False, proxy_headers=False, lifespan="off")
    config.load()
    state = ServerState()
    protocol = protocol_class(config=config, server_state=state, app_state={})
    transport = _Transport()
    protocol.connection_made(transport)
    protocol.data_received(head)
    for _ in range(20):
        await asyncio.sleep(0)
    if body:
        protocol.data_received(body)
    await asyncio.wait_for(asyncio.gather(*state.tasks), 5)
    return transport


@pytest.mark.parametrize(("app", "head", "body", "sends"), CASES, ids=[f"{c[0].__name__}-{c[1][:4]!r}" for c in CASES])
async def test_the_same_bytes_as_uvicorn_writes(app: Any, head: bytes, body: bytes, sends: int) -> None:
    uvicorns = await _exchange(HttpToolsProtocol, app, head, body)
    ours = await _exchange(OneSendHttpProtocol, app, head, body)
    assert b"".join(ours.writes) == b"".join(uvicorns.writes)
    assert ours.closed == uvicorns.closed
    assert len(ours.writes) == sends


async def test_a_json_answer_goes_in_one_send_where_uvicorn_needs_two() -> None:
    uvicorns = await _exchange(HttpToolsProtocol, _json, GET, b"")
    ours = await _exchange(OneSendHttpProtocol, _json, GET, b"")
    assert len(uvicorns.writes) == 2
    assert ours.writes == [uvicorns.writes[0] + uvicorns.writes[1]]
    assert ours.writes[0].endswith(b'\r\n\r\n{"id": "1", "name": "Acme"}')
