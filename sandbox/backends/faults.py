"""Fault injection shared by the back-end emulators.

Every emulator wraps its ASGI app in `FaultMiddleware`. Tests and benchmarks switch faults on
over HTTP, under the emulator's own prefix:

    POST /_faults  {"latency_ms": 50}                                  every request waits 50 ms
    POST /_faults  {"status": 429, "count": 3, "retry_after": 1}      next 3 requests get 429
    POST /_faults  {"status": 503, "count": 1, "path": "/v1/projects"} only paths starting so
    DELETE /_faults                                                    back to normal

Paths under `/_` are control endpoints and are never faulted. The error body of an injected
fault is built by the emulator (`error_body(status, message)`), so it has that API's real shape.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

ErrorBody = Callable[[int, str], tuple[bytes, str]]  # (status, message) -> (body, content type)


@dataclass
class Fault:
    status: int
    count: int
    retry_after: float | None = None
    path: str = ""


@dataclass
class FaultState:
    latency_ms: float = 0.0
    faults: list[Fault] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def configure(self, spec: dict) -> None:
        with self.lock:
            if "latency_ms" in spec:
                self.latency_ms = float(spec["latency_ms"])
            if "status" in spec:
                self.faults.append(
                    Fault(
                        status=int(spec["status"]),
                        count=int(spec.get("count", 1)),
                        retry_after=spec.get("retry_after"),
                        path=str(spec.get("path", "")),
                    )
                )

    def clear(self) -> None:
        with self.lock:
            self.latency_ms = 0.0
            self.faults.clear()

    def take(self, path: str) -> Fault | None:
        """Consume one injected fault matching `path`, if any."""
        with self.lock:
            for fault in self.faults:
                if path.startswith(fault.path) and fault.count != 0:
                    if fault.count > 0:
                        fault.count -= 1
                    return fault
            self.faults = [f for f in self.faults if f.count != 0]
        return None


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
        fault = self.state.take(path)
        if fault is None:
            await self.app(scope, receive, send)
            return
        body, content_type = self.error_body(fault.status, _reason(fault.status))
        headers = [(b"content-type", content_type.encode()), (b"content-length", str(len(body)).encode())]
        if fault.retry_after is not None:
            headers.append((b"retry-after", str(fault.retry_after).encode()))
        await send({"type": "http.response.start", "status": fault.status, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    async def _control(self, scope, receive, send) -> None:
        raw = b""
        while True:
            message = await receive()
            raw += message.get("body", b"")
            if not message.get("more_body"):
                break
        if scope["method"] == "DELETE":
            self.state.clear()
        elif scope["method"] == "POST":
            self.state.configure(json.loads(raw or b"{}"))
        body = json.dumps(
            {"latency_ms": self.state.latency_ms, "faults": [f.__dict__ for f in self.state.faults]}
        ).encode()
        await send(
            {"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"application/json")]}
        )
        await send({"type": "http.response.body", "body": body})


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
