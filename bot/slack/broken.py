"""Answers for requests that cannot be served as asked: where a click's private answer goes (`Reply`), a broken
button or form (told to the person, audited), and the safety net for an exception in a listener (`on_error`).

A button's value or a form's metadata that is not what projectops put there (stale, edited, truncated) is never an
exception: the person is told in plain words and an audit row records who clicked what.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from slack_bolt import BoltResponse
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.operations.base import Actor
from bot.operations.context import Services
from bot.operations.executor import record_event
from bot.slack import outage
from bot.slack.payloads import Interaction, Payload, SlashCommand, View
from bot.slack.runner import Step
from bot.ui import blocks as bk

log = logging.getLogger("projectops.slack")

BROKEN_BUTTON = "That button is broken or out of date; run the command again."
BROKEN_FORM = "This form is broken or out of date; close it and start again."
#: What a person is told when projectops itself failed (the details are in the log, never in Slack).
SORRY = "Something went wrong inside projectops; it is logged. Try again, or ask an admin to look at the log."


class Reply:
    """A click's or a command's private answer, called like Bolt's `respond`: at the response_url Slack gave, else
    ephemeral in the channel the request came from, else only logged (a request Slack gives no way to answer)."""

    def __init__(self, respond: Any, client: AsyncWebClient | None,
                 payload: Interaction | SlashCommand | None) -> None:
        self._respond = respond
        self._client = client
        self._url, self._user, self._channel = "", "", ""
        if isinstance(payload, Interaction):
            self._url, self._user, self._channel = payload.reply_url, payload.user.id, payload.channel_id
        elif isinstance(payload, SlashCommand):
            self._url, self._user, self._channel = payload.reply_url, payload.user_id, payload.channel_id

    async def __call__(self, **message: Any) -> None:
        if self._url and self._respond is not None:
            try:
                sent = await self._respond(**message)
            except Exception as exc:  # an expired or unreachable response_url: the channel is the way left
                log.warning("could not answer at the response_url (%s); trying the channel", exc)
            else:
                if getattr(sent, "status_code", 200) < 300:
                    return
                log.warning("the response_url refused the answer (HTTP %s); trying the channel", sent.status_code)
        if self._client is None or not self._user or not self._channel:
            log.info("no way to answer %s privately: the request names no response_url and no channel", self._user)
            return
        kwargs = {k: message[k] for k in ("text", "blocks") if message.get(k)}
        try:
            await self._client.chat_postEphemeral(channel=self._channel, user=self._user, **kwargs)
        except SlackApiError as exc:
            log.warning("could not answer %s in %s: %s", self._user, self._channel, exc.response.get("error"))


async def broken_button(services: Services, actor: Actor, action_id: str, reply: Any, why: str = "") -> None:
    """A click whose value projectops did not make: say so, and audit who clicked what."""
    await record_event(services, actor, "button.broken", "refused", why or "its value is not one projectops made",
                       params={"action": action_id[:100]}, surface="button")
    await reply(response_type="ephemeral", replace_original=False, text=BROKEN_BUTTON)


def message_view(text: str) -> dict[str, Any]:
    return {"type": "modal", "title": bk.plain("projectops", 24), "close": bk.plain("Close", 24),
            "blocks": [bk.section(text)]}


def broken_form(services: Services, actor: Actor, view: View, why: str = "") -> Step:
    """A submission whose metadata projectops did not make: the message on the form itself, then the audit row."""
    block = next((b.block_id for b in view.blocks if b.type == "input" and b.block_id), "")
    ack: dict[str, Any] = ({"response_action": "errors", "errors": {block: BROKEN_FORM}} if block
                           else {"response_action": "update", "view": message_view(BROKEN_FORM)})

    async def audit() -> None:
        await record_event(services, actor, "form.broken", "refused", why or "its metadata is not what projectops made",
                           params={"form": view.callback_id[:100]}, surface="modal")

    return Step(ack=ack, then=audit)


def _keep_the_ack(context: dict[str, Any]) -> None:
    """Undo Bolt's reset of an ack already given. After the error handler of a listener that acked and then
    failed, Bolt sets `ack.response` back to None; when that happens before its wait for the ack looked (a listener
    failing within ~10 ms of its ack, e.g. a Slack call refused at once), the request is answered 404 "unhandled"
    after 3 s. Restored on the loop's next turn, after that reset, the wait sees the ack it was given."""
    ack = context.get("ack")
    given = getattr(ack, "response", None)
    if given is not None:
        asyncio.get_running_loop().call_soon(setattr, ack, "response", given)


def error_handler(services: Services) -> Any:
    """Bolt's global error handler (listeners and middleware): an unreachable database is `bot.slack.outage`'s;
    any other exception is logged (a Slack API refusal as a warning, anything else with its traceback: that is a
    bug), audited, the person is told in plain words, and the request is answered 200 (never Bolt's 500)."""

    async def on_error(error: Exception, body: dict[str, Any], context: dict[str, Any],
                       response: BoltResponse | None, respond: Any, say: Any,
                       client: AsyncWebClient) -> BoltResponse | None:
        if outage.store_error_in(error) is not None:  # the database is away: its own sentence, no audit row
            answer = await outage.on_error(error=error, body=body, respond=respond, say=say, client=client,
                                           response=response)
        else:
            answer = await _answer(services, error, context, response, respond, client)
        if response is None:  # acked before it failed (nothing awaited after this, see `_keep_the_ack`)
            _keep_the_ack(context)
        return answer

    return on_error


async def _answer(services: Services, error: Exception, context: dict[str, Any], response: BoltResponse | None,
                  respond: Any, client: AsyncWebClient) -> BoltResponse | None:
    payload: Payload | None = context.get("payload")
    actor: Actor | None = context.get("actor")
    if isinstance(error, SlackApiError):  # an expired trigger_id, a channel the app is not in: not a bug
        why = f"Slack refused a call ({error.response.get('error')})"
        log.warning("%s while answering %s", why, actor.user_id if actor else "a request")
        said = f"{why}; try again."
    else:
        why = "unexpected error inside projectops"  # the class and traceback are in the log, not the audit log
        log.error("a listener failed", exc_info=error)
        said = SORRY
    if actor is not None and actor.user_id:
        try:
            await record_event(services, actor, "request.failed", "failed", why)
        except Exception:
            log.warning("could not audit a failed request of %s", actor.user_id)
    if response is not None:  # not acked yet: the ack carries the answer (a slash command and a form show it)
        if isinstance(payload, Interaction) and payload.type == "view_submission":
            return BoltResponse(status=200, body={"response_action": "update", "view": message_view(said)})
        return BoltResponse(status=200, body=said if isinstance(payload, SlashCommand) else "")
    if isinstance(payload, Interaction | SlashCommand):
        await Reply(respond, client, payload)(response_type="ephemeral", replace_original=False, text=said)
    return None
