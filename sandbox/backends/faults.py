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
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

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

    def to_json(self) -> dict:
        """The fault as set: only the keys that mean something for it."""
        out: dict = {"count": self.count}
        for key in ("status", "retry_after", "path", "method", "malformed", "html", "drop", "delay_ms", "apply"):
            value = getattr(self, key)
            if value not in (0, 0.0, "", None, False):
                out[key] = value
        return out


def parse_fault(spec: dict) -> Fault | None:
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


@dataclass
class FaultState:
    latency_ms: float = 0.0
    faults: list[Fault] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def configure(self, spec: dict) -> None:
        """Apply a `POST /_faults` body; ValueError when it names no fault or a bad value."""
        if not isinstance(spec, dict):
            raise ValueError("expected a JSON object")
        fault = parse_fault(spec)
        with self.lock:
            if "latency_ms" in spec:
                self.latency_ms = float(spec["latency_ms"])
            if fault is not None:
                self.faults.append(fault)

    def clear(self) -> None:
        with self.lock:
            self.latency_ms = 0.0
            self.faults.clear()

    def take(self, path: str, method: str = "GET") -> Fault | None:
        """Consume one injected fault matching `method` and `path`, if any."""
        with self.lock:
            for fault in self.faults:
                if fault.matches(method, path):
                    if fault.count > 0:
                        fault.count -= 1
                    return fault
            self.faults = [f for f in self.faults if f.count != 0]
        return None

    def to_json(self) -> dict:
        with self.lock:
            return {"latency_ms": self.latency_ms, "faults": [f.to_json() for f in self.faults if f.count != 0]}


class FaultMiddleware:
    """ASGI middleware: control endpoints at `/_faults`, injected latency and error statuses."""

    def __init__(self, app, error_body: ErrorBody, state: FaultState | None = None) -> None:
        self.app = app
        self.error_body = error_body
        self.state = state or FaultState()

    async def __call__(self, scope, receive, send) -> None:
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
        late_only = not (fault.drop or fault.malformed or fault.html or fault.status)
        held: list[dict] = []
        if fault.apply:  # the emulator handles it (the change happens); its own answer is held back
            await self.app(scope, receive, _holder(held))
        elif not late_only:
            await _read_body(receive)
        if fault.delay_ms:
            await asyncio.sleep(fault.delay_ms / 1000)
        if fault.drop:
            await _drop(send)
        elif fault.malformed:
            await _answer(send, 200, MALFORMED_BODY, "application/json")
        elif fault.html:
            await _answer(send, fault.status or 200, HTML_PAGE, "text/html; charset=utf-8")
        elif fault.status:
            body, content_type = self.error_body(fault.status, _reason(fault.status))
            extra = [(b"retry-after", f"{fault.retry_after:g}".encode())] if fault.retry_after is not None else []
            await _answer(send, fault.status, body, content_type, extra)
        elif fault.apply:  # only late: the emulator's own answer, now
            for message in held:
                await send(message)
        else:  # only late, handled after the wait
            await self.app(scope, receive, send)

    async def _control(self, scope, receive, send) -> None:
        raw = await _read_body(receive)
        status, answer = 200, {}
        try:
            if scope["method"] == "DELETE":
                self.state.clear()
            elif scope["method"] == "POST":
                self.state.configure(json.loads(raw or b"{}"))
            answer = self.state.to_json()
        except (ValueError, TypeError) as exc:
            status, answer = 400, {"error": str(exc)}
        await _answer(send, status, json.dumps(answer).encode(), "application/json")


async def _read_body(receive) -> bytes:
    raw = b""
    while True:
        message = await receive()
        raw += message.get("body", b"")
        if not message.get("more_body"):
            return raw


def _holder(held: list):
    """A `send` that keeps the emulator's answer instead of sending it."""
    async def hold(message: dict) -> None:
        held.append(message)

    return hold


async def _answer(send, status: int, body: bytes, content_type: str, extra: list | None = None) -> None:
    headers = [(b"content-type", content_type.encode()), (b"content-length", str(len(body)).encode()), *(extra or [])]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def _drop(send) -> None:
    """Promise an answer, send none of it, and return: the server closes the connection with no answer given."""
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", b"application/json"), (b"content-length", b"1000")]})
    await send({"type": "http.response.body", "body": b"", "more_body": True})


def relative_path(scope) -> str:
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
