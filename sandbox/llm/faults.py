"""Faults on demand and request recording for the model emulator (ASGI middleware).

Same control endpoint and spec as `sandbox.backends.faults`, plus two failures a model server
shows that a REST back end rarely does:

    POST /_faults  {"latency_ms": 2000}                             every request waits 2 s
    POST /_faults  {"status": 429, "count": 2, "retry_after": 1}    next 2 requests: 429 + Retry-After
    POST /_faults  {"status": 503, "count": 1, "path": "/v1/chat"}  only paths starting so
    POST /_faults  {"malformed": true, "count": 1}                  200 application/json, body cut short
    POST /_faults  {"drop": true, "count": 1}                       headers sent, then the connection closes
    GET  /_faults                                                   what is set
    DELETE /_faults                                                 back to normal

`count` -1 means every request. Faults are taken in the order they were set. Error statuses have
OpenAI-shaped bodies (`sandbox.llm.errors.fault_error`). Paths under `/_` are never faulted.

`RecordingMiddleware` keeps every request that reaches the API (faulted ones too, control paths
not): method, path, query, headers (without `authorization`) and the body, parsed as JSON when it
is JSON.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from dataclasses import asdict, dataclass, field
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from sandbox.backends.faults import relative_path
from sandbox.llm.errors import fault_error

MALFORMED_BODY = b'{"id": "chatcmpl-emulator", "object": "chat.completion", "choices": [{"index": 0, "mess'


@dataclass
class Fault:
    status: int = 0  # 0 with `malformed` or `drop`
    count: int = 1
    retry_after: float | None = None
    path: str = ""
    malformed: bool = False
    drop: bool = False


@dataclass
class FaultState:
    latency_ms: float = 0.0
    faults: list[Fault] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def configure(self, spec: dict[str, Any]) -> None:
        """Apply a `POST /_faults` body; ValueError when it names no fault or a bad value."""
        fault = Fault(
            status=int(spec.get("status", 0)),
            count=int(spec.get("count", 1)),
            retry_after=float(spec["retry_after"]) if spec.get("retry_after") is not None else None,
            path=str(spec.get("path", "")),
            malformed=bool(spec.get("malformed", False)),
            drop=bool(spec.get("drop", False)),
        )
        kinds = bool(fault.status) + fault.malformed + fault.drop
        if kinds > 1 or (not kinds and "latency_ms" not in spec):
            raise ValueError('give "latency_ms" and/or one of "status", "malformed", "drop"')
        if fault.status and not 400 <= fault.status <= 599:
            raise ValueError("status must be an HTTP error status (400-599)")
        with self.lock:
            if "latency_ms" in spec:
                self.latency_ms = float(spec["latency_ms"])
            if kinds:
                self.faults.append(fault)

    def clear(self) -> None:
        with self.lock:
            self.latency_ms = 0.0
            self.faults.clear()

    def take(self, path: str) -> Fault | None:
        """Consume one fault whose path prefix matches `path`, if any."""
        with self.lock:
            for fault in self.faults:
                if path.startswith(fault.path) and fault.count != 0:
                    if fault.count > 0:
                        fault.count -= 1
                    return fault
            self.faults = [f for f in self.faults if f.count != 0]
        return None

    def to_json(self) -> dict[str, Any]:
        with self.lock:
            faults = [_fault_json(f) for f in self.faults if f.count != 0]
            return {"latency_ms": self.latency_ms, "faults": faults}


def _fault_json(fault: Fault) -> dict[str, Any]:
    """A fault as set: only the keys that mean something for its kind."""
    out: dict[str, Any] = {"count": fault.count}
    if fault.status:
        out["status"] = fault.status
    if fault.retry_after is not None:
        out["retry_after"] = fault.retry_after
    if fault.path:
        out["path"] = fault.path
    if fault.malformed:
        out["malformed"] = True
    if fault.drop:
        out["drop"] = True
    return out


class FaultMiddleware:
    """Control endpoint `/_faults`; injected latency, error statuses, malformed bodies, drops."""

    def __init__(self, app: ASGIApp, state: FaultState | None = None) -> None:
        self.app = app
        self.state = state or FaultState()

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
        fault = self.state.take(path)
        if fault is None:
            await self.app(scope, receive, send)
        elif fault.drop:
            # Promise a body, send half of it, return: the server closes the connection mid-response.
            await _start(send, 200, b"application/json", len(MALFORMED_BODY) * 2)
            await send({"type": "http.response.body", "body": MALFORMED_BODY, "more_body": True})
        elif fault.malformed:
            await _start(send, 200, b"application/json", len(MALFORMED_BODY))
            await send({"type": "http.response.body", "body": MALFORMED_BODY})
        else:
            body = json.dumps(fault_error(fault.status, fault.retry_after)).encode()
            extra = [(b"retry-after", f"{fault.retry_after:g}".encode())] if fault.retry_after is not None else []
            await _start(send, fault.status, b"application/json", len(body), extra)
            await send({"type": "http.response.body", "body": body})

    async def _control(self, scope: Scope, receive: Receive, send: Send) -> None:
        raw = await read_body(receive)
        status = 200
        answer: dict[str, Any]
        try:
            if scope["method"] == "DELETE":
                self.state.clear()
            elif scope["method"] == "POST":
                spec = json.loads(raw or b"{}")
                if not isinstance(spec, dict):
                    raise ValueError("expected a JSON object")
                self.state.configure(spec)
            answer = self.state.to_json()
        except (ValueError, TypeError) as exc:
            status, answer = 400, {"error": str(exc)}
        body = json.dumps(answer).encode()
        await _start(send, status, b"application/json", len(body))
        await send({"type": "http.response.body", "body": body})


@dataclass
class RecordedRequest:
    method: str
    path: str
    query: str
    headers: dict[str, str]
    body: Any
    at: float


@dataclass
class Recorder:
    requests: list[RecordedRequest] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, request: RecordedRequest) -> None:
        with self.lock:
            self.requests.append(request)

    def clear(self) -> None:
        with self.lock:
            self.requests.clear()

    def to_json(self) -> list[dict[str, Any]]:
        with self.lock:
            return [asdict(r) for r in self.requests]


class RecordingMiddleware:
    """Keeps every API request (not `/_` control paths) in `recorder`, then passes it on unchanged."""

    def __init__(self, app: ASGIApp, recorder: Recorder) -> None:
        self.app = app
        self.recorder = recorder

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = relative_path(scope) if scope["type"] == "http" else ""
        if scope["type"] != "http" or path.startswith("/_"):
            await self.app(scope, receive, send)
            return
        raw = await read_body(receive)
        try:
            body: Any = json.loads(raw) if raw else None
        except (json.JSONDecodeError, UnicodeDecodeError):
            body = raw.decode(errors="replace")
        headers = {
            k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"] if k.lower() != b"authorization"
        }
        self.recorder.add(
            RecordedRequest(
                method=scope["method"],
                path=path,
                query=scope.get("query_string", b"").decode("latin-1"),
                headers=headers,
                body=body,
                at=time.time(),
            )
        )
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": raw, "more_body": False}
            return await receive()  # then wait for the disconnect, as the server would report it

        await self.app(scope, replay, send)


async def read_body(receive: Receive) -> bytes:
    raw = b""
    while True:
        message = await receive()
        raw += message.get("body", b"")
        if not message.get("more_body"):
            return raw


async def _start(
    send: Send, status: int, content_type: bytes, length: int, extra: list[tuple[bytes, bytes]] | None = None
) -> None:
    headers = [(b"content-type", content_type), (b"content-length", str(length).encode()), *(extra or [])]
    await send({"type": "http.response.start", "status": status, "headers": headers})
