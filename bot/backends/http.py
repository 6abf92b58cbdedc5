"""Shared HTTP plumbing for the back-end clients: one httpx client per target (on `PooledTransport`), retries,
error mapping.

Retries cover 429/502/503/504 and connection errors, honour `Retry-After`, and back off
exponentially with a cap. Each back end supplies `parse_error(response)` to turn its own error body
into a `BackendError` with text a person can act on.
"""

from __future__ import annotations

import asyncio
import contextlib
import email.utils
import logging
import random
import time
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import Any

import httpx

from bot.backends.transport import PooledTransport
from bot.errors import BackendError, Reason
from bot.redact import scrub

log = logging.getLogger("projectops.backends")

RETRY_STATUSES = frozenset({429, 502, 503, 504})
#: POST and PATCH may have taken effect behind a failing gateway: retry them only when surely not applied.
NON_IDEMPOTENT = frozenset({"POST", "PATCH"})
REQUEST_ID_HEADERS = ("x-request-id", "x-amzn-requestid", "x-correlation-id", "x-trace-id")


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 4
    base_delay: float = 0.25
    max_delay: float = 8.0
    max_retry_after: float = 30.0


def retry_after_seconds(response: httpx.Response) -> float | None:
    """Parse `Retry-After` as seconds or an HTTP date; None when absent or unreadable."""
    value = response.headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        parsed = email.utils.parsedate_to_datetime(value)
        return max(0.0, parsed.timestamp() - time.time()) if parsed else None


def request_id_of(response: httpx.Response) -> str:
    for header in REQUEST_ID_HEADERS:
        if header in response.headers:
            return response.headers[header]
    return ""


class HttpBackend:
    """An httpx.AsyncClient with the retry loop and the back end's error mapping."""

    def __init__(
        self,
        backend: str,
        base_url: str,
        *,
        parse_error: Callable[[httpx.Response], BackendError],
        headers: dict[str, str] | None = None,
        auth: httpx.Auth | None = None,
        timeout: float = 10.0,
        retry: RetryPolicy | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        max_connections: int = 50,
        attempt_slot: Callable[[], AbstractAsyncContextManager[Any]] | None = None,
    ) -> None:
        """`attempt_slot`: held around each attempt (not the waits between them), e.g. a rate limiter's place."""
        self.backend = backend
        self.attempt_slot = attempt_slot or contextlib.nullcontext
        self.parse_error = parse_error
        self.retry = retry or RetryPolicy()
        self.client = httpx.AsyncClient(
            base_url=base_url,
            headers=headers,
            auth=auth,
            timeout=httpx.Timeout(timeout, connect=min(timeout, 5.0)),
            transport=transport or PooledTransport(max_connections, base_url),
        )
        self.last_request_id = ""

    async def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """Send with retries; return a 2xx/3xx response or raise the mapped `BackendError`."""
        attempt = 0
        while True:
            attempt += 1
            try:
                async with self.attempt_slot():
                    response = await self.client.request(method, path, **kwargs)
            except httpx.TimeoutException:
                if attempt < self.retry.attempts and method in ("GET", "HEAD"):
                    await asyncio.sleep(self._backoff(attempt))
                    continue
                raise BackendError(
                    f"{self.backend} did not answer within {self.client.timeout.read:g} s.",
                    "It may be overloaded; try again in a minute.",
                    backend=self.backend,
                    retryable=True,
                    reason=Reason.TIMEOUT,
                ) from None
            except httpx.TransportError as exc:
                safe = method not in NON_IDEMPOTENT or isinstance(exc, httpx.ConnectError)
                if attempt < self.retry.attempts and safe:
                    await asyncio.sleep(self._backoff(attempt))
                    continue
                raise BackendError(
                    f"Could not reach {self.backend} at {self.client.base_url} ({type(exc).__name__}).",
                    "Check the target's URL and that the service is up.",
                    backend=self.backend,
                    retryable=True,
                    reason=Reason.UNREACHABLE,
                ) from None
            self.last_request_id = request_id_of(response)
            if response.status_code < 400:
                return response
            retryable = response.status_code == 429 or method not in NON_IDEMPOTENT
            if response.status_code in RETRY_STATUSES and retryable and attempt < self.retry.attempts:
                wait = retry_after_seconds(response)
                if wait is None or wait > self.retry.max_retry_after:
                    wait = self._backoff(attempt) if wait is None else None
                if wait is not None:
                    log.info("%s %s %s -> %s, retrying in %.2fs", self.backend, method, path,
                             response.status_code, wait)
                    await asyncio.sleep(wait)
                    continue
            error = self.parse_error(response)
            error.backend = error.backend or self.backend
            error.status = response.status_code
            error.request_id = error.request_id or self.last_request_id
            error.message = scrub(error.message)
            if response.status_code == 429:
                error.retryable = True
                wait = retry_after_seconds(response)
                if not error.hint:
                    error.hint = (
                        f"{self.backend} is rate limiting us; try again in {wait:.0f} s."
                        if wait else f"{self.backend} is rate limiting us; try again shortly."
                    )
            elif response.status_code >= 500 and not error.hint:
                error.retryable = True
                error.hint = f"{self.backend} had a problem on its side; try again in a minute."
            raise error

    def _backoff(self, attempt: int) -> float:
        delay = min(self.retry.max_delay, self.retry.base_delay * 2 ** (attempt - 1))
        return delay * (0.5 + random.random() / 2)

    async def get_json(self, path: str, **kwargs: Any) -> Any:
        return (await self.request("GET", path, **kwargs)).json()

    async def aclose(self) -> None:
        await self.client.aclose()


def body_text(response: httpx.Response, limit: int = 300) -> str:
    """The response body as short text, for error messages of unknown shape."""
    text = response.text.strip()
    return (text[:limit] + "…") if len(text) > limit else text
