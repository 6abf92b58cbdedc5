"""What the Matillion operations share: the params base, the client, progress lines and text helpers."""

from __future__ import annotations

import inspect
from typing import TYPE_CHECKING, Any, cast

from pydantic import BaseModel, ConfigDict

from bot import blocks as bk

if TYPE_CHECKING:
    from bot.backends.matillion import MatillionClient
    from bot.operations.context import OpContext

KIND = "matillion"


class MatillionParams(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


async def client_of(ctx: OpContext) -> MatillionClient:
    return cast("MatillionClient", await ctx.client())


def target_name(ctx: OpContext) -> str:
    return ctx.target.name if ctx.target else KIND


async def report_progress(ctx: OpContext, text: str) -> None:
    """Hand a progress line to whoever listens (live Slack message updates hook in as `ctx.progress`)."""
    hook = getattr(ctx, "progress", None)
    if hook is None:
        return
    result = hook(text)
    if inspect.isawaitable(result):
        await result


def line_sections(lines: list[str], limit: int = 2900) -> list[dict[str, Any]]:
    """Lines packed into as few sections as Slack's 3000-character limit allows."""
    sections, current = [], ""
    for line in lines:
        line = bk.clip(line, limit)
        if current and len(current) + len(line) + 1 > limit:
            sections.append(bk.section(current))
            current = ""
        current += ("\n" if current else "") + line
    if current:
        sections.append(bk.section(current))
    return sections
