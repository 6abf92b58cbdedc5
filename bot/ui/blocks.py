"""Block Kit builders that stay inside Slack's limits (text lengths, block counts)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bot.errors import OpError, UsageError


@dataclass
class Rendered:
    """A Slack answer: fallback text plus Block Kit blocks."""

    text: str
    blocks: list[dict[str, Any]] = field(default_factory=list)


MAX_MESSAGE_BLOCKS = 50
MAX_VIEW_BLOCKS = 100
SECTION_TEXT_MAX = 3000
FIELD_TEXT_MAX = 2000
HEADER_MAX = 150
BUTTON_TEXT_MAX = 75
CONTEXT_MAX_ELEMENTS = 10


def clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def escape(text: str) -> str:
    """Text from elsewhere (a back end's error, a user's input) shown in mrkdwn: no mentions, links or markup
    sneak in (Slack's three escapes)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def mrkdwn(text: str, limit: int = SECTION_TEXT_MAX) -> dict[str, Any]:
    return {"type": "mrkdwn", "text": clip(text, limit) or " "}


def plain(text: str, limit: int = SECTION_TEXT_MAX) -> dict[str, Any]:
    return {"type": "plain_text", "text": clip(text, limit) or " ", "emoji": True}


def header(text: str) -> dict[str, Any]:
    return {"type": "header", "text": plain(text, HEADER_MAX)}


def section(text: str = "", fields: list[str] | None = None, accessory: dict | None = None,
            block_id: str | None = None) -> dict[str, Any]:
    block: dict[str, Any] = {"type": "section"}
    if text:
        block["text"] = mrkdwn(text)
    if fields:
        block["fields"] = [mrkdwn(f, FIELD_TEXT_MAX) for f in fields[:10]]
    if accessory:
        block["accessory"] = accessory
    if block_id:
        block["block_id"] = block_id
    return block


def context(*texts: str) -> dict[str, Any]:
    return {"type": "context", "elements": [mrkdwn(t, 3000) for t in texts[:CONTEXT_MAX_ELEMENTS]]}


def divider() -> dict[str, Any]:
    return {"type": "divider"}


def button(text: str, action_id: str, value: str = "", style: str | None = None,
           confirm: dict | None = None) -> dict[str, Any]:
    element: dict[str, Any] = {
        "type": "button",
        "text": plain(text, BUTTON_TEXT_MAX),
        "action_id": action_id,
    }
    if value:
        element["value"] = clip(value, 2000)
    if style:
        element["style"] = style
    if confirm:
        element["confirm"] = confirm
    return element


def actions(*elements: dict[str, Any], block_id: str | None = None) -> dict[str, Any]:
    block: dict[str, Any] = {"type": "actions", "elements": list(elements)[:25]}
    if block_id:
        block["block_id"] = block_id
    return block


def fit_message(blocks: list[dict[str, Any]], more_text: str = "…and more; narrow the request.") -> list[dict]:
    """Trim to Slack's 50-block message limit, saying so in the last block."""
    if len(blocks) <= MAX_MESSAGE_BLOCKS:
        return blocks
    return [*blocks[: MAX_MESSAGE_BLOCKS - 1], context(more_text)]


def error_message(error: OpError, audit_id: int | None = None) -> Rendered:
    """What happened, what to do, and (for bad input) the usage."""
    icon = {"usage": ":grey_question:", "refused": ":no_entry:", "backend": ":warning:"}.get(
        error.kind, ":x:"
    )
    lines = [f"{icon} {error.message}"]
    if error.hint:
        lines.append(error.hint)
    blocks = [section("\n".join(lines))]
    if isinstance(error, UsageError) and error.usage:
        blocks.append(section(f"Usage: `{error.usage}`"))
    notes = []
    request_id = getattr(error, "request_id", "")
    if request_id:
        notes.append(f"request id `{request_id}`")
    if audit_id:
        notes.append(f"audit #{audit_id}")
    if notes:
        blocks.append(context(" · ".join(notes)))
    return Rendered(text=error.message, blocks=blocks)


def table_lines(rows: list[list[str]]) -> str:
    """Monospace table for short listings."""
    if not rows:
        return ""
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip() for row in rows]
    return "```" + "\n".join(lines) + "```"


def line_sections(lines: list[str], limit: int = SECTION_TEXT_MAX - 100) -> list[dict[str, Any]]:
    """Pack lines into as few section blocks as Slack's text limit allows."""
    chunks, current = [], ""
    for line in lines:
        line = clip(line, limit)
        if current and len(current) + len(line) + 1 > limit:
            chunks.append(current)
            current = ""
        current += line + "\n"
    if current:
        chunks.append(current)
    return [section(c.rstrip("\n")) for c in chunks]


def listing(title: str, rows: list[dict[str, Any]], footer: str, *, filtered: str = "",
            noun: str = "projects") -> list[dict[str, Any]]:
    """A list reply: header, filter note, the rows (or an empty note), and a footer."""
    blocks: list[dict[str, Any]] = [header(title)]
    if filtered:
        blocks.append(context(filtered))
    if not rows:
        blocks.append(section(f"No {noun} match." if filtered else f"No {noun} yet."))
    blocks += rows
    blocks.append(context(footer))
    return fit_message(blocks)
