"""The `/projects` slash command."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from bot.operations.context import Services
from bot.slack import dispatch

COMMAND = "/projects"


def register(app: AsyncApp, services: Services) -> None:
    @app.command(COMMAND)
    async def projects_command(ack: AsyncAck, body: dict[str, Any], context: dict[str, Any], respond: AsyncRespond,
                               client: AsyncWebClient) -> None:
        text = body.get("text") if isinstance(body.get("text"), str) else ""
        step = dispatch.slash_command(services, context["actor"], text, trigger_id=body.get("trigger_id", ""),
                                      respond=respond, client=client)
        await step.run(ack)
