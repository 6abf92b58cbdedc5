"""The transport under every back-end client: httpx's API over aiohttp's connection pool.

httpx's own pool looks at every connection on each request, so a digest that fans out over thousands
of projects spends most of its time there; aiohttp's pool (via `httpx-aiohttp`) costs a fraction per
request. Every aiohttp failure is mapped back to the httpx exception `HttpBackend` tells apart: a refused
connection is a `ConnectError` (the back end is down), a timeout a `TimeoutException`, anything else a
`TransportError`. Proxy (`HTTPS_PROXY`, `NO_PROXY`) and CA bundle (`SSL_CERT_FILE`) variables are read once,
when the transport is made (aiohttp's own `trust_env` would look them, and ~/.netrc, up on every request), and
every transport shares one TLS context per CA setting (`tls_context`): loading the CA bundle takes tens of ms,
once per client otherwise (an app builds one per target, a digest one per fan-out).
"""

from __future__ import annotations

import functools
import os
import ssl
import urllib.parse
import urllib.request

import aiohttp
import certifi
import httpx
from httpx_aiohttp import AiohttpTransport

#: aiohttp failure -> the httpx exception it means; the first that matches wins, so subclasses come first.
_FAILURES: tuple[tuple[type[BaseException], type[httpx.TransportError]], ...] = (
    (aiohttp.ClientProxyConnectionError, httpx.ProxyError),
    (aiohttp.ClientHttpProxyError, httpx.ProxyError),
    (aiohttp.InvalidURL, httpx.UnsupportedProtocol),
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


def environment_proxy(url: str) -> httpx.Proxy | None:
    """The proxy the environment names for `url` (`HTTPS_PROXY`/`HTTP_PROXY`/`ALL_PROXY`, minus `NO_PROXY`)."""
    parts = urllib.parse.urlsplit(url)
    if not parts.hostname or urllib.request.proxy_bypass(parts.hostname):
        return None
    proxies = urllib.request.getproxies()
    chosen = proxies.get(parts.scheme) or proxies.get("all")
    return httpx.Proxy(chosen) if chosen else None


@functools.lru_cache(maxsize=4)
def _tls_context(cert_file: str, cert_dir: str) -> ssl.SSLContext:
    if cert_file:
        return ssl.create_default_context(cafile=cert_file)
    if cert_dir:
        return ssl.create_default_context(capath=cert_dir)
    return ssl.create_default_context(cafile=certifi.where())  # httpx's default bundle


def tls_context() -> ssl.SSLContext:
    """The verifying TLS context for the CA setting now in the environment, built once per setting."""
    return _tls_context(os.environ.get("SSL_CERT_FILE", ""), os.environ.get("SSL_CERT_DIR", ""))


class PooledTransport(AiohttpTransport):
    """`AiohttpTransport` with one pool of `max_connections`, the environment's proxy for `base_url` and CA
    settings, and failures mapped as above."""

    def __init__(self, max_connections: int = 64, base_url: str = "") -> None:
        limits = httpx.Limits(max_connections=max_connections, max_keepalive_connections=max_connections)
        super().__init__(verify=tls_context(), limits=limits, client=self._session,
                         proxy=environment_proxy(base_url) if base_url else None)

    def _session(self) -> aiohttp.ClientSession:
        connector = aiohttp.TCPConnector(limit=self.limits.max_connections or 0, ssl=self.ssl_context,
                                         keepalive_timeout=self.limits.keepalive_expiry)
        return aiohttp.ClientSession(connector=connector, trust_env=False)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        try:
            return await super().handle_async_request(request)
        except (httpx.TransportError, aiohttp.ClientError) as exc:
            mapped = as_httpx_error(exc, request)
            if mapped is None or type(mapped) is type(exc):
                raise
            raise mapped from exc
