"""PooledTransport over real sockets: answers, a refused port, a server that hangs up, a slow answer."""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import AsyncIterator

import certifi
import httpx
import pytest

from bot.backends.http import HttpBackend, RetryPolicy
from bot.backends.transport import PooledTransport, environment_proxy, tls_context
from bot.errors import BackendError, Reason
from sandbox.serving import free_port

ONCE = RetryPolicy(attempts=1)


def backend(url: str, timeout: float = 2.0) -> HttpBackend:
    def parse_error(response: httpx.Response) -> BackendError:
        return BackendError(f"status {response.status_code}")

    return HttpBackend("Example", url, parse_error=parse_error, timeout=timeout, retry=ONCE)


Reader, Writer = asyncio.StreamReader, asyncio.StreamWriter


async def answer(reader: Reader, writer: Writer) -> None:
    while await reader.readuntil(b"\r\n\r\n"):
        writer.write(b'HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 11\r\n\r\n{"ok":true}')
        await writer.drain()


async def hang_up(reader: Reader, writer: Writer) -> None:
    await reader.readuntil(b"\r\n\r\n")
    writer.close()


async def say_nothing(reader: Reader, writer: Writer) -> None:
    await reader.readuntil(b"\r\n\r\n")
    await asyncio.sleep(1)


async def garble(reader: Reader, writer: Writer) -> None:
    await reader.readuntil(b"\r\n\r\n")
    writer.write(b"HTTP/1.1 200 OK\r\nx-huge: " + b"a" * 20_000 + b"\r\n\r\n")  # over aiohttp's header limit
    await writer.drain()
    writer.close()


@pytest.fixture
async def server(request: pytest.FixtureRequest) -> AsyncIterator[str]:
    """A raw TCP server on 127.0.0.1 behaving as the parametrized handler says; yields its URL."""
    tcp = await asyncio.start_server(request.param, "127.0.0.1", 0)
    try:
        yield f"http://127.0.0.1:{tcp.sockets[0].getsockname()[1]}"
    finally:
        tcp.close()
        await tcp.wait_closed()


def behaving(handler):
    return pytest.mark.parametrize("server", [handler], indirect=True)


@behaving(answer)
async def test_requests_share_pooled_connections(server: str) -> None:
    http = backend(server)
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
        assert info.value.message.startswith("Could not reach Example") and "refused" in info.value.message
        assert "Error" not in info.value.message  # words, never an exception's class name
        assert info.value.retryable and info.value.reason == Reason.UNREACHABLE and "/projects" not in str(info.value)
    finally:
        await http.aclose()


@behaving(hang_up)
async def test_a_server_hanging_up_is_a_transport_error_not_a_crash(server: str) -> None:
    http = backend(server)
    try:
        with pytest.raises(BackendError) as info:
            await http.get_json("/v1/things")
        assert info.value.message == "The connection to Example broke before it answered."
        assert info.value.reason == Reason.CONNECTION_LOST
    finally:
        await http.aclose()


@behaving(say_nothing)
async def test_a_silent_server_times_out_with_a_clear_message(server: str) -> None:
    http = backend(server, timeout=0.2)
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


@behaving(garble)
async def test_a_malformed_answer_is_a_transport_error_with_a_clear_message(server: str) -> None:
    http = backend(server)
    try:
        with pytest.raises(BackendError) as info:
            await http.get_json("/v1/things")
        assert info.value.message == "The connection to Example broke before it answered." and info.value.retryable
    finally:
        await http.aclose()


@behaving(answer)
async def test_the_environments_proxy_is_used(server: str, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("http_proxy", "all_proxy", "ALL_PROXY", "NO_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HTTP_PROXY", server)  # the "proxy" answers every request itself
    http = backend("http://backend.invalid")
    try:
        assert await http.get_json("/v1/things") == {"ok": True}
    finally:
        await http.aclose()
    monkeypatch.setenv("NO_PROXY", "backend.invalid")
    assert environment_proxy("http://backend.invalid/api") is None
    assert str(environment_proxy("http://other.invalid/api").url) == server


@behaving(answer)
async def test_a_netrc_file_changes_nothing(server: str, tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    netrc = tmp_path / "netrc"
    netrc.write_text("default login someone password secret\n")
    monkeypatch.setenv("NETRC", str(netrc))
    http = backend(server)
    http.client.headers["Authorization"] = "Bearer token"  # like the Terraform client
    try:
        assert await http.get_json("/v1/things") == {"ok": True}
    finally:
        await http.aclose()


def test_transports_share_one_tls_context_per_ca_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    monkeypatch.delenv("SSL_CERT_DIR", raising=False)
    default = PooledTransport(4, "https://example.invalid")
    assert default.ssl_context is PooledTransport(4).ssl_context is tls_context()
    assert default.ssl_context.verify_mode == ssl.CERT_REQUIRED and default.ssl_context.check_hostname
    monkeypatch.setenv("SSL_CERT_FILE", certifi.where())  # an own CA bundle: its own context
    assert PooledTransport(4).ssl_context is not default.ssl_context
    assert PooledTransport(4).ssl_context is tls_context()
