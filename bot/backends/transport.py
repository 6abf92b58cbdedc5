"""The transport under every back-end client: httpx's API over aiohttp's connection pool.

httpx's own pool looks at every connection on each request, so a digest that fans out over thousands
of projects spends most of its time there; aiohttp's pool (via `httpx-aiohttp`) costs a fraction per
request. Every aiohttp failure is mapped back to the httpx exception `HttpBackend` tells apart: a refused
connection is a `ConnectError` (the back end is down), a timeout a `TimeoutException`, anything else a
`TransportError`. Proxy (`HTTPS_PROXY`, `NO_PROXY`) and CA bundle (`SSL_CERT_FILE`) variables are honoured,
as httpx does by default.
"""

from __future__ import annotations

import aiohttp
import httpx
from httpx_aiohttp import AiohttpTransport

#: aiohttp failure -> the httpx exception it means; the first that matches wins, so subclasses come first.
_FAILURES: tuple[tuple[type[BaseException], type[httpx.TransportError]], ...] = (
    (aiohttp.ClientConnectorError, httpx.ConnectError),
    (aiohttp.ConnectionTimeoutError, httpx.ConnectTimeout),
    (aiohttp.ServerTimeoutError, httpx.ReadTimeout),
    (aiohttp.ServerDisconnectedError, httpx.RemoteProtocolError),
    (aiohttp.ClientConnectionResetError, httpx.WriteError),
    (aiohttp.ClientOSError, httpx.ReadError),
    (aiohttp.ClientPayloadError, httpx.ReadError),
    (aiohttp.ClientResponseError, httpx.RemoteProtocolError),
    (aiohttp.ClientError, httpx.TransportError),
)


def as_httpx_error(exc: BaseException, request: httpx.Request) -> httpx.TransportError | None:
    """The httpx exception an aiohttp failure (raised as is, or as the cause of httpx-aiohttp's guess) means."""
    failure = exc.__cause__ if isinstance(exc, httpx.TransportError) else exc
    for kind, meaning in _FAILURES:
        if isinstance(failure, kind):
            return meaning(str(failure) or type(failure).__name__, request=request)
    return None


class PooledTransport(AiohttpTransport):
    """`AiohttpTransport` with one pool of `max_connections`, the environment's proxy and CA settings, and
    failures mapped as above."""

    def __init__(self, max_connections: int = 64) -> None:
        limits = httpx.Limits(max_connections=max_connections, max_keepalive_connections=max_connections)
        super().__init__(limits=limits, trust_env=True, client=self._session)

    def _session(self) -> aiohttp.ClientSession:
        connector = aiohttp.TCPConnector(limit=self.limits.max_connections or 0, ssl=self.ssl_context,
                                         keepalive_timeout=self.limits.keepalive_expiry)
        return aiohttp.ClientSession(connector=connector, trust_env=True)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        try:
            return await super().handle_async_request(request)
        except (httpx.TransportError, aiohttp.ClientError) as exc:
            mapped = as_httpx_error(exc, request)
            if mapped is None or type(mapped) is type(exc):
                raise
            raise mapped from exc
