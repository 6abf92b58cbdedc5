"""Live progress: a channel message updated in place while long work moves (Polaris creating → running…)."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.operations.base import OpRequest, OpResult, Rendered
from bot.operations.context import Services
from bot.operations.executor import execute
from bot.pacing import ChannelPacer
from bot.slack.replies import announce_change, render_result
from bot.ui import blocks as bk
from bot.ui.mrkdwn import bold, md, user

log = logging.getLogger("projectops.progress")


class Waiting:
    """Says in place that a request still waits on a back end ("still waiting for polaris… 10 s"): every `every`
    seconds (None: never), at most `most` times (a response_url takes five posts in all), until the block ends.

        async with Waiting(show, "polaris", 5.0) as waiting:   # show(line, first) posts or replaces the reply
            result = await execute(...)
        waiting.updates  # how many were shown (the answer then replaces the last)
    """

    def __init__(self, show: Callable[[str, bool], Awaitable[Any]], who: str, every: float | None,
                 most: int = 3) -> None:
        self.show, self.who, self.every, self.most = show, who, every, most
        self.updates = 0
        self._lock = asyncio.Lock()
        self._done = False
        self._task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> Waiting:
        if self.every is not None:  # None: nothing is shown while waiting
            self._task = asyncio.create_task(self._run(self.every), name="projectops-waiting")
        return self

    async def __aexit__(self, *exc: object) -> None:
        async with self._lock:  # an update being posted finishes first; none starts after this
            self._done = True
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    async def _run(self, every: float) -> None:
        started = time.monotonic()
        while self.updates < self.most:
            await asyncio.sleep(every)
            async with self._lock:
                if self._done:
                    return
                waited = time.monotonic() - started
                line = f"still waiting for {self.who}… {waited:.0f} s" if waited >= 10 else \
                    f"still waiting for {self.who}… {waited:.1f} s".replace(".0 s", " s")
                try:
                    await self.show(line, self.updates == 0)
                except Exception as exc:  # a progress line is a nicety: the answer still comes
                    log.info("could not show that the request still waits: %s", exc)
                    return
                self.updates += 1


def waiting_for(target: str | None) -> str:
    """Who a request waits on, as the progress line names it."""
    return target or "the back ends"


class LiveMessage:
    """Posts one message in `channel`, then `chat.update`s it with each new line and the final result."""

    def __init__(self, client: AsyncWebClient, channel: str, title: str, pacer: ChannelPacer) -> None:
        self.client, self.channel, self.title, self.pacer = client, channel, title, pacer
        self.ts: str | None = None
        self.last = ""

    async def start(self, text: str) -> bool:
        try:
            await self.pacer.turn(self.channel)
            response = await self.client.chat_postMessage(
                channel=self.channel, text=bk.fallback(text),
                blocks=[bk.section(md(":hourglass_flowing_sand: {}", text))])
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
        await self._update(f"{self.title}: {text}", [bk.section(md(":hourglass_flowing_sand: {}\n{}", bold(self.title),
                                                                      text))])

    async def finish(self, rendered: Rendered) -> bool:
        if self.ts is None:
            return False
        return await self._update(rendered.text, bk.fit_message(rendered.blocks))

    async def _update(self, text: str, blocks: list[dict[str, Any]]) -> bool:
        try:
            await self.client.chat_update(channel=self.channel, ts=self.ts, text=bk.fallback(text), blocks=blocks)
            return True
        except SlackApiError as exc:
            log.info("could not update the progress message: %s", exc.response.get("error"))
            return False


def live_title(request: OpRequest) -> str:
    """`Create clickstream on polaris`, from the operation and its subject."""
    params = request.params
    subject = getattr(params, "name", "") or getattr(params, "project", "") or getattr(params, "resume", "")
    return f"{request.operation.command.capitalize()} {subject} on {request.target}"


async def start_live(services: Services, client: AsyncWebClient, request: OpRequest, channel: str,
                     title: str) -> LiveMessage | None:
    """For an operation that reports progress, and a caller allowed to run it: the channel message, started."""
    op, actor = request.operation, request.actor
    if not (op.live and channel):
        return None
    target = services.config.target(request.target) if request.target else None
    if not (await services.policy.check(actor.user_id, op, target)).allowed:
        return None  # the refusal comes from the choke point, privately
    live = LiveMessage(client, channel, title, services.pacer)
    if not await live.start(md("{} (asked by {})…", title, user(actor.user_id))):
        return None
    request.progress = live.progress
    return live


async def run_live(services: Services, client: AsyncWebClient, request: OpRequest, channel: str,
                   title: str = "") -> tuple[OpResult, Rendered, bool]:
    """Run through the choke point with a live channel message when the operation reports progress.

    Returns the result, its rendering and whether the channel message shows it (then no announcement).
    """
    live = await start_live(services, client, request, channel, title or live_title(request))
    result = await execute(services, request)
    rendered = render_result(services, result)
    shown = live is not None and await live.finish(rendered)
    if live is None:  # a live message already tells the channel
        await announce_change(services, result)
    return result, rendered, shown
