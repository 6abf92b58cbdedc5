"""`/projects list` with no target: every configured target's projects in one answer, fetched concurrently.

Each back-end client offers `list_projects()` returning items with `name`, an id (`id`, or `uid` for
Polaris) and `state` (may be empty). One target failing, being slow, or not supporting listing shows
as a line of the answer; it never fails the whole.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ConfigDict

from bot.backends.http import budget
from bot.errors import OpError, UsageError
from bot.operations.base import Operation, Rendered, Risk
from bot.operations.context import OpContext
from bot.operations.registry import register
from bot.settings import Target
from bot.ui import blocks as bk

log = logging.getLogger("projectops.multi")

#: Longest one target may take before it is reported as not answering (at most the config's per-target share).
TARGET_TIMEOUT_SECONDS = 20.0
NAMES_SHOWN = 30


class ListAllParams(BaseModel):
    model_config = ConfigDict(extra="forbid")


@dataclass
class ProjectSummary:
    name: str
    id: str
    state: str = ""


@dataclass
class TargetProjects:
    target: str
    kind: str
    projects: list[ProjectSummary] = field(default_factory=list)
    error: str = ""
    ms: int = 0

    @property
    def ok(self) -> bool:
        return not self.error


def summarize(item: Any) -> ProjectSummary:
    """Any client's project as name / id / state."""
    ident = getattr(item, "id", None) or getattr(item, "uid", None) or ""
    return ProjectSummary(str(getattr(item, "name", "") or ident), str(ident), str(getattr(item, "state", "") or ""))


async def _list_target(ctx: OpContext, target: Target) -> TargetProjects:
    loop = asyncio.get_running_loop()
    started = loop.time()
    result = TargetProjects(target.name, target.kind)
    own = ctx.services.registry.get("project.list", target.kind)
    limit = min(TARGET_TIMEOUT_SECONDS, ctx.config.backends.per_target_seconds)
    try:
        if own is not None:
            decision = await ctx.services.policy.check(ctx.actor.user_id, own, target)
            if not decision.allowed:
                result.error = "you may not list projects here"
                return result
        client = await ctx.services.clients.get(target)
        lister = getattr(client, "list_projects", None)
        if lister is None:
            result.error = "listing not supported"
            return result
        with budget(limit):
            items = await asyncio.wait_for(lister(), limit + 0.25)
        result.projects = sorted((summarize(i) for i in items), key=lambda p: p.name.casefold())
    except TimeoutError:
        result.error = f"no answer within {limit:g} s"
    except OpError as exc:
        result.error = exc.message
    except Exception:  # one broken back end must not hide the others
        log.exception("listing target %s failed unexpectedly", target.name)
        result.error = "its answer could not be read (details in the app log)"
    finally:
        result.ms = int((loop.time() - started) * 1000)
    return result


async def run_list_all(ctx: OpContext, params: ListAllParams) -> list[TargetProjects]:
    targets = list(ctx.config.targets.values())
    return list(await asyncio.gather(*(_list_target(ctx, t) for t in targets)))


def _target_text(result: TargetProjects) -> str:
    head = f"*{result.target}* · {result.kind}"
    if not result.ok:
        return f":red_circle: {head} — {result.error}"
    count = len(result.projects)
    names = []
    for p in result.projects[:NAMES_SHOWN]:
        names.append(f"`{p.name}`" + (f" ({p.state})" if p.state else ""))
    more = f" …and {count - NAMES_SHOWN} more" if count > NAMES_SHOWN else ""
    body = ", ".join(names) + more if names else "_no projects_"
    return f":large_green_circle: {head} — {count} project{'s' if count != 1 else ''}\n{body}"


def render_list_all(results: list[TargetProjects], ctx: OpContext) -> Rendered:
    if not results:
        return Rendered(text="No targets are configured.",
                        blocks=[bk.section(":information_source: No targets are configured yet.")])
    total = sum(len(r.projects) for r in results)
    failed = [r for r in results if not r.ok]
    title = f"Projects on {len(results)} target{'s' if len(results) != 1 else ''} ({total})"
    blocks: list[dict[str, Any]] = [bk.header(title)]
    blocks += [bk.section(_target_text(r)) for r in results]
    note = "`/projects list <target>` shows one target in detail."
    if failed:
        note = f"{len(failed)} target{'s' if len(failed) != 1 else ''} could not be listed. " + note
    blocks.append(bk.context(note))
    text = title + (f"; {len(failed)} failed" if failed else "")
    return Rendered(text=text, blocks=bk.fit_message(blocks))


def parse_list_all_args(args: list[str]) -> dict[str, Any]:
    if args and args[0].startswith("-"):
        raise UsageError(f"`{args[0]}` needs a target: options filter one target's listing.",
                         "For example `/projects list phoenix --name-contains chat`.",
                         usage="/projects list [<target>] [options]")
    if args:
        raise UsageError(f"`{args[0]}` is not a configured target.",
                         "`/projects targets` lists them; `/projects list` alone lists every target.",
                         usage="/projects list [<target>]")
    return {}


LIST_ALL = register(Operation(
    name="project.list", summary="list projects on every target (or one: `list <target>`)",
    params=ListAllParams, risk=Risk.READ, run=run_list_all, render=render_list_all, kind=None, verb="list",
    parse_args=parse_list_all_args, usage_text="/projects list [<target>]",
    examples=("/projects list", "/projects list terraform"),
))
