"""The database cannot be reached: one clear sentence in Slack, instead of silence or Slack's own "dispatch failed".

The choke point already turns an unreachable database into a `DatabaseUnavailable` answer before anything runs
(`bot.operations.executor`). Everything else that needs the database around it (an approval's decision, an event's
delivery record, a bad-input audit row) raises `StoreError` up to Bolt, whose error handler is `on_error`: it answers
the person where the request came from (the response_url of a command or a button, the thread of a mention, a DM)
and lets Slack take the request as handled, so it is not redelivered into the same outage. Other errors are logged
as Bolt logs them.
"""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import BoltResponse

from bot.errors import DATABASE_DOWN
from bot.store.errors import StoreError
from bot.ui import blocks as bk

log = logging.getLogger("projectops.slack")

#: Events answered in their channel when the database is away (plain words to the bot); other events only log.
CONVERSATION_EVENTS = ("app_mention", "message")


def store_error_in(error: BaseException | None) -> StoreError | None:
    """The StoreError that caused `error`, if one did (itself, or along its causes)."""
    seen = 0
    while error is not None and seen < 10:
        if isinstance(error, StoreError):
            return error
        error, seen = error.__cause__ or error.__context__, seen + 1
    return None


async def tell(body: dict[str, Any], respond: Any, say: Any, client: Any) -> None:
    """DATABASE_DOWN, to the person who asked, where they asked."""
    text = f":warning: {DATABASE_DOWN}"
    event = body.get("event") if isinstance(body.get("event"), dict) else {}
    if respond is not None and body.get("response_url"):  # a command, a button, a menu
        await respond(response_type="ephemeral", replace_original=False, text=bk.fallback(text))
    elif event:
        if event.get("type") in CONVERSATION_EVENTS and say is not None and not event.get("bot_id"):
            thread = event.get("thread_ts") or event.get("ts")
            await say(text=bk.fallback(text), **({"thread_ts": thread} if thread else {}))
    else:  # a modal: no response_url, so a DM
        user = body.get("user") if isinstance(body.get("user"), dict) else {}
        if isinstance(user.get("id"), str) and client is not None:
            await client.chat_postMessage(channel=user["id"], text=bk.fallback(text))


async def on_error(error: Exception, body: dict[str, Any], respond: Any, say: Any, client: Any,
                   response: BoltResponse | None) -> BoltResponse | None:
    """Bolt's error handler (listeners and middleware)."""
    cause = store_error_in(error)
    if cause is None:
        log.error("Failed to handle a Slack request (error: %s)", error, exc_info=error)
        return None
    log.warning("a Slack request met an unreachable database: %s", cause)
    try:
        await tell(body if isinstance(body, dict) else {}, respond, say, client)
    except Exception as exc:
        log.warning("could not say in Slack that the database is unreachable: %s", exc)
    if response is None:  # already acked
        return None
    return BoltResponse(status=200, body="", headers={"x-slack-no-retry": "1"})
