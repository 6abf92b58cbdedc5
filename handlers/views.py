"""Modal submissions: the typed-name confirmation of the most destructive requests."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp

from bot.errors import UsageError
from bot.operations.base import Actor
from bot.operations.context import Services
from handlers.common import parse_or_usage
from handlers.confirm import TYPED_BLOCK, TYPED_CALLBACK, Responder, proceed, typed_confirmation


def register(app: AsyncApp, services: Services) -> None:
    @app.view(TYPED_CALLBACK)
    async def on_typed_confirmation(ack: AsyncAck, body: dict[str, Any], view: dict[str, Any]) -> None:
        meta = json.loads(view.get("private_metadata") or "{}")
        user = (body.get("user") or {}).get("id", "")
        typed = (((view.get("state") or {}).get("values") or {}).get(TYPED_BLOCK) or {}).get("value") or {}
        typed_value = (typed.get("value") or "").strip()
        parsed = parse_or_usage(services, meta.get("text", ""))
        if user != meta.get("user") or isinstance(parsed, UsageError):
            await ack(response_action="errors", errors={TYPED_BLOCK: "This confirmation is not yours to submit."})
            return
        expected = typed_confirmation(parsed) or ""
        if typed_value != expected:
            await ack(response_action="errors",
                      errors={TYPED_BLOCK: f"That does not match. Type {expected} exactly, or cancel."})
            return
        await ack()
        if not await asyncio.to_thread(services.audit.first_delivery, f"typed:{view.get('id', '')}", 86400):
            return
        actor = Actor(user_id=user, team_id=meta.get("team", ""), channel_id=meta.get("channel", ""), surface="modal")
        await proceed(services, parsed, meta["text"], actor, Responder(response_url=meta.get("response_url", "")))
