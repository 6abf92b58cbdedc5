"""Fault injection shared by the back-end emulators.

Every emulator wraps its ASGI app in `FaultMiddleware`. Tests and benchmarks switch faults on
over HTTP, under the emulator's own prefix:

    POST /_faults  {"latency_ms": 50}                                  every request waits 50 ms
    POST /_faults  {"status": 429, "count": 3, "retry_after": 1}      next 3 requests get 429
    POST /_faults  {"status": 503, "count": 1, "path": "/v1/projects"} only paths starting so
    POST /_faults  {"status": 500, "method": "DELETE"}                 only DELETE requests
    POST /_faults  {"malformed": true}                                 200 application/json, body cut short
    POST /_faults  {"html": true, "status": 502}                       a proxy's HTML page (status default 200)
    POST /_faults  {"drop": true}                                      request read, connection closed, no answer
    POST /_faults  {"delay_ms": 3000}                                  this request's answer comes 3 s late
    POST /_faults  {"status": 500, "apply": true}                      the emulator handles the request first (the
                                                                       change happens), then its answer is replaced
                                                                       by the fault: an error, a drop (`drop`), a
                                                                       late answer (`delay_ms`), a broken body
    GET /_faults                                                       what is set
    DELETE /_faults                                                    back to normal

`count` (default 1) is how many matching requests a fault takes; -1 means all of them. Faults are
taken in the order they were set. Paths under `/_` are control endpoints and are never faulted. The
error body of an injected status fault is built by the emulator (`error_body(status, message)`), so
it has that API's real shape; a bad spec answers 400.

`FaultStateBase` and `FaultMiddlewareBase` (the control endpoint, latency and routing) serve the model
emulator's faults too (`sandbox.llm.faults`), which only say how a spec reads and how a fault answers.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Generic, Protocol, TypeVar

from starlette.types import ASGIApp, Message, Receive, Scope, Send

ErrorBody = Callable[[int, str], tuple[bytes, str]]  # (status, message) -> (body, content type)


MALFORMED_BODY = b'{"data": [{"id": "UHJvamVjdDox", "name": "default", "description": "Default pro'
HTML_PAGE = (b"<!DOCTYPE html>\n<html><head><title>502 Bad Gateway</title></head>\n<body><center><h1>502 Bad "
             b"Gateway</h1></center><hr><center>nginx</center></body></html>\n")


@dataclass
class Fault:
    status: int = 0
    count: int = 1
    retry_after: float | None = None
    path: str = ""
    method: str = ""
    malformed: bool = False
    html: bool = False
    drop: bool = False
    delay_ms: float = 0.0
    apply: bool = False

    def matches(self, method: str, path: str) -> bool:
        return self.count != 0 and path.startswith(self.path) and (not self.method or self.method == method)

    def to_json(self) -> dict[str, Any]:
        """The fault as set: only the keys that mean something for it."""
        out: dict[str, Any] = {"count": self.count}
        for key in ("status", "retry_after", "path", "method", "malformed", "html", "drop", "delay_ms", "apply"):
            value = getattr(self, key)
            if value not in (0, 0.0, "", None, False):
                out[key] = value
        return out


def parse_fault(spec: dict[str, Any]) -> Fault | None:
    """The fault a `POST /_faults` body names (None when it only sets `latency_ms`); ValueError when it is wrong."""
    fault = Fault(
        status=int(spec.get("status", 0)),
        count=int(spec.get("count", 1)),
        retry_after=float(spec["retry_after"]) if spec.get("retry_after") is not None else None,
        path=str(spec.get("path", "")),
        method=str(spec.get("method", "")).upper(),
        malformed=bool(spec.get("malformed", False)),
        html=bool(spec.get("html", False)),
        drop=bool(spec.get("drop", False)),
        delay_ms=float(spec.get("delay_ms", 0)),
        apply=bool(spec.get("apply", False)),
    )
    if fault.status and not (400 <= fault.status <= 599 or (fault.html and 200 <= fault.status <= 599)):
        raise ValueError("status must be an HTTP error status (400-599)")
    if fault.malformed + fault.drop + (bool(fault.status) and not fault.html) > 1:
        raise ValueError('give one of "status", "malformed", "drop" (and "html" with a status)')
    if not (fault.status or fault.malformed or fault.html or fault.drop or fault.delay_ms):
        if set(spec) <= {"latency_ms"}:  # only the latency, or nothing: `POST {}` reads what is set
            return None
        raise ValueError('give "latency_ms" or a fault: "status", "malformed", "html", "drop" or "delay_ms"')
    return fault


class TakenFault(Protocol):
    """What the shared state needs of an emulator's fault: its count, whom it matches, its JSON."""

    count: int

    def matches(self, method: str, path: str) -> bool: ...

    def to_json(self) -> dict[str, Any]: ...


