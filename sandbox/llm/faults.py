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

import json
import threading
import time
from dataclasses import asdict, dataclass, field
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from sandbox.backends.faults import (
    FaultMiddlewareBase,
    FaultStateBase,
    read_body,
    relative_path,
    retry_after_header,
    send_answer,
    start_answer,
)
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

    def matches(self, method: str, path: str) -> bool:
        """Whether the fault takes a request to `path` (any method)."""
        return path.startswith(self.path) and self.count != 0

    def to_json(self) -> dict[str, Any]:
        """The fault as set: only the keys that mean something for its kind."""
        out: dict[str, Any] = {"count": self.count}
        if self.status:
            out["status"] = self.status
        if self.retry_after is not None:
            out["retry_after"] = self.retry_after
        if self.path:
            out["path"] = self.path
        if self.malformed:
            out["malformed"] = True
        if self.drop:
            out["drop"] = True
        return out


class FaultState(FaultStateBase[Fault]):
    """The model emulator's latency and faults."""

    def parse(self, spec: dict[str, Any]) -> Fault | None:
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
        return fault if kinds else None


class FaultMiddleware(FaultMiddlewareBase[Fault]):
    """Control endpoint `/_faults`; injected latency, error statuses, malformed bodies, drops."""

    def __init__(self, app: ASGIApp, state: FaultState | None = None) -> None:
        super().__init__(app, state or FaultState())

    async def inject(self, fault: Fault, scope: Scope, receive: Receive, send: Send) -> None:
        if fault.drop:
            # Promise a body, send half of it, return: the server closes the connection mid-response.
            await start_answer(send, 200, "application/json", len(MALFORMED_BODY) * 2)
            await send({"type": "http.response.body", "body": MALFORMED_BODY, "more_body": True})
        elif fault.malformed:
            await send_answer(send, 200, MALFORMED_BODY, "application/json")
        else:
            body = json.dumps(fault_error(fault.status, fault.retry_after)).encode()
            await send_answer(send, fault.status, body, "application/json", retry_after_header(fault.retry_after))


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
