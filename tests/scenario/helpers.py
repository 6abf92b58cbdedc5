"""Small helpers the scenario tests share: waiting, Block Kit state values, reading what the bot posted."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from rig import Bot, message_text


def wait_until(check: Callable[[], Any], timeout: float = 5.0) -> Any:
    """The first truthy value of `check()`, polled until `timeout`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.02)
    raise AssertionError(f"timed out after {timeout}s waiting for {getattr(check, '__name__', check)}")


def select(value: str) -> dict[str, Any]:
    """The state of a static or external select with `value` chosen."""
    return {"type": "static_select", "selected_option": {"value": value, "text": {"type": "plain_text",
                                                                                  "text": value}}}


def newest_view(bot: Bot, callback_id: str, *, changed_from: str | None = None,
                with_submit: bool = False) -> dict[str, Any]:
    """The newest open view with `callback_id` (whose hash differs from `changed_from`; that can be submitted)."""

    def find() -> dict[str, Any] | None:
        views = [v for v in bot.slack.views.values() if v.get("callback_id") == callback_id
                 and (not with_submit or v.get("submit"))]
        return views[-1] if views and views[-1].get("hash") != changed_from else None

    return wait_until(find)


def ephemeral_text(bot: Bot, needle: str) -> str:
    """The text of the first chat.postEphemeral message containing `needle`."""

    def find() -> str | None:
        return next((t for t in (message_text(e["message"]) for e in bot.slack.ephemerals) if needle in t), None)

    return wait_until(find)


def buttons(payload: dict[str, Any]) -> dict[str, str]:
    """{action_id: value} of every button in a message's actions blocks."""
    return {e["action_id"]: e.get("value", "") for b in payload.get("blocks", []) if b.get("type") == "actions"
            for e in b["elements"]}


def block_ids(payload: dict[str, Any]) -> set[str]:
    return {b.get("block_id", "") for b in payload.get("blocks", [])}
