"""Slack mrkdwn that projectops vouches for, and everything else escaped by construction.

Slack reads `<…>` in any mrkdwn text (and in a message's fallback `text`) as a control sequence: `<!everyone>`,
`<!channel>`, `<!here>` ping a whole channel, `<@U…>` pings a person, `<http://…|label>` is a link, even inside a
code span. Its rule is to escape `&`, `<` and `>` in any text you post (`escape`). Here that rule holds by type:

- `Mrkdwn` is a `str` that projectops wrote: its own templates with their bold, code and mentions. It is the only
  text the Block Kit builders (`bot.ui.blocks`) pass through as it is; a plain `str` is escaped there.
- `md(template, *args, **kwargs)` formats one of projectops' templates and escapes every argument that is not itself
  `Mrkdwn`; `Mrkdwn + str`, `str + Mrkdwn` and `Mrkdwn(sep).join(...)` escape the plain part the same way.
- `user`, `channel`, `usergroup` and `date` make the only control sequences projectops writes, each from a value
  checked against its pattern (anything else is shown escaped); `code`, `bold`, `italic` and `pre` wrap foreign text
  in formatting it cannot break out of.

So `md("Created *{}*.", name)` is safe whatever `name` holds, and text that never passes through `md` or a helper
is escaped when it reaches a builder. The template itself is trusted: never pass outside text as a template.
"""

from __future__ import annotations

import re
import string
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any, SupportsIndex

#: Slack ids that may be written as mentions: users (U…, W… on Enterprise Grid), channels and user groups.
USER_ID = re.compile(r"[UW][A-Z0-9]{2,20}")
CHANNEL_ID = re.compile(r"[CGD][A-Z0-9]{2,20}")
USERGROUP_ID = re.compile(r"S[A-Z0-9]{2,20}")
#: Stand-ins for a backtick inside a code span (U+02CB, looks the same) so foreign text cannot end the span.
_BACKTICK = "\u02cb"
_DATE_FORMAT = "{date_short_pretty} {time}"


class Mrkdwn(str):
    """Text in Slack mrkdwn that projectops wrote (escaped where it holds foreign values). Builders post it as it
    is; a plain `str` is escaped. Adding or joining a plain `str` escapes that part."""

    __slots__ = ()

    def __add__(self, other: str) -> Mrkdwn:
        if isinstance(other, str):
            return Mrkdwn(str.__add__(self, escape(other)))
        return NotImplemented

    def __radd__(self, other: str) -> Mrkdwn:
        if isinstance(other, str):
            return Mrkdwn(str.__add__(escape(other), self))
        return NotImplemented

    def join(self, parts: Iterable[str]) -> Mrkdwn:
        return Mrkdwn(str.join(self, (escape(p) for p in parts)))

    def format(self, *args: Any, **kwargs: Any) -> Mrkdwn:
        return md(self, *args, **kwargs)

    def __mul__(self, count: SupportsIndex) -> Mrkdwn:
        return Mrkdwn(str.__mul__(self, count))

    def __repr__(self) -> str:
        return f"Mrkdwn({str.__repr__(self)})"


