"""The local HTTP port's server: routing, bad requests, slow clients, failing pages."""

from __future__ import annotations

import asyncio
import logging

import pytest

from bot import local_http
from bot.local_http import LocalHttp, Response


async def ok() -> Response:
    return Response(200, b"fine\n")


async def broken() -> Response:
    raise RuntimeError("secret detail 0612345678")


@pytest.fixture
async def server():  # type: ignore[no-untyped-def]
    http = LocalHttp({"/ok": ok, "/broken": broken})
    await http.start("127.0.0.1", 0)
    yield http
    await http.cleanup()


async def exchange(server: LocalHttp, raw: bytes) -> bytes:
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    writer.write(raw)
    await writer.drain()
    answer = await asyncio.wait_for(reader.read(), 10)
    writer.close()
    return answer


def status_of(answer: bytes) -> int:
    return int(answer.split(b" ", 2)[1])


async def test_get_on_a_route(server: LocalHttp) -> None:
    answer = await exchange(server, b"GET /ok?x=1 HTTP/1.1\r\nHost: a\r\n\r\n")
    head, body = answer.split(b"\r\n\r\n", 1)
    assert status_of(answer) == 200 and body == b"fine\n"
    assert b"content-length: 5" in head.lower() and b"connection: close" in head.lower()


async def test_unknown_path_and_other_methods(server: LocalHttp) -> None:
    assert status_of(await exchange(server, b"GET /nope HTTP/1.1\r\nHost: a\r\n\r\n")) == 404
    answer = await exchange(
        server, b"POST /ok HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabc"
    )
    assert status_of(answer) == 405 and b"allow: get" in answer.lower()


async def test_malformed_and_oversized_requests(server: LocalHttp) -> None:
    assert status_of(await exchange(server, b"this is not http\r\n\r\n")) == 400
    assert status_of(await exchange(server, b"GET /ok HTTP/1.1\r\n\r\n")) == 400  # no Host
    huge = b"GET /ok HTTP/1.1\r\nHost: a\r\nX: " + b"a" * 20_000 + b"\r\n\r\n"
    assert status_of(await exchange(server, huge)) == 431


async def test_a_failing_page_is_a_500_without_details(
    server: LocalHttp, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    answer = await exchange(server, b"GET /broken HTTP/1.1\r\nHost: a\r\n\r\n")
    assert status_of(answer) == 500 and b"0612345678" not in answer
    [record] = [r for r in caplog.records if r.getMessage() == "http_handler_failed"]
    assert record.kind == "RuntimeError" and "0612345678" not in caplog.text
    assert status_of(await exchange(server, b"GET /ok HTTP/1.1\r\nHost: a\r\n\r\n")) == 200


async def test_a_slow_client_is_answered_and_dropped(
    server: LocalHttp, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(local_http, "REQUEST_SECONDS", 0.2)
    answer = await exchange(server, b"GET /ok HTTP/1.1\r\n")  # the head never ends
    assert status_of(answer) == 408


async def test_cleanup_drops_open_connections(server: LocalHttp) -> None:
    port = server.port
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(b"GET /ok HTTP/1.1\r\n")  # incomplete: the server waits for the rest
    await writer.drain()
    await asyncio.sleep(0.05)
    await asyncio.wait_for(server.cleanup(), 5)
    assert await asyncio.wait_for(reader.read(), 5) == b""  # closed, not answered
    writer.close()
    with pytest.raises(OSError):
        await asyncio.open_connection("127.0.0.1", port)
