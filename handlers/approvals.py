"""Approve / Reject on an approval request."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond

from bot.operations.context import Services
from bot.slack import approvals
from bot.ui import ids


def message_ts(body: dict[str, Any]) -> str:
    container = body.get("container") if isinstance(body.get("container"), dict) else {}
    ts = container.get("message_ts")
    return ts if isinstance(ts, str) else ""


def register(app: AsyncApp, services: Services) -> None:
    @app.action(ids.APPROVE_ACTION)
    async def on_approve(ack: AsyncAck, body: dict[str, Any], action: dict[str, Any], context: dict[str, Any],
                         respond: AsyncRespond) -> None:
        await ack()
        await approvals.approve(services, context["actor"], action.get("value"), respond, message_ts(body))

    @app.action(ids.REJECT_ACTION)
    async def on_reject(ack: AsyncAck, body: dict[str, Any], action: dict[str, Any], context: dict[str, Any],
                        respond: AsyncRespond) -> None:
        await ack()
        await approvals.reject(services, context["actor"], action.get("value"), respond, message_ts(body))
