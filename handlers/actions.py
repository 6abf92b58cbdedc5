"""Button clicks: Confirm / Cancel of a destructive request."""

from __future__ import annotations

import asyncio
import re
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot import blocks as bk
from bot.audit import AuditEntry
from bot.errors import UsageError
from bot.operations.base import Actor, Risk
from bot.operations.context import Services
from bot.operations.parser import split_words
from bot.paging import ROW_ACTION
from handlers.common import parse_or_usage, respond_bad_input, response_payload, run_parsed
from handlers.confirm import (
    CANCEL_ACTION,
    CONFIRM_ACTION,
    Responder,
    decode_value,
    proceed,
    typed_confirmation,
    typed_confirmation_view,
)

#: The button under read results that posts the same blocks in the channel for everyone.
SHARE_ACTION = "projectops_share"
SHARE_BLOCK = "projectops_share"

#: Buttons whose value is a `/projects` command text to run again as the clicker (paging, refresh).
RERUN_ACTION = re.compile(r"^projectops_rerun(_\w+)?$")


def with_share_button(blocks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Read results end with a "Share in channel" button (the message stays within 50 blocks)."""
    kept = bk.fit_message(blocks)[: bk.MAX_MESSAGE_BLOCKS - 1]
    return [*kept, bk.actions(bk.button("Share in channel", SHARE_ACTION, value="share"), block_id=SHARE_BLOCK)]


def actor_from_action(body: dict[str, Any]) -> Actor:
    user = body.get("user") or {}
    return Actor(
        user_id=user.get("id", ""),
        team_id=(body.get("team") or {}).get("id", ""),
        channel_id=(body.get("channel") or {}).get("id", "") or (body.get("container") or {}).get("channel_id", ""),
        surface="button",
        user_name=user.get("username", "") or user.get("name", ""),
    )


def click_key(body: dict[str, Any], action: dict[str, Any]) -> str:
    """Identifies one confirmation message, so a double click or a retry acts once."""
    container = body.get("container") or {}
    where = container.get("message_ts") or container.get("view_id") or action.get("action_ts", "")
    return f"click:{where}:{action.get('block_id', '')}:{action.get('value', '')}"


def register(app: AsyncApp, services: Services) -> None:
    async def not_yours(respond: AsyncRespond, requester: str) -> None:
        await respond(response_type="ephemeral", replace_original=False,
                      text=f"Only <@{requester}>, who asked for this, can confirm or cancel it.")

    @app.action(CONFIRM_ACTION)
    async def on_confirm(ack: AsyncAck, body: dict[str, Any], action: dict[str, Any], respond: AsyncRespond,
                         client: AsyncWebClient) -> None:
        await ack()
        actor = actor_from_action(body)
        value = decode_value(action)
        if value is None:
            await respond(replace_original=False, text="That button is broken; run the command again.")
            return
        if value["user"] != actor.user_id:
            await not_yours(respond, value["user"])
            return
        parsed = parse_or_usage(services, value["text"])
        if isinstance(parsed, UsageError):
            await respond_bad_input(respond, services, actor, value["text"], parsed, replace_original=True)
            return
        expected = typed_confirmation(parsed)
        if expected is not None:  # the most destructive: the requester types the name in a modal first
            view = typed_confirmation_view(value["text"], expected, actor, body.get("response_url", ""))
            await client.views_open(trigger_id=body["trigger_id"], view=view)
            return
        if not await asyncio.to_thread(services.audit.first_delivery, click_key(body, action), 86400):
            await respond(replace_original=False, response_type="ephemeral",
                          text="This request was already confirmed; it runs once.")
            return
        await proceed(services, parsed, value["text"], actor, Responder(respond))

    @app.action(CANCEL_ACTION)
    async def on_cancel(ack: AsyncAck, body: dict[str, Any], action: dict[str, Any], respond: AsyncRespond) -> None:
        await ack()
        actor = actor_from_action(body)
        value = decode_value(action)
        if value is None:
            return
        if value["user"] != actor.user_id:
            await not_yours(respond, value["user"])
            return
        if not await asyncio.to_thread(services.audit.first_delivery, click_key(body, action), 86400):
            return
        entry = AuditEntry(user=actor.user_id, team=actor.team_id, channel=actor.channel_id, surface="button",
                           operation="confirm.cancel", params={"text": value["text"][:500]})
        await asyncio.to_thread(services.audit.record, entry, "refused", "cancelled by the requester")
        await respond(replace_original=True, text=f"Cancelled by <@{actor.user_id}>: `/projects {value['text']}`")

    @app.action(SHARE_ACTION)
    async def on_share(ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond, client: AsyncWebClient) -> None:
        """Post the same result in the channel, saying who shared it."""
        await ack()
        actor = actor_from_action(body)
        message = body.get("message") or {}
        blocks = [b for b in message.get("blocks") or [] if b.get("block_id") != SHARE_BLOCK]
        shared = [*blocks[: bk.MAX_MESSAGE_BLOCKS - 1], bk.context(f"Shared by <@{actor.user_id}>")]
        try:
            await services.pacer.turn(actor.channel_id)
            await client.chat_postMessage(channel=actor.channel_id, text=message.get("text") or "Shared result",
                                          blocks=shared)
        except SlackApiError as exc:
            await respond(replace_original=False, response_type="ephemeral",
                          text=f"I could not post in this channel ({exc.response.get('error')}); invite me first.")

    @app.action(RERUN_ACTION)
    async def on_rerun(ack: AsyncAck, body: dict[str, Any], action: dict[str, Any], respond: AsyncRespond) -> None:
        """Next / Previous page and similar: the same command with other arguments, replacing the message."""
        await ack()
        actor = actor_from_action(body)
        parsed = parse_or_usage(services, action.get("value") or "")
        if isinstance(parsed, UsageError):
            await respond_bad_input(respond, services, actor, action.get("value") or "", parsed)
            return
        if parsed.operation.risk is Risk.DESTRUCTIVE:  # never reachable without the confirmation flow
            await respond(replace_original=False, text="That button cannot run a destructive command.")
            return
        rendered = await run_parsed(services, parsed, actor)
        await respond(**response_payload(rendered), replace_original=True)


def register_row_menu(app: AsyncApp, services: Services) -> None:
    """A project row's overflow menu (Show / Edit / Delete…): the same paths as typing the command."""
    from handlers.confirm import confirmation_prompt
    from handlers.views import open_edit

    @app.action(ROW_ACTION)
    async def on_row(ack: AsyncAck, body: dict[str, Any], action: dict[str, Any], respond: AsyncRespond,
                     client: AsyncWebClient) -> None:
        await ack()
        actor = actor_from_action(body)
        text = (action.get("selected_option") or {}).get("value", "")
        try:
            words = split_words(text)
        except UsageError:
            words = []
        if len(words) == 3 and words[0] == "edit":  # the form opens at once: the trigger_id lasts 3 s
            await open_edit(services, client, body["trigger_id"], actor, words[1], words[2])
            return
        parsed = parse_or_usage(services, text)
        if isinstance(parsed, UsageError):
            await respond_bad_input(respond, services, actor, text, parsed)
            return
        op = parsed.operation
        if op.risk is Risk.DESTRUCTIVE and (await services.policy.check(actor.user_id, op, parsed.target)).allowed:
            prompt = await confirmation_prompt(services, parsed, text, actor)
            await respond(**response_payload(prompt), replace_original=False)
            return
        rendered = await run_parsed(services, parsed, actor)
        payload = response_payload(rendered)
        if op.risk is Risk.READ:
            payload["blocks"] = with_share_button(payload["blocks"])
        await respond(**payload, replace_original=False)