F = TypeVar("F", bound=TakenFault)


@dataclass
class FaultStateBase(Generic[F]):
    """Latency and the faults set, in order, behind a lock; a subclass says how a spec reads (`parse`)."""

    latency_ms: float = 0.0
    faults: list[F] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def parse(self, spec: dict[str, Any]) -> F | None:
        """The fault a `POST /_faults` body names (None when it only sets `latency_ms`); ValueError when wrong."""
        raise NotImplementedError

    def configure(self, spec: Any) -> None:
        """Apply a `POST /_faults` body; ValueError when it names no fault or a bad value."""
        if not isinstance(spec, dict):
            raise ValueError("expected a JSON object")
        fault = self.parse(spec)
        with self.lock:
            if "latency_ms" in spec:
                self.latency_ms = float(spec["latency_ms"])
            if fault is not None:
                self.faults.append(fault)

    def clear(self) -> None:
        with self.lock:
            self.latency_ms = 0.0
            self.faults.clear()

    def take(self, path: str, method: str = "GET") -> F | None:
        """Consume one injected fault matching `method` and `path`, if any."""
        with self.lock:
            for fault in self.faults:
                if fault.matches(method, path):
                    if fault.count > 0:
                        fault.count -= 1
                    return fault
            self.faults = [f for f in self.faults if f.count != 0]
        return None

    def to_json(self) -> dict[str, Any]:
        with self.lock:
            return {"latency_ms": self.latency_ms, "faults": [f.to_json() for f in self.faults if f.count != 0]}


class FaultState(FaultStateBase[Fault]):
    """The back-end emulators' faults (`parse_fault`)."""

    def parse(self, spec: dict[str, Any]) -> Fault | None:
        return parse_fault(spec)


class FaultMiddlewareBase(Generic[F]):
    """ASGI middleware: control endpoint `/_faults`, injected latency, then one taken fault handed to `inject`."""

    def __init__(self, app: ASGIApp, state: FaultStateBase[F]) -> None:
        self.app = app
        self.state = state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = relative_path(scope)
        if path.rstrip("/") == "/_faults":
            await self._control(scope, receive, send)
            return
        if path.startswith("/_"):
            await self.app(scope, receive, send)
            return
        if self.state.latency_ms:
            await asyncio.sleep(self.state.latency_ms / 1000)
        fault = self.state.take(path, scope["method"])
        if fault is None:
            await self.app(scope, receive, send)
            return
        await self.inject(fault, scope, receive, send)

    async def inject(self, fault: F, scope: Scope, receive: Receive, send: Send) -> None:
        """Answer the request as `fault` says, instead of (or around) the emulator."""
        raise NotImplementedError

    async def _control(self, scope: Scope, receive: Receive, send: Send) -> None:
        raw = await read_body(receive)
        status = 200
        answer: dict[str, Any]
        try:
            if scope["method"] == "DELETE":
                self.state.clear()
            elif scope["method"] == "POST":
                self.state.configure(json.loads(raw or b"{}"))
            answer = self.state.to_json()
        except (ValueError, TypeError) as exc:
            status, answer = 400, {"error": str(exc)}
        await send_answer(send, status, json.dumps(answer).encode(), "application/json")


