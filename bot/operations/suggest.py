"""'Did you mean …?' for a project name that does not exist on a target."""

from __future__ import annotations

import asyncio
from typing import Any

from bot.errors import NotFoundError
from bot.operations.context import OpContext
from bot.operations.parser import closest

SUGGEST_TIMEOUT_SECONDS = 3.0
PROJECT_FIELDS = ("project", "name")


async def suggest_project(ctx: OpContext, params: Any, error: NotFoundError) -> None:
    """Add the closest existing project names to `error.hint` (best effort, bounded in time)."""
    typed = next((getattr(params, f) for f in PROJECT_FIELDS if isinstance(getattr(params, f, None), str)), None)
    if not typed or "Did you mean" in error.hint or "Did you mean" in error.message or ctx.target is None:
        return
    try:
        client = await ctx.client()
        lister = getattr(client, "list_projects", None)
        if lister is None:
            return
        projects = await asyncio.wait_for(lister(), SUGGEST_TIMEOUT_SECONDS)
    except Exception:  # a suggestion is a nicety: the original error stands on its own
        return
    names = [getattr(p, "name", "") for p in projects if getattr(p, "name", "")]
    near = closest(typed, names, cutoff=70)
    if near and near != typed:
        error.hint = f"Did you mean `{near}`? " + error.hint
