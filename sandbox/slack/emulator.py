"""The whole Slack stand-in on one server: the Web API emulator, the browser playground and Socket Mode.

Composed here, one level above its parts, so the Web API knows nothing of the playground (which drives it)."""

from __future__ import annotations

from sandbox.slack.playground import Playground
from sandbox.slack.socket_mode import SocketModeHub
from sandbox.slack.web_api import SlackWebApi


class SlackEmulator(SlackWebApi):
    """`SlackWebApi` plus the playground page (`/playground…`) and the Socket Mode WebSocket (`/link/`) that
    `apps.connections.open` points at, served together by `serve()`."""

    def __init__(self, base_url: str | None = None) -> None:
        self.playground = Playground(self)
        self.socket_mode = SocketModeHub()
        super().__init__(base_url, routes=[*self.playground.routes(), *self.socket_mode.routes()])

    def reset(self) -> None:
        """`SlackWebApi.reset`, and the playground forgets its echoes, anchors and field errors."""
        super().reset()
        self.playground.reset()

    def connect_app(self, events_url: str, signing_secret: str) -> None:
        """Send the playground's slash commands, clicks and events, signed, to the app at `events_url`."""
        self.playground.connect(events_url, signing_secret)
