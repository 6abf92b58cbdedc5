"""Confirmation before anything destructive: show the impact, then a Confirm button the requester clicks."""

from __future__ import annotations

import json
import logging
from typing import Any

from slack_sdk.webhook.async_client import AsyncWebhookClient

from bot import blocks as bk
from bot.errors import OpError
from bot.operations.base import Actor, OpRequest, Rendered
from bot.operations.context import OpContext, Services
from bot.operations.executor import execute
from bot.operations.parser import ParsedCommand, positional_fields
from handlers.common import announce_change, render_result

log = logging.getLogger("projectops.confirm")

CONFIRM_ACTION = "projectops_confirm"
CANCEL_ACTION = "projectops_cancel"


def confirm_value(text: str, actor: Actor) -> str:
    return json.dumps({"text": text, "user": actor.user_id}, separators=(",", ":"))


async def impact_of(services: Services, parsed: ParsedCommand, actor: Actor) -> str:
    """What the operation would destroy, read live from the back end (when the operation can tell)."""
    if parsed.operation.preview is None:
        return ""
    ctx = OpContext(services=services, actor=actor, target=parsed.target)
    try:
        return await parsed.operation.preview(ctx, parsed.params)
    except OpError as exc:
        return f":warning: I could not read what this would affect: {exc.message}"


async def confirmation_prompt(services: Services, parsed: ParsedCommand, text: str, actor: Actor) -> Rendered:
    """The impact and Confirm / Cancel buttons (and whether an admin's approval follows)."""
    op = parsed.operation
    impact = await impact_of(services, parsed, actor)
    where = f" on `{parsed.target.name}`" if parsed.target else ""
    summary = f":warning: *{op.summary[:1].upper()}{op.summary[1:]}*{where}\n`/projects {text.strip()}`"
    blocks = [bk.section(summary)]
    if impact:
        blocks.append(bk.section(impact))
    value = confirm_value(text, actor)
    dialog = {
        "title": bk.plain("Are you sure?", 100),
        "text": bk.mrkdwn(bk.clip(f"This runs `/projects {text.strip()}` and cannot be undone.", 300)),
        "confirm": bk.plain("Yes, do it", 30),
        "deny": bk.plain("Back", 30),
        "style": "danger",
    }
    blocks.append(bk.actions(
        bk.button("Confirm", CONFIRM_ACTION, value=value, style="danger", confirm=dialog),
        bk.button("Cancel", CANCEL_ACTION, value=value),
        block_id="projectops_confirmation",
    ))
    needs_approval = await services.policy.needs_approval(actor.user_id, op, parsed.target)
    then = " After you confirm, an admin other than you must approve it." if needs_approval else ""
    blocks.append(bk.context("Only you can confirm this request." + then))
    return Rendered(text=f"Confirm: /projects {text.strip()}", blocks=blocks)


async def run_confirmed(services: Services, parsed: ParsedCommand, actor: Actor, progress: Any = None) -> Rendered:
    request = OpRequest(
        operation=parsed.operation,
        actor=actor,
        params=parsed.params,
        target=parsed.target.name if parsed.target else None,
        confirmed_by=actor.user_id,
        progress=progress,
    )
    result = await execute(services, request)
    await announce_change(services, result)
    return render_result(services, result)


def decode_value(action: dict[str, Any]) -> dict[str, Any] | None:
    try:
        value = json.loads(action.get("value") or "")
    except ValueError:
        return None
    return value if isinstance(value, dict) and "text" in value and "user" in value else None


#: Operations so destructive that the requester types the thing's name before they run.
TYPED_CONFIRMATION = {"project.delete", "table.drop", "job.delete-data", "table.delete-data"}
TYPED_CALLBACK = "projectops_typed_confirm"
TYPED_BLOCK = "typed_name"


def typed_confirmation(parsed: ParsedCommand) -> str | None:
    """The name the requester must type (the operation's first argument), or None when a click suffices."""
    op = parsed.operation
    if op.name not in TYPED_CONFIRMATION:
        return None
    fields = positional_fields(op)
    value = getattr(parsed.params, fields[0], None) if fields else None
    return str(value) if value else None


def typed_confirmation_view(text: str, expected: str, actor: Actor, response_url: str) -> dict[str, Any]:
    metadata = json.dumps({"text": text, "user": actor.user_id, "channel": actor.channel_id,
                           "team": actor.team_id, "response_url": response_url}, separators=(",", ":"))
    return {
        "type": "modal",
        "callback_id": TYPED_CALLBACK,
        "title": bk.plain("Confirm deletion", 24),
        "submit": bk.plain("Delete", 24),
        "close": bk.plain("Cancel", 24),
        "private_metadata": metadata[:3000],
        "blocks": [
            bk.section(f":warning: `/projects {bk.clip(text, 200)}` cannot be undone."),
            {"type": "input", "block_id": TYPED_BLOCK, "label": bk.plain(f"Type {bk.clip(expected, 100)} to confirm"),
             "element": {"type": "plain_text_input", "action_id": "value"}},
        ],
    }


class Responder:
    """Where the answers of a confirmed request go: a Bolt `respond`, or a stored response_url."""

    def __init__(self, respond: Any = None, response_url: str = "") -> None:
        self._respond = respond
        self._url = response_url

    async def __call__(self, rendered: Rendered, replace: bool = True) -> None:
        payload = {"text": bk.clip(rendered.text, 3000), "blocks": bk.fit_message(rendered.blocks),
                   "replace_original": replace, "response_type": "ephemeral"}
        if self._respond is not None:
            await self._respond(**payload)
        elif self._url:
            await AsyncWebhookClient(self._url).send_dict(payload)


async def proceed(services: Services, parsed: ParsedCommand, text: str, actor: Actor, send: Responder) -> None:
    """After confirmation: send for approval where policy says so, else run it now."""
    from handlers.approvals import request_approval

    if await services.policy.needs_approval(actor.user_id, parsed.operation, parsed.target):
        impact = await impact_of(services, parsed, actor)
        await send(await request_approval(services, parsed, text, actor, impact))
        return
    running = f":hourglass_flowing_sand: Running `/projects {text}`…"
    await send(Rendered(text=running))
    seen: list[str] = []

    async def progress(line: str) -> None:  # the same message, updated in place as the state moves
        if not seen or seen[-1] != line:
            seen.append(line)
            await send(Rendered(text=f"{running} {line}"))

    await send(await run_confirmed(services, parsed, actor, progress))
