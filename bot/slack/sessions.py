"""Connections to Slack kept open and reused: one aiohttp session per event loop for the Web API and response_urls.

slack_sdk and Bolt open a new aiohttp session, so a new connection (a TLS handshake, against the real Slack), for
every Web API call and every `respond()`. On a busy replica that is most of the CPU a command's answer costs, and it
is spent on the loop that also acks. `PooledWebClient` and `PooledRespond` send through the running loop's session
instead (`LoopSessions`), which keeps connections alive between calls; a session belongs to the loop that made it
(the serving loop, the background loop), and each loop closes its own when the app stops (`aclose`).
"""

from __future__ import annotations

import asyncio
import threading
import weakref
from typing import Any

import aiohttp
from slack_bolt import BoltResponse
from slack_bolt.async_app import AsyncBoltRequest
from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_bolt.context.respond.internals import _build_message
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient, WebhookResponse

#: slack_sdk's own default time limit of one call, in seconds.
TIMEOUT_SECONDS = 30


class LoopSessions:
    """One aiohttp session per event loop that opted in (`open`), made on first use and closed by `aclose`.
    On any other loop `get` answers None, and slack_sdk opens a session per call as it always does."""

    def __init__(self) -> None:
        self._open: weakref.WeakSet[asyncio.AbstractEventLoop] = weakref.WeakSet()
        self._sessions: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, aiohttp.ClientSession] = (
            weakref.WeakKeyDictionary())
        self._lock = threading.Lock()

    def open(self) -> None:
        """The running loop keeps its connections to Slack from now on (until `aclose`)."""
        with self._lock:
            self._open.add(asyncio.get_running_loop())

    def get(self) -> aiohttp.ClientSession | None:
        """The running loop's session, or None (outside a loop, or a loop that did not `open`)."""
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return None
        with self._lock:
            if loop not in self._open:
                return None
            session = self._sessions.get(loop)
            if session is None or session.closed:
                session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=TIMEOUT_SECONDS))
                self._sessions[loop] = session
            return session

    async def aclose(self) -> None:
        """Close the running loop's session (each loop closes its own, on its way out)."""
        loop = asyncio.get_running_loop()
        with self._lock:
            self._open.discard(loop)
            session = self._sessions.pop(loop, None)
        if session is not None:
            await session.close()


SESSIONS = LoopSessions()


class PooledWebClient(AsyncWebClient):
    """Bolt's Web API client, sending through the running loop's shared session."""

    @property  # type: ignore[override]
    def session(self) -> aiohttp.ClientSession | None:
        return SESSIONS.get()

    @session.setter
    def session(self, value: Any) -> None:  # AsyncWebClient.__init__ sets None: the loop's session is used instead
        pass


class PooledRespond(AsyncRespond):
    """Bolt's `respond()`, posting to the response_url through the running loop's shared session."""

    async def __call__(self, text: str | dict = "", blocks: Any = None, attachments: Any = None,  # type: ignore[override]
                       response_type: str | None = None, replace_original: bool | None = None,
                       delete_original: bool | None = None, unfurl_links: bool | None = None,
                       unfurl_media: bool | None = None, thread_ts: str | None = None,
                       metadata: dict[str, Any] | None = None) -> WebhookResponse:
        if self.response_url is None:
            raise ValueError("respond is unsupported here as there is no response_url")
        client = AsyncWebhookClient(url=self.response_url, proxy=self.proxy, ssl=self.ssl, session=SESSIONS.get())
        if isinstance(text, dict):
            return await client.send_dict(_build_message(**text))
        return await client.send_dict(_build_message(
            text=text, blocks=blocks, attachments=attachments, response_type=response_type,
            replace_original=replace_original, delete_original=delete_original, unfurl_links=unfurl_links,
            unfurl_media=unfurl_media, thread_ts=thread_ts, metadata=metadata))


async def pooled_respond(req: AsyncBoltRequest, resp: BoltResponse, next: Any) -> Any:
    """Bolt middleware: this request's `respond` reuses connections (`PooledRespond`)."""
    url = req.context.response_url
    if url:
        req.context["respond"] = PooledRespond(response_url=url)
    return await next()