def escape(text: Any) -> Mrkdwn:
    """Slack's three escapes (`&`, `<`, `>`) of outside text; `Mrkdwn` is already safe and returned as it is."""
    if isinstance(text, Mrkdwn):
        return text
    value = text if isinstance(text, str) else str(text)
    return Mrkdwn(value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;"))


def unescape(text: str) -> str:
    """The text Slack shows for escaped mrkdwn (for plain_text objects, which Slack does not unescape)."""
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


class _Formatter(string.Formatter):
    def format_field(self, value: Any, format_spec: str) -> str:
        if isinstance(value, Mrkdwn):
            return str.__format__(value, format_spec)
        return escape(format(value, format_spec))


_FORMATTER = _Formatter()


def md(template: str, /, *args: Any, **kwargs: Any) -> Mrkdwn:
    """projectops' own mrkdwn `template` (`str.format` syntax) with every argument not already `Mrkdwn` escaped."""
    return Mrkdwn(_FORMATTER.vformat(template, args, kwargs))


def user(user_id: Any) -> Mrkdwn:
    """A mention of a Slack user, written only for a real user id; anything else is shown as escaped text."""
    text = str(user_id or "")
    return Mrkdwn(f"<@{text}>") if USER_ID.fullmatch(text) else escape(text or "someone")


def channel(channel_id: Any) -> Mrkdwn:
    """A link to a Slack channel, written only for a real channel id; anything else is shown as escaped text."""
    text = str(channel_id or "")
    return Mrkdwn(f"<#{text}>") if CHANNEL_ID.fullmatch(text) else escape(text or "this channel")


def usergroup(group_id: Any) -> Mrkdwn:
    """A mention of a Slack user group (from the config's roles), written only for a real group id."""
    text = str(group_id or "")
    return Mrkdwn(f"<!subteam^{text}>") if USERGROUP_ID.fullmatch(text) else escape(text)


def date(ts: float, fmt: str = _DATE_FORMAT, fallback: str | None = None) -> Mrkdwn:
    """A time each reader sees in their own time zone (`<!date^…>`), with a UTC fallback."""
    shown = fallback if fallback is not None else f"{datetime.fromtimestamp(ts, UTC):%Y-%m-%d %H:%M} UTC"
    tokens = re.sub(r"[^A-Za-z0-9_{}:/,.\- ]", "", fmt)
    return Mrkdwn(f"<!date^{int(ts)}^{tokens}|{escape(shown).replace('|', '/')}>")


def code(text: Any) -> Mrkdwn:
    """Foreign text in a code span: escaped, and a backtick in it cannot end the span."""
    value = str(text).replace("`", _BACKTICK) or " "
    return Mrkdwn(f"`{escape(value)}`")


def pre(text: Any) -> Mrkdwn:
    """Foreign text in a code block (```), which it cannot end."""
    value = str(text).replace("```", _BACKTICK * 3)
    return Mrkdwn(f"```{escape(value)}```")


def bold(text: Any) -> Mrkdwn:
    return Mrkdwn(f"*{escape(str(text))}*")


def italic(text: Any) -> Mrkdwn:
    return Mrkdwn(f"_{escape(str(text))}_")


def clip(text: str, limit: int) -> str:
    """At most `limit` characters ending in "…"; `Mrkdwn` stays `Mrkdwn` and is never cut inside a `<…>` control
    sequence or an `&…;` escape (the cut moves before it)."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    if not isinstance(text, Mrkdwn):
        return cut + "…"
    opened, closed = cut.rfind("<"), cut.rfind(">")
    if opened > closed:
        cut = cut[:opened]
    amp, semi = cut.rfind("&"), cut.rfind(";")
    if amp > semi:
        cut = cut[:amp]
    return Mrkdwn(cut + "…")


_SPECIAL_MENTION = re.compile(r"<!(?!date\^)")


def defang(text: str) -> Mrkdwn:
    """Mrkdwn of unknown origin that must keep its formatting (a message posted again, as a payload carried it
    back): every `<!…>` but a date (`<!everyone>`, `<!channel>`, `<!here>`, `<!subteam^…>`) is shown, not sent."""
    return Mrkdwn(_SPECIAL_MENTION.sub("&lt;!", str(text)))


def defang_blocks(node: Any) -> Any:
    """`defang` on every mrkdwn text object in Block Kit `node` (a copy; other values as they are)."""
    if isinstance(node, list):
        return [defang_blocks(item) for item in node]
    if not isinstance(node, dict):
        return node
    if node.get("type") == "mrkdwn" and isinstance(node.get("text"), str):
        return {**node, "text": str(defang(node["text"]))}
    return {key: defang_blocks(value) for key, value in node.items()}


def text_of(text: str, limit: int) -> Mrkdwn:
    """Any text as mrkdwn ready to post: escaped unless it is `Mrkdwn`, then clipped to `limit`."""
    return Mrkdwn(clip(escape(text), limit))