class FaultMiddleware(FaultMiddlewareBase[Fault]):
    """The back-end emulators' middleware: error statuses (bodies by `error_body`), broken bodies, proxy pages,
    drops, late answers, and faults applied after the emulator's change."""

    def __init__(self, app: ASGIApp, error_body: ErrorBody, state: FaultState | None = None) -> None:
        super().__init__(app, state or FaultState())
        self.error_body = error_body

    async def inject(self, fault: Fault, scope: Scope, receive: Receive, send: Send) -> None:
        late_only = not (fault.drop or fault.malformed or fault.html or fault.status)
        held: list[Message] = []
        if fault.apply:  # the emulator handles it (the change happens); its own answer is held back
            await self.app(scope, receive, _holder(held))
        elif not late_only:
            await read_body(receive)
        if fault.delay_ms:
            await asyncio.sleep(fault.delay_ms / 1000)
        if fault.drop:
            await _drop(send)
        elif fault.malformed:
            await send_answer(send, 200, MALFORMED_BODY, "application/json")
        elif fault.html:
            await send_answer(send, fault.status or 200, HTML_PAGE, "text/html; charset=utf-8")
        elif fault.status:
            body, content_type = self.error_body(fault.status, _reason(fault.status))
            await send_answer(send, fault.status, body, content_type, retry_after_header(fault.retry_after))
        elif fault.apply:  # only late: the emulator's own answer, now
            for message in held:
                await send(message)
        else:  # only late, handled after the wait
            await self.app(scope, receive, send)


async def read_body(receive: Receive) -> bytes:
    """The whole request body."""
    raw = b""
    while True:
        message = await receive()
        raw += message.get("body", b"")
        if not message.get("more_body"):
            return raw


def _holder(held: list[Message]) -> Send:
    """A `send` that keeps the emulator's answer instead of sending it."""
    async def hold(message: Message) -> None:
        held.append(message)

    return hold


async def start_answer(
    send: Send, status: int, content_type: str, length: int, extra: list[tuple[bytes, bytes]] | None = None
) -> None:
    """Send the status line and headers of an answer of `length` bytes."""
    headers = [(b"content-type", content_type.encode()), (b"content-length", str(length).encode()), *(extra or [])]
    await send({"type": "http.response.start", "status": status, "headers": headers})


async def send_answer(
    send: Send, status: int, body: bytes, content_type: str, extra: list[tuple[bytes, bytes]] | None = None
) -> None:
    """Send a whole answer: status, headers and `body`."""
    await start_answer(send, status, content_type, len(body), extra)
    await send({"type": "http.response.body", "body": body})


def retry_after_header(retry_after: float | None) -> list[tuple[bytes, bytes]]:
    """The `Retry-After` header of an injected fault, when it sets one."""
    return [(b"retry-after", f"{retry_after:g}".encode())] if retry_after is not None else []


async def _drop(send: Send) -> None:
    """Promise an answer, send none of it, and return: the server closes the connection with no answer given."""
    await start_answer(send, 200, "application/json", 1000)
    await send({"type": "http.response.body", "body": b"", "more_body": True})


def relative_path(scope: Scope) -> str:
    """The request path below the prefix the app is mounted at (Starlette `Mount` sets root_path)."""
    path: str = scope["path"]
    root: str = scope.get("root_path", "")
    if root and path.startswith(root):
        path = path[len(root) :]
    return path or "/"


def _reason(status: int) -> str:
    return {
        429: "Too many requests. Retry after the time given in the Retry-After header.",
        500: "Internal server error.",
        502: "Bad gateway.",
        503: "Service temporarily unavailable.",
        504: "Gateway timeout.",
    }.get(status, f"Injected fault {status}.")
