"""Shared HTTP plumbing for the back-end clients: one httpx client per target (on `PooledTransport`), retries,
error mapping.

Retries cover 429/502/503/504 and connection errors, honour `Retry-After`, and back off
exponentially with a cap. Each back end supplies `parse_error(response)` to turn its own error body
into a `BackendError` with text a person can act on.

Faults are told in words, never as exception class names: an answer that is not JSON (a page from a proxy, a body
cut short) is `Reason.NOT_JSON`; a change whose answer does not say whether it happened is `OutcomeUnknown`. A
`budget` (the command's bound, set by the executor) cuts every attempt and retry wait at its deadline.
"""

from __future__ import annotations

import asyncio
import contextlib
import email.utils
import functools
import json
import logging
import random
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import AbstractAsyncContextManager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

import httpx

from bot.backends.transport import PooledTransport
from bot.errors import BackendError, OutcomeUnknown, Reason
from bot.metrics import Metrics
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


#: Methods that change nothing; every other method is a change unless the caller says otherwise.
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
#: Changes that may be sent again after a lost answer: a second PUT or DELETE does what the first did.
IDEMPOTENT_CHANGES = frozenset({"PUT", "DELETE"})
#: 5xx answers that say the change was refused, not half-done: not implemented, HTTP version, out of storage.
REFUSING_5XX = frozenset({501, 505, 507, 511})
#: Transport failures that happen before the request goes out (nothing can have changed).
NOT_SENT = (httpx.ConnectError, httpx.ProxyError, httpx.UnsupportedProtocol)


@dataclass
class Budget:
    """How long the current command may still wait on back ends, and the changes it has sent so far."""

    deadline: float | None  # time.monotonic() by which every request must be done; None: no bound
    sent: list[str] = field(default_factory=list)  # "DELETE /v1/projects/…", in the order sent

    def remaining(self) -> float | None:
        return None if self.deadline is None else self.deadline - time.monotonic()


_BUDGET: ContextVar[Budget | None] = ContextVar("projectops_backend_budget", default=None)


@contextlib.contextmanager
def budget(seconds: float | None) -> Iterator[Budget]:
    """Bound every back-end request made inside (by this task and the tasks it starts) to end within `seconds` from
    now: attempts are cut at the deadline, and no retry waits past it. The budget also notes each change sent, so a
    command cut short can tell whether it changed anything."""
    current = Budget(None if seconds is None else time.monotonic() + seconds)
    token = _BUDGET.set(current)
    try:
        yield current
    finally:
        _BUDGET.reset(token)


def remaining_seconds() -> float | None:
    """Seconds left in the current `budget`; None outside one."""
    current = _BUDGET.get()
    return current.remaining() if current is not None else None


def note_sent(method: str, path: str) -> None:
    current = _BUDGET.get()
    if current is not None:
        current.sent.append(f"{method} {path}")


def _within(seconds: float | None) -> AbstractAsyncContextManager[Any]:
    return asyncio.timeout(seconds) if seconds is not None else contextlib.nullcontext()


def _seconds(value: float | None) -> str:
    if value is None:
        return "?"
    return f"{value:.0f} s" if value >= 10 else f"{value:.1f} s".replace(".0 s", " s")


def looks_like_page(response: httpx.Response) -> bool:
    """Whether the body is a web page (HTML), which no API here answers with."""
    if "html" in response.headers.get("content-type", "").lower():
        return True
    return response.text.lstrip()[:1] == "<"


Send = Callable[..., Awaitable[httpx.Response]]


