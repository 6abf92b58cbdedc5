"""External selects: target and project pickers load their options live, filtered as the user types."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp

from bot.operations.context import Services
from bot.slack import pickers
from bot.slack.payloads import interaction
from bot.ui import ids


def register(app: AsyncApp, services: Services) -> None:
    @app.options(ids.PICK_TARGET_ACTION)
    async def target_options(ack: AsyncAck, context: dict[str, Any]) -> None:
        await ack(options=pickers.target_options(services, interaction(context).value))

    @app.options(ids.PICK_PROJECT_ACTION)
    async def project_options(ack: AsyncAck, context: dict[str, Any]) -> None:
        request = interaction(context)
        await ack(options=await pickers.project_options(services, context["actor"], request.model_dump()))
