"""Socket Mode for the Slack emulator: the WebSocket that `apps.connections.open` points at.

Tests push envelopes (a slash command, an interaction, an event) to the connected app with
`send(...)` and read the app's acknowledgements (with any response payload) from `acks`.
"""

from __future__ import annotations

import asyncio
import json
import secrets
from typing import Any

from starlette.routing import WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect


class SocketModeHub:
    def __init__(self) -> None:
        self.sockets: list[WebSocket] = []
        self.acks: dict[str, dict[str, Any]] = {}
        self.loop: asyncio.AbstractEventLoop | None = None

    def routes(self) -> list[WebSocketRoute]:
        return [WebSocketRoute("/link/", self._endpoint), WebSocketRoute("/link", self._endpoint)]

    async def _endpoint(self, websocket: WebSocket) -> None:
        await websocket.accept()
        self.loop = asyncio.get_running_loop()
        self.sockets.append(websocket)
        await websocket.send_text(json.dumps({"type": "hello", "num_connections": len(self.sockets),
                                              "debug_info": {"host": "emulator"}}))
        try:
            while True:
                message = json.loads(await websocket.receive_text())
                if "envelope_id" in message:
                    self.acks[message["envelope_id"]] = message
        except WebSocketDisconnect:
            pass
        finally:
            self.sockets.remove(websocket)

    @property
    def connected(self) -> bool:
        return bool(self.sockets)

    def send(self, kind: str, payload: dict[str, Any], retry_attempt: int = 0) -> str:
        """Push one envelope (`slash_commands`, `interactive` or `events_api`) from a test thread."""
        if not self.sockets or self.loop is None:
            raise RuntimeError("no app is connected over Socket Mode")
        envelope_id = secrets.token_hex(8)
        envelope = {"envelope_id": envelope_id, "type": kind, "payload": payload,
                    "accepts_response_payload": kind != "events_api", "retry_attempt": retry_attempt,
                    "retry_reason": "timeout" if retry_attempt else ""}
        future = asyncio.run_coroutine_threadsafe(self.sockets[-1].send_text(json.dumps(envelope)), self.loop)
        future.result(timeout=5)
        return envelope_id