def observed(send: Send) -> Send:
    """Count a request once it ends, in `self.metrics` when `instrument` gave it some: its final status (the HTTP
    status, or the reason it got none) and its duration, retries and waits included."""

    @functools.wraps(send)
    async def request(self: HttpBackend, method: str, path: str, **kwargs: Any) -> httpx.Response:
        if self.metrics is None:
            return await send(self, method, path, **kwargs)
        started, status = time.monotonic(), "error"
        try:
            response = await send(self, method, path, **kwargs)
            status = str(response.status_code)
            return response
        except BackendError as exc:
            status = str(exc.status or exc.reason or "error")
            raise
        except asyncio.CancelledError:
            status = "cancelled"
            raise
        finally:
            self.metrics.backend_request(self.target_name, status, time.monotonic() - started)

    return request


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
        #: Where requests are counted (set by `instrument`, with the target's name); None counts nothing.
        self.metrics: Metrics | None = None
        self.target_name = backend

    def _retrying(self) -> None:
        if self.metrics is not None:
            self.metrics.backend_retry(self.target_name)

    @observed
    async def request(self, method: str, path: str, *, changes: bool | None = None, expect_json: bool = True,
                      **kwargs: Any) -> httpx.Response:
        """Send with retries; return a 2xx/3xx response or raise the mapped `BackendError`.

        `changes`: whether the request changes something (default: any method but GET, HEAD and OPTIONS). A change
        whose answer leaves its outcome open (no answer in time, a 5xx, the connection lost once the request was
        out, an answer that is not JSON) raises `OutcomeUnknown`, so the operation can re-read what is true.
        `expect_json`: a body that is not JSON is a `BackendError` naming the back end (`Reason.NOT_JSON`); the body
        is parsed once, here, and `response.json()` returns it. Inside a `budget`, no attempt and no wait for a retry
        runs past its deadline.
        """
        changes = method.upper() not in SAFE_METHODS if changes is None else changes
        unsure: OutcomeUnknown | None = None  # an earlier attempt of this change may have taken effect
        attempt = 0
        while True:
            attempt += 1
            left = remaining_seconds()
            if left is not None and left <= 0:
                raise unsure or self._timeout_error(None)
            if changes:
                note_sent(method, path)
            started = time.monotonic()
            try:
                async with self.attempt_slot(), _within(left):
                    response = await self.client.request(method, path, **kwargs)
            except (httpx.TimeoutException, TimeoutError) as exc:
                error = self._timeout_error(time.monotonic() - started)
                if changes and not isinstance(exc, httpx.ConnectTimeout | httpx.PoolTimeout):
                    waited = _seconds(time.monotonic() - started)
                    raise OutcomeUnknown(error, what=f"did not confirm within {waited}", method=method,
                                         path=path) from None
                backoff = self._backoff(attempt)
                if attempt < self.retry.attempts and not changes and self._may_wait(backoff):
                    self._retrying()
                    await asyncio.sleep(backoff)
                    continue
                raise unsure or error from None
            except httpx.TransportError as exc:
                sent = not isinstance(exc, NOT_SENT)
                error = self._transport_error(exc, sent)
                if changes and sent:
                    unsure = OutcomeUnknown(error, what="dropped the connection before answering", method=method,
                                            path=path)
                safe = not changes or not sent or method.upper() in IDEMPOTENT_CHANGES
                backoff = self._backoff(attempt)
                if attempt < self.retry.attempts and safe and self._may_wait(backoff):
                    self._retrying()
                    await asyncio.sleep(backoff)
                    continue
                raise unsure or error from None
            self.last_request_id = request_id_of(response)
            status = response.status_code
            if status < 400:
                return self._readable(response, method, path, changes, expect_json, unsure)
            retryable = status == 429 or not changes or method.upper() not in NON_IDEMPOTENT
            if status in RETRY_STATUSES and retryable and attempt < self.retry.attempts:
                wait = retry_after_seconds(response)
                if wait is None or wait > self.retry.max_retry_after:
                    wait = self._backoff(attempt) if wait is None else None
                if wait is not None and self._may_wait(wait):
                    log.info("%s %s %s -> %s, retrying in %.2fs", self.backend, method, path, status, wait)
                    if changes and status >= 500 and status not in REFUSING_5XX:
                        unsure = OutcomeUnknown(self._mapped(response), what=f"answered HTTP {status}",
                                                method=method, path=path)
                    self._retrying()
                    await asyncio.sleep(wait)
                    continue
            error = self._mapped(response)
            if changes and status >= 500 and status not in REFUSING_5XX:
                raise OutcomeUnknown(error, what=f"answered HTTP {status}", method=method, path=path)
            raise unsure or error  # after an attempt that may have done it, this answer cannot say

    def _mapped(self, response: httpx.Response) -> BackendError:
        """The back end's own error for a 4xx/5xx response, with the status, request id and next step filled in."""
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
                    f"{self.backend} is rate limiting us; try again in {max(wait, 1):.0f} s."
                    if wait else f"{self.backend} is rate limiting us; try again shortly."
                )
        elif response.status_code >= 500 and not error.hint:
            error.retryable = True
            error.hint = f"{self.backend} had a problem on its side; try again in a minute."
        return error

    def _readable(self, response: httpx.Response, method: str, path: str, changes: bool, expect_json: bool,
                  unsure: OutcomeUnknown | None) -> httpx.Response:
        """The response, its JSON body checked (parsed once); a body that is not JSON is a clear error."""
        if not expect_json or not response.content:
            return response
        try:
            data = json.loads(response.content)
        except ValueError:
            error = self._not_json(response, method, path)
            if changes:
                raise OutcomeUnknown(error, what="answered with something that is not JSON", method=method,
                                     path=path) from None
            raise (unsure or error) from None
        vars(response)["json"] = lambda **_: data  # `response.json()` returns what was parsed here
        return response

    def _not_json(self, response: httpx.Response, method: str, path: str) -> BackendError:
        text = response.text.lstrip()[:200].lower()
        if looks_like_page(response):
            what = "a web page (a proxy or a login page answering in its place?)"
        elif text[:1] in ("{", "["):
            what = "JSON that breaks off (the answer was cut short)"
        else:
            what = "something that is not JSON"
        shown = httpx.URL(path).path if "://" in path else path  # a full URL (a token endpoint): its path
        return BackendError(
            f"{self.backend} answered {method} {shown} with {what}.",
            "The target URL may point at the wrong service, or something in between answered instead.",
            backend=self.backend, status=response.status_code, request_id=self.last_request_id,
            reason=Reason.NOT_JSON,
        )

    def _timeout_error(self, waited: float | None) -> BackendError:
        within = f"within {_seconds(waited)}" if waited else "in time"
        return BackendError(
            f"{self.backend} did not answer {within}.",
            "It may be overloaded; try again in a minute.",
            backend=self.backend, retryable=True, reason=Reason.TIMEOUT,
        )

    def _transport_error(self, exc: httpx.TransportError, sent: bool) -> BackendError:
        if sent:
            return BackendError(
                f"The connection to {self.backend} broke before it answered.",
                "It may be restarting or overloaded; try again in a minute.",
                backend=self.backend, retryable=True, reason=Reason.CONNECTION_LOST,
            )
        if isinstance(exc, httpx.ProxyError):
            why = "the proxy in between refused the connection"
        elif isinstance(exc, httpx.UnsupportedProtocol):
            why = "its URL is not an http or https URL"
        else:
            why = "the connection was refused, or the host is unknown"
        return BackendError(
            f"Could not reach {self.backend} at {self.client.base_url}: {why}.",
            "Check the target's URL and that the service is up.",
            backend=self.backend, retryable=True, reason=Reason.UNREACHABLE,
        )

    @staticmethod
    def _may_wait(seconds: float) -> bool:
        """Whether waiting `seconds` before a retry still leaves time for it within the budget."""
        left = remaining_seconds()
        return left is None or seconds < left

    def _backoff(self, attempt: int) -> float:
        delay = min(self.retry.max_delay, self.retry.base_delay * 2 ** (attempt - 1))
        return delay * (0.5 + random.random() / 2)

    async def get_json(self, path: str, **kwargs: Any) -> Any:
        return (await self.request("GET", path, **kwargs)).json()

    async def aclose(self) -> None:
        await self.client.aclose()


def instrument(client: object, target_name: str, metrics: Metrics | None) -> None:
    """Count `client`'s back-end requests (its `http`, an `HttpBackend`) in `metrics` under `target_name`."""
    http = getattr(client, "http", None)
    if isinstance(http, HttpBackend) and metrics is not None:
        http.metrics, http.target_name = metrics, target_name


def body_text(response: httpx.Response, limit: int = 300) -> str:
    """The body as one short line, for error messages of unknown shape; "" when it is not words a person should
    read: a web page, a JSON document (of a shape the back end's parser did not know), several lines (a stack
    trace). Callers fall back to the status and its reason phrase."""
    text = response.text.strip()
    if not text or looks_like_page(response) or text[0] in "{[" or "\n" in text or "Traceback" in text:
        return ""
    return (text[:limit] + "…") if len(text) > limit else text
