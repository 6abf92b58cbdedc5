"""The next step after a back end said no, worded from the error's data in the `/projects` grammar.

Back ends raise errors that carry data (`bot.errors`): what kind of thing (`resource`), the name asked for,
the names that exist when the back end already read them (`candidates`), and why (`reason`). They never write
a command. This module does, for what any operation may meet: a thing that is not there ("Did you mean
`clickstream`? `/projects list polaris` shows the projects.") and a target that does not answer. A refusal only
one operation meets (a protection flag, workspaces still in a project) is worded by that operation's module.
"""

from __future__ import annotations

import asyncio
from typing import Any

from bot.errors import BackendError, NotFoundError, OpError, Reason
from bot.operations.context import OpContext
from bot.operations.parser import closest

SUGGEST_TIMEOUT_SECONDS = 3.0
#: How close (rapidfuzz WRatio, 0-100) a name must be to be offered as "Did you mean".
CLOSE_ENOUGH = 70
PROJECT_FIELDS = ("project", "name")
#: Reasons that mean the target itself is in question, not the thing asked for.
TARGET_REASONS = (Reason.UNREACHABLE, Reason.NOT_JSON)
_HINTED = "_projectops_hinted"


def command_word(word: str) -> str:
    """A name as it is typed in a command: quoted when it holds a space."""
    return f'"{word}"' if any(c.isspace() for c in word) else word


def typed_name(params: Any) -> str | None:
    """The project (or new name) the request named, for errors that carry no name of their own."""
    return next((getattr(params, f) for f in PROJECT_FIELDS if isinstance(getattr(params, f, None), str)), None)


def listing_hint(error: NotFoundError, target: str, params: Any) -> str:
    """The command that lists what exists where the thing was looked for."""
    project = getattr(params, "project", None)
    where = f"{target} {command_word(project)}" if isinstance(project, str) and project else f"{target} <project>"
    if error.resource == "project" and error.reason == Reason.GONE:
        return f"`/projects list {target}` shows what is there now."
    return {
        "project": f"`/projects list {target}` shows the projects.",
        "table": f"`/projects table list {where}` shows its tables.",
        "job": f"`/projects job list {where}` shows its jobs.",
        "connection": f"`/projects connection list {where}` shows them.",
        "workspace": f"`/projects workspaces {target} <project>` lists a project's workspaces.",
    }.get(error.resource, "")


def not_found_hint(error: NotFoundError, target: str, params: Any, names: list[str] | None) -> str:
    """The whole hint for a NotFoundError: the closest existing name, the back end's own advice, the listing."""
    typed = error.name or typed_name(params)
    near = closest(typed, names, cutoff=CLOSE_ENOUGH) if typed and names else None
    guess = f"Did you mean `{near}`?" if near and near != typed else ""
    parts = [guess, error.hint, listing_hint(error, target, params)]
    return " ".join(p for p in parts if p)


async def existing_names(ctx: OpContext, error: NotFoundError) -> list[str] | None:
    """The names that exist where the thing was looked for: the error's own, else read now (best effort)."""
    if error.candidates is not None:
        return error.candidates
    if error.reason == Reason.GONE or error.resource == "job" or ctx.target is None:
        return None
    try:
        client: Any = await ctx.client()
        listers = {
            "": lambda: client.list_projects(),
            "project": lambda: client.list_projects(),
            "workspace": lambda: client.list_workspaces(),
            "table": lambda: client.list_tables(error.within),
            "connection": lambda: client.list_connections(error.within),
        }
        lister = listers.get(error.resource)
        if lister is None or (error.resource in ("table", "connection") and not error.within):
            return None
        items = await asyncio.wait_for(lister(), SUGGEST_TIMEOUT_SECONDS)
    except Exception:  # a suggestion is a nicety: the original error stands on its own
        return None
    return [name for item in items if (name := getattr(item, "name", ""))]


async def explain(ctx: OpContext, params: Any, error: OpError) -> None:
    """Write the next step into `error.hint` from the error's data (once; best effort, bounded in time)."""
    if not isinstance(error, BackendError) or getattr(error, _HINTED, False):
        return
    setattr(error, _HINTED, True)
    target = ctx.target.name if ctx.target else ""
    if isinstance(error, NotFoundError):
        names = await existing_names(ctx, error) if error.name or typed_name(params) else None
        error.hint = not_found_hint(error, target, params, names)
    elif error.reason in TARGET_REASONS:
        error.hint = f"{error.hint} `/projects targets` shows each target's URL and whether it answers.".strip()


async def suggest_project(ctx: OpContext, params: Any, error: BackendError) -> None:
    """The executor's entry point (any `BackendError`, a `NotFoundError` above all): see `explain`."""
    await explain(ctx, params, error)
