"""Who asked, from where: one `Actor` from any Slack payload (built once, by middleware)."""

from __future__ import annotations

from typing import Any

from bot.operations.base import Actor, Surface


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _str(value: Any) -> str:
    return value if isinstance(value, str) else ""


def surface_of(body: dict[str, Any]) -> Surface:
    kind = body.get("type")
    if body.get("command"):
        return "command"
    if kind in ("view_submission", "view_closed", "block_suggestion") and body.get("view"):
        return "modal"
    if kind == "event_callback":
        event = _dict(body.get("event"))
        if event.get("type") == "app_mention":
            return "mention"
        if event.get("type") == "app_home_opened":
            return "home"
        return "dm"
    return "button"


def actor_from_body(body: dict[str, Any], surface: Surface | None = None) -> Actor:
    """The actor of a slash command, an interaction (button, menu, modal, suggestion) or an event.

    The channel of a modal is not in its payload: the form carries it in `private_metadata`
    (see `bot.slack.forms.metadata`), read by `with_form_channel`.
    """
    surface = surface or surface_of(body)
    if body.get("command"):
        return Actor(user_id=_str(body.get("user_id")), team_id=_str(body.get("team_id")),
                     channel_id=_str(body.get("channel_id")), surface=surface, user_name=_str(body.get("user_name")))
    if body.get("type") == "event_callback":
        event = _dict(body.get("event"))
        return Actor(user_id=_str(event.get("user")), team_id=_str(body.get("team_id")),
                     channel_id=_str(event.get("channel")), surface=surface)
    user = _dict(body.get("user"))
    channel = _str(_dict(body.get("channel")).get("id")) or _str(_dict(body.get("container")).get("channel_id"))
    return Actor(
        user_id=_str(user.get("id")),
        team_id=_str(_dict(body.get("team")).get("id")) or _str(user.get("team_id")),
        channel_id=channel,
        surface=surface,
        user_name=_str(user.get("username")) or _str(user.get("name")),
    )


def with_form_channel(actor: Actor, meta: dict[str, Any]) -> Actor:
    """A modal's actor: the channel (and team) the form was opened from, as its metadata recorded them."""
    return Actor(user_id=actor.user_id, team_id=_str(meta.get("team")) or actor.team_id,
                 channel_id=_str(meta.get("channel")), surface="modal", user_name=actor.user_name)
