"""A channel message updated in place while long work progresses (Polaris creating → running…)."""

from __future__ import annotations

import logging
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot import blocks as bk
from bot.operations.base import Rendered
from bot.pacing import ChannelPacer

log = logging.getLogger("projectops.progress")

#: Operations whose run reports progress through `ctx.progress`.
LIVE_OPERATIONS = {"polaris.project.create", "polaris.project.pause", "polaris.project.stop",
                   "polaris.project.resume"}


class LiveMessage:
    """Posts one message in `channel`, then `chat.update`s it with each new line and the final result."""

    def __init__(self, client: AsyncWebClient, channel: str, title: str, pacer: ChannelPacer) -> None:
        self.client, self.channel, self.title, self.pacer = client, channel, title, pacer
        self.ts: str | None = None
        self.last = ""

    async def start(self, text: str) -> bool:
        try:
            await self.pacer.turn(self.channel)
            response = await self.client.chat_postMessage(channel=self.channel, text=text,
                                                          blocks=[bk.section(f":hourglass_flowing_sand: {text}")])
            self.ts = response.get("ts")
            self.last = text
        except SlackApiError as exc:
            log.info("could not post a progress message in %s: %s", self.channel, exc.response.get("error"))
        return self.ts is not None

    async def progress(self, text: str) -> None:
        """The hook handed to the operation (`ctx.progress`): updates only when the text changes."""
        if self.ts is None or text == self.last:
            return
        self.last = text
        await self._update(f"{self.title}: {text}", [bk.section(f":hourglass_flowing_sand: *{self.title}*\n{text}")])

    async def finish(self, rendered: Rendered) -> bool:
        if self.ts is None:
            return False
        return await self._update(rendered.text, bk.fit_message(rendered.blocks))

    async def _update(self, text: str, blocks: list[dict[str, Any]]) -> bool:
        try:
            await self.client.chat_update(channel=self.channel, ts=self.ts, text=bk.clip(text, 3000), blocks=blocks)
            return True
        except SlackApiError as exc:
            log.info("could not update the progress message: %s", exc.response.get("error"))
            return False
