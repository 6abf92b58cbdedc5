"""Approve / Reject on an approval request."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond

from bot.operations.context import Services
from bot.slack import approvals
from bot.ui import ids


def register(app: AsyncApp, services: Services) -> None:
    @app.action(ids.APPROVE_ACTION)
    async def on_approve(ack: AsyncAck, action: dict[str, Any], context: dict[str, Any],
                         respond: AsyncRespond) -> None:
        await ack()
        await approvals.approve(services, context["actor"], action.get("value"), respond)

    @app.action(ids.REJECT_ACTION)
    async def on_reject(ack: AsyncAck, action: dict[str, Any], context: dict[str, Any],
                        respond: AsyncRespond) -> None:
        await ack()
        await approvals.reject(services, context["actor"], action.get("value"), respond)
