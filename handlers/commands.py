"""The `/projects` slash command: ack at once, then run through the choke point and respond."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond

from bot import blocks as bk
from bot.errors import UsageError
from bot.operations.base import Actor, Risk
from bot.operations.context import Services
from handlers.common import parse_or_usage, record_bad_input, response_payload, run_parsed
from handlers.confirm import confirmation_prompt

log = logging.getLogger("projectops.commands")

COMMAND = "/projects"


def actor_from_command(body: dict[str, Any]) -> Actor:
    return Actor(
        user_id=body.get("user_id", ""),
        team_id=body.get("team_id", ""),
        channel_id=body.get("channel_id", ""),
        surface="command",
        user_name=body.get("user_name", ""),
    )


def register(app: AsyncApp, services: Services) -> None:
    @app.command(COMMAND)
    async def projects_command(ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond) -> None:
        text = body.get("text", "") or ""
        actor = actor_from_command(body)
        parsed = parse_or_usage(services, text)
        if isinstance(parsed, UsageError):
            # Bad input is answered in the ack itself: instant, and no back end is involved.
            rendered = bk.error_message(parsed)
            await ack(**{k: v for k, v in response_payload(rendered).items() if k != "response_type"})
            await record_bad_input(services, actor, text, parsed)
            return
        await ack()
        op = parsed.operation
        if op.risk is Risk.DESTRUCTIVE:
            decision = await services.policy.check(actor.user_id, op, parsed.target)
            if decision.allowed:  # a refusal goes through the choke point below and is audited there
                await respond(**response_payload(await confirmation_prompt(services, parsed, text, actor)))
                return
        rendered = await run_parsed(services, parsed, actor)
        await respond(**response_payload(rendered))
