"""What the Matillion operations share: the params base, the client, progress lines and text helpers."""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from pydantic import BaseModel, ConfigDict

from bot.operations.context import report_progress as report_progress  # shared; imported from here
from bot.ui import blocks as bk

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


line_sections = bk.line_sections  # shared packing of lines into sections
