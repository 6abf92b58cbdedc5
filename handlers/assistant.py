"""The assistant's surfaces: mentions (answered in thread), DMs and the agent view's Messages tab, the
clarifying question's candidate buttons and the feedback buttons."""

from __future__ import annotations

import re
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from bot.slack.assistant import Assistant
from bot.ui import ids

_MENTION = re.compile(r"<@[UW][A-Z0-9]+(\|[^>]*)?>")


def _thread(container: dict[str, Any]) -> str:
    return str(container.get("thread_ts") or container.get("ts") or "")


async def messages_tab(event: dict[str, Any]) -> bool:
    return event.get("tab") == "messages"


def register(app: AsyncApp, assistant: Assistant) -> None:
    @app.event("app_mention")
    async def on_mention(event: dict[str, Any], context: dict[str, Any], client: AsyncWebClient) -> None:
        text = _MENTION.sub("", str(event.get("text") or "")).strip()
        await assistant.converse(context["actor"], text, channel=str(event.get("channel") or ""),
                                 thread_ts=_thread(event), client=client)

    @app.event("message")
    async def on_direct_message(event: dict[str, Any], context: dict[str, Any], client: AsyncWebClient) -> None:
        if event.get("channel_type") != "im" or event.get("bot_id") or event.get("subtype"):
            return
        text = _MENTION.sub("", str(event.get("text") or "")).strip().removeprefix("/projects").strip()
        await assistant.converse(context["actor"], text, channel=str(event.get("channel") or ""),
                                 thread_ts=_thread(event), client=client)

    @app.event("app_home_opened", matchers=[messages_tab])
    async def on_messages_tab(event: dict[str, Any], client: AsyncWebClient) -> None:
        await assistant.suggest_prompts(client, str(event.get("user") or ""), str(event.get("channel") or ""))

    @app.action(ids.ASSIST_CHOICE)
    async def on_choice(ack: AsyncAck, body: dict[str, Any], action: dict[str, Any], context: dict[str, Any],
                        client: AsyncWebClient) -> None:
        await ack()
        message = body.get("message") if isinstance(body.get("message"), dict) else {}
        await assistant.choice_clicked(context["actor"], action.get("value"),
                                       channel=context["actor"].channel_id, thread_ts=_thread(message), client=client)

    @app.action(ids.ASSIST_FEEDBACK_ACTION)
    async def on_feedback(ack: AsyncAck, action: dict[str, Any], context: dict[str, Any],
                          respond: AsyncRespond) -> None:
        await ack()
        await assistant.feedback_clicked(context["actor"], action.get("value"), respond)
