"""The `/projects` slash command."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from bot.operations.context import Services
from bot.slack import dispatch
from bot.slack.broken import Reply
from bot.slack.payloads import SlashCommand

COMMAND = "/projects"


def register(app: AsyncApp, services: Services) -> None:
    @app.command(COMMAND)
    async def projects_command(ack: AsyncAck, context: dict[str, Any], respond: AsyncRespond,
                               client: AsyncWebClient) -> None:
        command = context["payload"]
        assert isinstance(command, SlashCommand)  # parsed by bot.slack.middleware.parse_payload
        step = dispatch.slash_command(services, context["actor"], command.text, trigger_id=command.trigger_id,
                                      respond=Reply(respond, client, command), client=client)
        await step.run(ack)
