"""Block Kit builders that stay inside Slack's limits (text lengths, block counts)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from bot.errors import OpError, UsageError
from bot.ui.mrkdwn import Mrkdwn, code, escape, md, text_of, unescape
from bot.ui.mrkdwn import clip as clip

__all__ = ["Mrkdwn", "clip", "escape", "md"]  # re-exported: `bk.escape`, `bk.md`, `bk.Mrkdwn`, `bk.clip`


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


# Every mrkdwn text object below is made by `mrkdwn()`: a plain `str` is escaped there (Slack's three escapes), only
# `Mrkdwn` (projectops' own templates, `md(...)`) keeps its markup. See `bot.ui.mrkdwn`.


def mrkdwn(text: str, limit: int = SECTION_TEXT_MAX) -> dict[str, Any]:
    return {"type": "mrkdwn", "text": str(text_of(text, limit)) or " "}


def plain(text: str, limit: int = SECTION_TEXT_MAX) -> dict[str, Any]:
    """plain_text: Slack shows it as it is (no mentions), so it is only clipped; `Mrkdwn` shows unescaped."""
    shown = unescape(text) if isinstance(text, Mrkdwn) else str(text)
    return {"type": "plain_text", "text": clip(shown, limit) or " ", "emoji": True}


def fallback(text: str, limit: int = 3000) -> Mrkdwn:
    """A message's `text` (its notification and fallback), which Slack parses like mrkdwn: escaped unless `Mrkdwn`
    (so giving it twice escapes once)."""
    return text_of(text, limit)


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
    lines = [md("{} {}", icon, error.message)]
    if error.hint:
        lines.append(escape(error.hint))
    blocks = [section(Mrkdwn("\n").join(lines))]
    if isinstance(error, UsageError) and error.usage:
        blocks.append(section(md("Usage: {}", code(error.usage))))
    notes = []
    request_id = getattr(error, "request_id", "")
    if request_id:
        notes.append(md("request id {}", code(request_id)))
    if audit_id:
        notes.append(md("audit #{}", audit_id))
    if notes:
        blocks.append(context(Mrkdwn(" · ").join(notes)))
    return Rendered(text=error.message, blocks=blocks)


def table_lines(rows: list[list[str]]) -> Mrkdwn:
    """Monospace table for short listings (cells are outside text: aligned as typed, then escaped)."""
    if not rows:
        return Mrkdwn("")
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip() for row in rows]
    return Mrkdwn("```") + "\n".join(lines).replace("```", "\u02cb" * 3) + Mrkdwn("```")


def line_sections(lines: Sequence[str], limit: int = SECTION_TEXT_MAX - 100) -> list[dict[str, Any]]:
    """Pack lines into as few section blocks as Slack's text limit allows (each line escaped unless `Mrkdwn`)."""
    chunks: list[list[Mrkdwn]] = []
    current: list[Mrkdwn] = []
    size = 0
    for raw in lines:
        line = text_of(raw, limit)
        if current and size + len(line) + 1 > limit:
            chunks.append(current)
            current, size = [], 0
        current.append(line)
        size += len(line) + 1
    if current:
        chunks.append(current)
    return [section(Mrkdwn("\n").join(chunk)) for chunk in chunks]


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
