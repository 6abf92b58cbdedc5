"""Confirmation before anything destructive: show the impact, a Confirm button only the requester may press,
the typed name for the most destructive, then approval (where policy asks) or the run."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from slack_sdk.web.async_client import AsyncWebClient

from bot.errors import OpError, UsageError
from bot.operations.base import Actor, Rendered, Risk
from bot.operations.context import OpContext, Services
from bot.operations.executor import record_event
from bot.operations.parser import ParsedCommand, positional_fields
from bot.slack import approvals
from bot.slack.replies import Responder, response_payload
from bot.slack.runner import Step, after_ack, bad_input, parse_or_usage, request_for, run_request
from bot.ui import blocks as bk
from bot.ui.ids import CANCEL_ACTION, CONFIRM_ACTION, CONFIRM_BLOCK, TYPED_BLOCK, TYPED_CALLBACK

#: How long a confirmation click is remembered, so a double click or a retry acts once.
CLICK_MEMORY_SECONDS = 86400


def confirm_value(text: str, actor: Actor) -> str:
    return json.dumps({"text": text, "user": actor.user_id}, separators=(",", ":"))


def decode_value(raw: Any) -> dict[str, str] | None:
    """The command text and requester a Confirm / Cancel button carries, or None when it is not that shape."""
    try:
        value = json.loads(raw or "") if isinstance(raw, str) else None
    except ValueError:
        return None
    if not isinstance(value, dict) or not isinstance(value.get("text"), str) or not isinstance(value.get("user"), str):
        return None
    return {"text": value["text"], "user": value["user"]}


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
    destructive = op.risk is Risk.DESTRUCTIVE
    icon = ":warning:" if destructive else ":pencil2:"
    summary = f"{icon} *{op.summary[:1].upper()}{op.summary[1:]}*{where}\n`/projects {text.strip()}`"
    blocks = [bk.section(summary)]
    if impact:
        blocks.append(bk.section(impact))
    value = confirm_value(text, actor)
    dialog = {
        "title": bk.plain("Are you sure?", 100),
        "text": bk.mrkdwn(bk.clip(f"This runs `/projects {text.strip()}`"
                                  + (" and cannot be undone." if destructive else "."), 300)),
        "confirm": bk.plain("Yes, do it", 30),
        "deny": bk.plain("Back", 30),
        "style": "danger" if destructive else "primary",
    }
    blocks.append(bk.actions(
        bk.button("Confirm", CONFIRM_ACTION, value=value, style="danger" if destructive else "primary",
                  confirm=dialog),
        bk.button("Cancel", CANCEL_ACTION, value=value),
        block_id=CONFIRM_BLOCK,
    ))
    needs_approval = await services.policy.needs_approval(actor.user_id, op, parsed.target)
    then = " After you confirm, an admin other than you must approve it." if needs_approval else ""
    blocks.append(bk.context("Only you can confirm this request." + then))
    return Rendered(text=f"Confirm: /projects {text.strip()}", blocks=blocks)


def typed_confirmation(parsed: ParsedCommand) -> str | None:
    """The name the requester must type (the operation's first argument), or None when a click suffices."""
    op = parsed.operation
    if not op.typed_confirmation:
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


async def proceed(services: Services, parsed: ParsedCommand, text: str, actor: Actor, send: Responder) -> None:
    """After confirmation: send for approval where policy says so, else run it now, progress shown in place."""
    if await services.policy.needs_approval(actor.user_id, parsed.operation, parsed.target):
        impact = await impact_of(services, parsed, actor)
        await send(await approvals.request_approval(services, parsed, text, actor, impact))
        return
    running = f":hourglass_flowing_sand: Running `/projects {text}`…"
    await send(Rendered(text=running))
    seen: list[str] = []

    async def progress(line: str) -> None:  # the same message, updated in place as the state moves
        if not seen or seen[-1] != line:
            seen.append(line)
            await send(Rendered(text=f"{running} {line}"))

    request = request_for(parsed, actor, confirmed_by=actor.user_id, progress=progress)
    _, rendered = await run_request(services, request)
    await send(rendered)


def not_yours(requester: str) -> dict[str, Any]:
    return {"response_type": "ephemeral", "replace_original": False,
            "text": f"Only <@{requester}>, who asked for this, can confirm or cancel it."}


async def confirm_clicked(services: Services, actor: Actor, raw_value: Any, click_key: str, *, respond: Any,
                          client: AsyncWebClient, trigger_id: str, response_url: str) -> None:
    """Confirm pressed: the typed-name modal for the most destructive, else approval or the run (once)."""
    value = decode_value(raw_value)
    if value is None:
        await respond(replace_original=False, text="That button is broken; run the command again.")
        return
    if value["user"] != actor.user_id:
        await respond(**not_yours(value["user"]))
        return
    parsed = parse_or_usage(services, value["text"])
    if isinstance(parsed, UsageError):
        rendered = await bad_input(services, actor, value["text"], parsed)
        await respond(**response_payload(rendered), replace_original=True)
        return
    expected = typed_confirmation(parsed)
    if expected is not None:  # the requester types the name in a modal first
        await client.views_open(trigger_id=trigger_id,
                                view=typed_confirmation_view(value["text"], expected, actor, response_url))
        return
    if not await asyncio.to_thread(services.store.deliveries.first, click_key, CLICK_MEMORY_SECONDS):
        await respond(replace_original=False, response_type="ephemeral",
                      text="This request was already confirmed; it runs once.")
        return
    await proceed(services, parsed, value["text"], actor, Responder(respond))


async def cancel_clicked(services: Services, actor: Actor, raw_value: Any, click_key: str, *, respond: Any) -> None:
    value = decode_value(raw_value)
    if value is None:
        return
    if value["user"] != actor.user_id:
        await respond(**not_yours(value["user"]))
        return
    if not await asyncio.to_thread(services.store.deliveries.first, click_key, CLICK_MEMORY_SECONDS):
        return
    await record_event(services, actor, "confirm.cancel", "refused", "cancelled by the requester",
                       params={"text": value["text"][:500]}, surface="button")
    await respond(replace_original=True, text=f"Cancelled by <@{actor.user_id}>: `/projects {value['text']}`")


def _typed_value(view: dict[str, Any]) -> str:
    values = (view.get("state") or {}).get("values") or {}
    typed = (values.get(TYPED_BLOCK) or {}).get("value") or {}
    return (typed.get("value") or "").strip() if isinstance(typed, dict) else ""


def typed_submitted(services: Services, actor: Actor, view: dict[str, Any]) -> Step:
    """The typed name submitted: a field error, or close the modal and proceed (once per view)."""
    try:
        meta = json.loads(view.get("private_metadata") or "{}")
    except ValueError:
        meta = {}
    meta = meta if isinstance(meta, dict) else {}
    text = meta.get("text") if isinstance(meta.get("text"), str) else ""
    parsed = parse_or_usage(services, text)
    if actor.user_id != meta.get("user") or isinstance(parsed, UsageError):
        return Step(ack={"response_action": "errors",
                         "errors": {TYPED_BLOCK: "This confirmation is not yours to submit."}})
    expected = typed_confirmation(parsed) or ""
    if _typed_value(view) != expected:
        return Step(ack={"response_action": "errors",
                         "errors": {TYPED_BLOCK: f"That does not match. Type {expected} exactly, or cancel."}})
    requester = Actor(user_id=actor.user_id, team_id=str(meta.get("team") or ""),
                      channel_id=str(meta.get("channel") or ""), surface="modal")

    async def then() -> None:
        if not await asyncio.to_thread(services.store.deliveries.first, f"typed:{view.get('id', '')}",
                                       CLICK_MEMORY_SECONDS):
            return
        await proceed(services, parsed, text, requester, Responder(response_url=str(meta.get("response_url") or "")))

    return after_ack(then)
