"""Approve / Reject on an approval request."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from bot.operations.context import Services
from bot.slack import approvals
from bot.slack.broken import Reply
from bot.slack.payloads import interaction
from bot.ui import ids


def register(app: AsyncApp, services: Services) -> None:
    @app.action(ids.APPROVE_ACTION)
    async def on_approve(ack: AsyncAck, context: dict[str, Any], respond: AsyncRespond,
                         client: AsyncWebClient) -> None:
        await ack()
        click = interaction(context)
        await approvals.approve(services, context["actor"], click.action.value, Reply(respond, client, click),
                                click.message_ts)

    @app.action(ids.REJECT_ACTION)
    async def on_reject(ack: AsyncAck, context: dict[str, Any], respond: AsyncRespond,
                        client: AsyncWebClient) -> None:
        await ack()
        click = interaction(context)
        await approvals.reject(services, context["actor"], click.action.value, Reply(respond, client, click),
                               click.message_ts)
