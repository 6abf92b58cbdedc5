"""Events API: @-mentions and DMs run the same commands as `/projects`; redeliveries run once."""

from __future__ import annotations

import re
from typing import Any

from slack_bolt import BoltResponse
from slack_bolt.async_app import AsyncApp, AsyncBoltRequest, AsyncSay

from bot.operations.base import Actor
from bot.operations.context import Services
from handlers.common import run_text

_MENTION = re.compile(r"<@[UW][A-Z0-9]+(\|[^>]*)?>")


def register(app: AsyncApp, services: Services) -> None:
    @app.middleware
    async def run_each_event_once(req: AsyncBoltRequest, resp: BoltResponse | None, next) -> Any:
        """Slack redelivers an event it thinks timed out (X-Slack-Retry-Num): handle its id once."""
        body = req.body or {}
        event_id = body.get("event_id") if body.get("type") == "event_callback" else None
        if event_id and not services.audit.first_delivery(f"event:{event_id}"):
            return BoltResponse(status=200, body="", headers={"x-slack-no-retry": "1"})
        return await next()

    @app.event("app_mention")
    async def on_mention(event: dict[str, Any], say: AsyncSay, body: dict[str, Any]) -> None:
        text = _MENTION.sub("", event.get("text", "")).strip()
        actor = Actor(user_id=event.get("user", ""), team_id=body.get("team_id", ""),
                      channel_id=event.get("channel", ""), surface="mention")
        rendered = await run_text(services, text, actor)
        await services.pacer.turn(actor.channel_id)
        await say(text=rendered.text, blocks=rendered.blocks, thread_ts=event.get("thread_ts") or event.get("ts"))

    @app.event("message")
    async def on_direct_message(event: dict[str, Any], say: AsyncSay, body: dict[str, Any]) -> None:
        if event.get("channel_type") != "im" or event.get("bot_id") or event.get("subtype"):
            return
        actor = Actor(user_id=event.get("user", ""), team_id=body.get("team_id", ""),
                      channel_id=event.get("channel", ""), surface="dm")
        text = event.get("text", "").strip().removeprefix("/projects").strip()
        rendered = await run_text(services, text, actor)
        await services.pacer.turn(actor.channel_id)
        await say(text=rendered.text, blocks=rendered.blocks)
