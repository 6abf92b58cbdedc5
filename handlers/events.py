"""Events API: the App Home tab (mentions and DMs are the assistant's: handlers/assistant.py)."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot.operations.context import Services
from bot.slack import home
from bot.slack.payloads import event_of


async def home_tab(event: dict[str, Any]) -> bool:
    return event.get("tab", "home") == "home"


def register(app: AsyncApp, services: Services) -> None:
    @app.event("app_home_opened", matchers=[home_tab])
    async def on_home_opened(context: dict[str, Any], client: AsyncWebClient) -> None:
        user_id = event_of(context).user_id
        if user_id:
            await client.views_publish(user_id=user_id, view=await home.home_view(services, user_id))
