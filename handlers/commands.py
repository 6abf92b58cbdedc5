"""The `/projects` slash command: ack at once, then run through the choke point and respond."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from bot import blocks as bk
from bot.errors import UsageError
from bot.operations.base import Actor, OpRequest, Risk
from bot.operations.context import Services
from bot.operations.executor import execute
from bot.operations.parser import split_words
from handlers.actions import with_share_button
from handlers.common import announce_change, parse_or_usage, record_bad_input, render_result, response_payload
from handlers.confirm import confirmation_prompt
from handlers.progress import LIVE_OPERATIONS
from handlers.provision_modal import is_provision_target, open_provision
from handlers.views import open_create, open_edit, open_edit_picker, run_live

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


EDIT_USAGE = "/projects edit <target> <project>"


async def answer_bad_input(ack: AsyncAck, services: Services, actor: Actor, text: str, error: UsageError) -> None:
    """Bad input is answered in the ack itself (instant, no back end involved), then audited."""
    payload = response_payload(bk.error_message(error))
    payload.pop("response_type")
    await ack(**payload)
    await record_bad_input(services, actor, text, error)


def register(app: AsyncApp, services: Services) -> None:
    @app.command(COMMAND)
    async def projects_command(ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond,
                               client: AsyncWebClient) -> None:
        text = body.get("text", "") or ""
        actor = actor_from_command(body)
        try:
            words = split_words(text)  # quoted names ("Default Project") stay one word
        except UsageError:
            words = text.split()
        if words in (["create"], ["new"]):  # no arguments: the create modal, before any back-end call
            await ack()
            await open_create(services, client, body["trigger_id"], actor)
            return
        if words == ["provision"] or (len(words) == 2 and words[0] == "provision"
                                      and is_provision_target(services, words[1])):  # the guided modal
            await ack()
            await open_provision(services, client, body["trigger_id"], actor, words[1] if len(words) == 2 else None)
            return
        if words and words[0] == "edit":
            if len(words) not in (1, 3):
                error = UsageError("`/projects edit` takes a target and a project.",
                                   "`/projects edit` alone lets you pick them.", usage=EDIT_USAGE)
                await answer_bad_input(ack, services, actor, text, error)
                return
            await ack()
            if len(words) == 1:
                await open_edit_picker(client, body["trigger_id"], actor)
            else:
                await open_edit(services, client, body["trigger_id"], actor, words[1], words[2])
            return
        parsed = parse_or_usage(services, text)
        if isinstance(parsed, UsageError):
            await answer_bad_input(ack, services, actor, text, parsed)
            return
        await ack()
        op = parsed.operation
        if op.risk is Risk.DESTRUCTIVE:
            decision = await services.policy.check(actor.user_id, op, parsed.target)
            if decision.allowed:  # a refusal goes through the choke point below and is audited there
                await respond(**response_payload(await confirmation_prompt(services, parsed, text, actor)))
                return
        if op.qualified_name in LIVE_OPERATIONS and parsed.target is not None:  # a message updated in place
            request = OpRequest(operation=op, actor=actor, params=parsed.params, target=parsed.target.name)
            subject = getattr(parsed.params, "name", "") or getattr(parsed.params, "project", "")
            title = f"{op.command.capitalize()} {subject} on {parsed.target.name}"
            rendered, _ = await run_live(services, client, request, actor.channel_id, title)
            await respond(**response_payload(rendered))
            return
        request = OpRequest(operation=op, actor=actor, params=parsed.params,
                            target=parsed.target.name if parsed.target else None)
        result = await execute(services, request)
        await announce_change(services, result)
        payload = response_payload(render_result(services, result))
        if op.risk is Risk.READ and op.kind is not None and result.ok:  # read results can be shared in channel
            payload["blocks"] = with_share_button(payload["blocks"])
        await respond(**payload)
