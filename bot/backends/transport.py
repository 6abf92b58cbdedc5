"""The transport under every back-end client: httpx's API over aiohttp's connection pool.

httpx's own pool looks at every connection on each request, so a digest that fans out over thousands
of projects spends most of its time there; aiohttp's pool (via `httpx-aiohttp`) costs a fraction per
request. Failures are mapped back to the httpx exceptions `HttpBackend` distinguishes: a refused
connection is a `ConnectError` (the back end is down), not a timeout.
"""

from __future__ import annotations

import aiohttp
import httpx
from httpx_aiohttp import AiohttpTransport

#: aiohttp failure -> the httpx exception it means, most specific first.
_FAILURES: tuple[tuple[type[BaseException], type[httpx.TransportError]], ...] = (
    (aiohttp.ClientConnectorError, httpx.ConnectError),
    (aiohttp.ConnectionTimeoutError, httpx.ConnectTimeout),
    (aiohttp.SocketTimeoutError, httpx.ReadTimeout),
    (aiohttp.ServerDisconnectedError, httpx.RemoteProtocolError),
    (aiohttp.ClientPayloadError, httpx.ReadError),
    (aiohttp.ClientOSError, httpx.ReadError),
)


class PooledTransport(AiohttpTransport):
    """`AiohttpTransport` that reports a refused connection as `ConnectError` and a lost one as a read error."""

    def __init__(self, max_connections: int = 64) -> None:
        limits = httpx.Limits(max_connections=max_connections, max_keepalive_connections=max_connections)
        super().__init__(limits=limits, trust_env=False)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        try:
            return await super().handle_async_request(request)
        except httpx.TransportError as exc:
            cause = exc.__cause__
            for failure, meaning in _FAILURES:
                if isinstance(cause, failure):
                    if isinstance(exc, meaning):
                        raise
                    raise meaning(str(exc), request=request) from cause
            raise
