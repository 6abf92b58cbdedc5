"""PooledTransport over real sockets: answers, a refused port, a server that hangs up, a slow answer."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import httpx
import pytest

from bot.backends.http import HttpBackend, RetryPolicy
from bot.backends.transport import PooledTransport
from bot.errors import BackendError
from sandbox.serving import free_port

ONCE = RetryPolicy(attempts=1)


def backend(url: str, timeout: float = 2.0) -> HttpBackend:
    def parse_error(response: httpx.Response) -> BackendError:
        return BackendError(f"status {response.status_code}")

    return HttpBackend("Example", url, parse_error=parse_error, timeout=timeout, retry=ONCE)


async def tcp_server(handle) -> AsyncIterator[str]:
    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.close()


@pytest.fixture
async def answering() -> AsyncIterator[str]:
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while await reader.readuntil(b"\r\n\r\n"):
            writer.write(b'HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 11\r\n\r\n{"ok":true}')
            await writer.drain()

    async for url in tcp_server(handle):
        yield url


@pytest.fixture
async def hanging_up() -> AsyncIterator[str]:
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.close()

    async for url in tcp_server(handle):
        yield url


@pytest.fixture
async def silent() -> AsyncIterator[str]:
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        await asyncio.sleep(5)

    async for url in tcp_server(handle):
        yield url


async def test_requests_share_pooled_connections(answering: str) -> None:
    http = backend(answering)
    try:
        bodies = await asyncio.gather(*(http.get_json("/v1/things") for _ in range(20)))
        assert bodies == [{"ok": True}] * 20
    finally:
        await http.aclose()


async def test_a_refused_connection_says_the_back_end_cannot_be_reached() -> None:
    http = backend(f"http://127.0.0.1:{free_port()}")
    try:
        with pytest.raises(BackendError) as info:
            await http.get_json("/v1/things")
        assert info.value.message.startswith("Could not reach Example") and "(ConnectError)" in info.value.message
        assert info.value.retryable
    finally:
        await http.aclose()


async def test_a_server_hanging_up_is_a_transport_error_not_a_crash(hanging_up: str) -> None:
    http = backend(hanging_up)
    try:
        with pytest.raises(BackendError) as info:
            await http.get_json("/v1/things")
        assert info.value.message.startswith("Could not reach Example")
    finally:
        await http.aclose()


async def test_a_silent_server_times_out_with_a_clear_message(silent: str) -> None:
    http = backend(silent, timeout=0.2)
    try:
        with pytest.raises(BackendError) as info:
            await http.get_json("/v1/things")
        assert "did not answer within 0.2 s" in info.value.message
    finally:
        await http.aclose()


async def test_mapping_keeps_httpx_exception_types() -> None:
    transport = PooledTransport(max_connections=2)
    request = httpx.Request("GET", f"http://127.0.0.1:{free_port()}/")
    try:
        with pytest.raises(httpx.ConnectError):
            await transport.handle_async_request(request)
    finally:
        await transport.aclose()


@pytest.fixture
async def garbling() -> AsyncIterator[str]:
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.1 200 OK\r\nx-huge: " + b"a" * 20_000 + b"\r\n\r\n")
        await writer.drain()
        writer.close()

    async for url in tcp_server(handle):
        yield url


async def test_a_malformed_answer_is_a_transport_error_with_a_clear_message(garbling: str) -> None:
    http = backend(garbling)
    try:
        with pytest.raises(BackendError) as info:
            await http.get_json("/v1/things")
        assert info.value.message.startswith("Could not reach Example") and info.value.retryable
    finally:
        await http.aclose()


async def test_the_environments_proxy_is_used(answering: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HTTP_PROXY", answering)  # the "proxy" answers every request itself
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    http = backend("http://backend.invalid")
    try:
        assert await http.get_json("/v1/things") == {"ok": True}
    finally:
        await http.aclose()
