"""Events API: @-mentions (answered in thread), DMs, and the App Home tab."""

from __future__ import annotations

import re
from typing import Any

from slack_bolt.async_app import AsyncApp, AsyncSay
from slack_sdk.web.async_client import AsyncWebClient

from bot.operations.context import Services
from bot.slack import dispatch, home

_MENTION = re.compile(r"<@[UW][A-Z0-9]+(\|[^>]*)?>")


def register(app: AsyncApp, services: Services) -> None:
    @app.event("app_mention")
    async def on_mention(event: dict[str, Any], context: dict[str, Any], say: AsyncSay) -> None:
        text = _MENTION.sub("", str(event.get("text") or "")).strip()
        await dispatch.conversation(services, context["actor"], text, say,
                                    thread_ts=event.get("thread_ts") or event.get("ts"))

    @app.event("message")
    async def on_direct_message(event: dict[str, Any], context: dict[str, Any], say: AsyncSay) -> None:
        if event.get("channel_type") != "im" or event.get("bot_id") or event.get("subtype"):
            return
        text = str(event.get("text") or "").strip().removeprefix("/projects").strip()
        await dispatch.conversation(services, context["actor"], text, say)

    @app.event("app_home_opened")
    async def on_home_opened(event: dict[str, Any], client: AsyncWebClient) -> None:
        if event.get("tab", "home") != "home":
            return
        user_id = str(event.get("user") or "")
        await client.views_publish(user_id=user_id, view=await home.home_view(services, user_id))
