"""The assistant's surfaces: mentions (answered in thread), DMs and the agent view's Messages tab, the
clarifying question's candidate buttons and the feedback buttons."""

from __future__ import annotations

import logging
import re
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from bot.slack.assistant import Assistant
from bot.slack.broken import Reply
from bot.slack.payloads import Event, event_of, interaction
from bot.ui import ids

log = logging.getLogger("projectops.slack")

_LEADING_MENTION = re.compile(r"^\s*<@[UW][A-Z0-9]+(\|[^>]*)?>")


def _words(text: str | None, bot_user_id: Any) -> str:
    """What the person asked: the app's own mention taken out (anywhere; the leading one when the app's id is not
    known). Anyone else's mention stays a word of the request: `@projectops audit @someone`."""
    if isinstance(bot_user_id, str) and bot_user_id:
        return re.sub(rf"<@{re.escape(bot_user_id)}(\|[^>]*)?>", "", text or "").strip()
    return _LEADING_MENTION.sub("", text or "").strip()


def _thread(ts: str | None, thread_ts: str | None) -> str:
    return str(thread_ts or ts or "")


def _answerable(event: Event) -> bool:
    """A message someone sent in a conversation: without both there is no one to answer and nowhere to."""
    if event.user_id and event.channel_id:
        return True
    log.info("ignored a %s event without its user or channel", event.type)
    return False


async def messages_tab(event: dict[str, Any]) -> bool:
    return event.get("tab") == "messages"


def register(app: AsyncApp, assistant: Assistant) -> None:
    @app.event("app_mention")
    async def on_mention(context: dict[str, Any], client: AsyncWebClient) -> None:
        event = event_of(context)
        if not _answerable(event):
            return
        text = _words(event.text, context.get("bot_user_id"))
        await assistant.converse(context["actor"], text, channel=event.channel_id,
                                 thread_ts=_thread(event.ts, event.thread_ts), client=client)

    @app.event("message")
    async def on_direct_message(context: dict[str, Any], client: AsyncWebClient) -> None:
        event = event_of(context)
        if event.channel_type != "im" or event.bot_id or event.subtype or not _answerable(event):
            return
        text = _words(event.text, context.get("bot_user_id")).removeprefix("/projects").strip()
        await assistant.converse(context["actor"], text, channel=event.channel_id,
                                 thread_ts=_thread(event.ts, event.thread_ts), client=client)

    @app.event("app_home_opened", matchers=[messages_tab])
    async def on_messages_tab(context: dict[str, Any], client: AsyncWebClient) -> None:
        event = event_of(context)
        await assistant.suggest_prompts(client, event.user_id, event.channel_id)

    @app.action(ids.ASSIST_CHOICE)
    async def on_choice(ack: AsyncAck, context: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        click = interaction(context)
        message = click.message
        await assistant.choice_clicked(context["actor"], click.action.value, channel=context["actor"].channel_id,
                                       thread_ts=_thread(message.ts, message.thread_ts) if message else "",
                                       client=client)

    @app.action(ids.ASSIST_FEEDBACK_ACTION)
    async def on_feedback(ack: AsyncAck, context: dict[str, Any], respond: AsyncRespond,
                          client: AsyncWebClient) -> None:
        await ack()
        click = interaction(context)
        await assistant.feedback_clicked(context["actor"], click.action.value, Reply(respond, client, click))
