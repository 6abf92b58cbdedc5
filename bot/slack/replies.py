"""Where answers go: the ephemeral reply, the response_url, a private copy after a modal, the channel line."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient

from bot.operations.audit import subject
from bot.operations.base import OpResult, Rendered, Risk
from bot.operations.context import OpContext, Services
from bot.redact import redact
from bot.ui import blocks as bk
from bot.ui.ids import SHARE_ACTION, SHARE_BLOCK
from bot.ui.mrkdwn import code, md, user

log = logging.getLogger("projectops.slack")

Respond = Callable[..., Awaitable[Any]]


def response_payload(rendered: Rendered, response_type: str = "ephemeral") -> dict[str, Any]:
    return {
        "response_type": response_type,
        "text": bk.fallback(rendered.text),
        "blocks": bk.fit_message(rendered.blocks),
    }


def ack_payload(rendered: Rendered) -> dict[str, Any]:
    """An answer given in the ack itself (instant, no back end involved)."""
    payload = response_payload(rendered)
    payload.pop("response_type")
    return payload


def render_result(services: Services, result: OpResult) -> Rendered:
    """The operation's own rendering, or its error; a renderer that breaks never hides that the work ran."""
    if result.error is not None:
        return bk.error_message(result.error, result.audit_id)
    if result.note and result.value is None:  # a change confirmed by re-reading the back end: the note says it all
        return Rendered(text=result.note, blocks=[bk.section(":white_check_mark: " + result.note)])
    ctx = OpContext(services=services, actor=result.request.actor)
    try:
        rendered = result.request.operation.render(result.value, ctx)
        if result.note:
            rendered = Rendered(text=rendered.text, blocks=[bk.context(":information_source: " + result.note),
                                                            *rendered.blocks])
        return rendered
    except Exception:
        log.exception("rendering %s failed (audit #%s)", result.request.operation.name, result.audit_id)
        return Rendered(
            text="The operation ran, but I could not show its result.",
            blocks=[bk.section(":warning: The operation ran (audit "
                               f"#{result.audit_id}), but I could not show its result.")],
        )


def with_share_button(blocks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Read results end with a "Share in channel" button (the message stays within 50 blocks)."""
    kept = bk.fit_message(blocks)[: bk.MAX_MESSAGE_BLOCKS - 1]
    return [*kept, bk.actions(bk.button("Share in channel", SHARE_ACTION, value="share"), block_id=SHARE_BLOCK)]


def shareable(result: OpResult) -> bool:
    op = result.request.operation
    return result.ok and op.risk is Risk.READ and op.kind is not None


async def announce_change(services: Services, result: OpResult) -> None:
    """A change to a back end, answered privately, is also announced in its channel in one line."""
    op, actor = result.request.operation, result.request.actor
    if not result.ok or op.risk is Risk.READ or op.kind is None or not actor.channel_id or services.slack is None:
        return
    if actor.channel_id.startswith("D"):  # a DM: only the asker is there, and the answer already says it
        return
    acted_on = subject(op.qualified_name, redact(result.request.params.model_dump(mode="json")))
    where = md(" on {}", code(result.request.target)) if result.request.target else ""
    what = md(" for {}", acted_on) if acted_on else ""
    text = md(":information_source: {} did this{}{}: {} (audit #{}).", user(actor.user_id), where, what, op.summary,
              result.audit_id)
    try:
        await services.pacer.turn(actor.channel_id)
        await services.slack.chat_postMessage(channel=actor.channel_id, text=bk.fallback(text),
                                              blocks=[bk.context(text)])
    except Exception:  # the change is done and answered; a missing announcement is only logged
        log.warning("could not announce audit #%s in %s", result.audit_id, actor.channel_id)


class Responder:
    """Where the answers of one request go: a Bolt `respond`, or a stored response_url."""

    def __init__(self, respond: Respond | None = None, response_url: str = "") -> None:
        self._respond = respond
        self._url = response_url

    async def __call__(self, rendered: Rendered, replace: bool = True) -> None:
        payload = {"text": bk.fallback(rendered.text), "blocks": bk.fit_message(rendered.blocks),
                   "replace_original": replace, "response_type": "ephemeral"}
        if self._respond is not None:
            await self._respond(**payload)
        elif self._url:
            await AsyncWebhookClient(self._url).send_dict(payload)


async def deliver(services: Services, client: AsyncWebClient, user: str, channel: str, rendered: Rendered) -> None:
    """An answer for the user only: ephemeral in the channel the request came from, else a DM."""
    kwargs = {"text": bk.fallback(rendered.text), "blocks": bk.fit_message(rendered.blocks)}
    try:
        if channel:
            await client.chat_postEphemeral(channel=channel, user=user, **kwargs)
            return
    except SlackApiError as exc:
        log.info("ephemeral answer in %s failed: %s", channel, exc.response.get("error"))
    await services.pacer.turn(user)
    await client.chat_postMessage(channel=user, **kwargs)
