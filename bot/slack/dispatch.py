"""What a typed `/projects` text does, wherever it was typed: the slash command, a row's menu, a rerun button,
a mention or a DM (through the assistant). Destructive work gets the confirmation first; forms open; the rest runs
and answers."""

from __future__ import annotations

import logging
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.errors import UsageError
from bot.operations.base import Actor, Rendered, Risk
from bot.operations.context import Services
from bot.operations.parser import ParsedCommand
from bot.slack import forms, provisioning
from bot.slack.confirm import confirmation_prompt
from bot.slack.progress import Waiting, run_live, waiting_for
from bot.slack.replies import ack_payload, response_payload, shareable, with_share_button
from bot.slack.runner import (
    OpenForm,
    Step,
    after_ack,
    bad_input,
    record_bad_input,
    request_for,
    route,
    run_request,
)
from bot.ui import blocks as bk
from bot.ui.ids import SHARE_BLOCK
from bot.ui.mrkdwn import defang_blocks, md, unescape, user

log = logging.getLogger("projectops.dispatch")


async def open_form(services: Services, client: AsyncWebClient, trigger_id: str, actor: Actor,
                    form: OpenForm) -> None:
    """The form an operation names, opened from a typed command, a button or a menu (trigger_id lasts 3 s)."""
    kind = form.operation.form
    if kind == "create":
        await forms.open_create(services, client, trigger_id, actor)
    elif kind == "provision":
        await provisioning.open_provision(services, client, trigger_id, actor,
                                          form.target.name if form.target else None)
    elif kind == "edit" and form.target is not None and form.params is not None:
        await forms.open_edit(services, client, trigger_id, actor, form.target.name,
                              str(getattr(form.params, "project", "")))
    elif kind == "edit":
        await client.views_open(trigger_id=trigger_id, view=forms.modals.edit_pick_view(forms.metadata(actor)))


async def _may_run(services: Services, actor: Actor, parsed: ParsedCommand) -> bool:
    return (await services.policy.check(actor.user_id, parsed.operation, parsed.target)).allowed


async def answer(services: Services, client: AsyncWebClient, actor: Actor, parsed: ParsedCommand, text: str,
                 respond: Any, *, replace_original: bool | None = None, share: bool = True,
                 confirm_writes: bool = False, show_waiting: bool = False) -> None:
    """A parsed command: destructive → the confirmation; progress → a live channel message; else run it.

    `confirm_writes`: every change waits for the button (what the assistant resolved, not what was typed).
    `show_waiting`: the reply is the command's own (a slash command's), so a long wait is shown in it, in place.
    """
    extra = {} if replace_original is None else {"replace_original": replace_original}
    op = parsed.operation
    gated = op.risk is Risk.DESTRUCTIVE or (confirm_writes and op.risk is Risk.WRITE)
    if gated and await _may_run(services, actor, parsed):
        # a refusal goes through the choke point below and is audited there
        await respond(**response_payload(await confirmation_prompt(services, parsed, text, actor)), **extra)
        return
    request = request_for(parsed, actor)

    async def still_waiting(line: str, first: bool) -> None:  # the reply itself, replaced as the wait goes on
        await respond(**response_payload(Rendered(text=f":hourglass_flowing_sand: {line}",
                                                  blocks=[bk.section(f":hourglass_flowing_sand: {line}")])),
                      **({} if first else {"replace_original": True}))

    every = services.config.backends.progress_seconds if show_waiting else None
    async with Waiting(still_waiting, waiting_for(request.target), every) as waiting:
        if op.live and parsed.target is not None:
            result, rendered, _ = await run_live(services, client, request, actor.channel_id)
        else:
            result, rendered = await run_request(services, request)
    payload = response_payload(rendered)
    if share and shareable(result):  # read results can be shared in the channel
        payload["blocks"] = with_share_button(payload["blocks"])
    if waiting.updates:
        extra = {"replace_original": True}
    await respond(**payload, **extra)


def slash_command(services: Services, actor: Actor, text: str, *, trigger_id: str, respond: Any,
                  client: AsyncWebClient) -> Step:
    """`/projects …`: bad input is answered in the ack itself; forms open; the rest runs after the ack."""
    routed = route(services, text)
    if isinstance(routed, UsageError):
        error = routed
        return Step(ack=ack_payload(bk.error_message(error)),
                    then=lambda: record_bad_input(services, actor, text, error))
    if isinstance(routed, OpenForm):
        form = routed
        return after_ack(lambda: open_form(services, client, trigger_id, actor, form))
    parsed = routed
    return after_ack(lambda: answer(services, client, actor, parsed, text, respond, show_waiting=True))


async def row_chosen(services: Services, actor: Actor, text: Any, *, trigger_id: str, respond: Any,
                     client: AsyncWebClient) -> None:
    """A row's overflow menu (Show / Edit / Delete…): the same paths as typing the command."""
    text = text if isinstance(text, str) else ""
    routed = route(services, text)
    if isinstance(routed, UsageError):
        await respond(**response_payload(await bad_input(services, actor, text, routed)), replace_original=False)
    elif isinstance(routed, OpenForm):
        await open_form(services, client, trigger_id, actor, routed)
    else:
        await answer(services, client, actor, routed, text, respond, replace_original=False)


async def rerun(services: Services, actor: Actor, text: Any, *, respond: Any) -> None:
    """Next / Previous page and similar: the same command with other arguments, replacing the message."""
    text = text if isinstance(text, str) else ""
    routed = route(services, text)
    if isinstance(routed, UsageError):
        await respond(**response_payload(await bad_input(services, actor, text, routed)), replace_original=False)
        return
    if isinstance(routed, OpenForm) or routed.operation.risk is Risk.DESTRUCTIVE:
        await respond(replace_original=False, text="That button cannot run a destructive command.")
        return
    _, rendered = await run_request(services, request_for(routed, actor))
    await respond(**response_payload(rendered), replace_original=True)


async def share(services: Services, actor: Actor, message: Any, *, respond: Any, client: AsyncWebClient) -> None:
    """Post the same result in the channel, saying who shared it."""
    message = message if isinstance(message, dict) else {}
    blocks = message.get("blocks") if isinstance(message.get("blocks"), list) else []
    kept = [defang_blocks(b) for b in blocks if isinstance(b, dict) and b.get("block_id") != SHARE_BLOCK]
    if not kept:  # a click Slack sent carries the message; one with no blocks has nothing to share
        await respond(replace_original=False, response_type="ephemeral",
                      text="There is nothing to share in this message.")
        return
    shared = [*kept[: bk.MAX_MESSAGE_BLOCKS - 1], bk.context(md("Shared by {}", user(actor.user_id)))]
    text = message.get("text") if isinstance(message.get("text"), str) else ""
    try:
        await services.pacer.turn(actor.channel_id)
        await client.chat_postMessage(channel=actor.channel_id, text=bk.fallback(unescape(text) or "Shared result"),
                                      blocks=shared)
    except SlackApiError as exc:
        await respond(replace_original=False, response_type="ephemeral",
                      text=bk.fallback(f"I could not post in this channel ({exc.response.get('error')}); invite me "
                                       "first."))
