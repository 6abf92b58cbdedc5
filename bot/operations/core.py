"""Core operations that need no back end: help, whoami, targets, audit."""

from __future__ import annotations

import asyncio
import logging
import re
import time
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from bot.backends.http import budget
from bot.errors import OpError, UsageError
from bot.operations.base import NoParams, Operation, Rendered, Risk
from bot.operations.context import OpContext
from bot.operations.parser import closest, usage
from bot.operations.registry import register
from bot.policy import REQUIRED_ROLE
from bot.settings import ROLE_ORDER
from bot.ui import blocks as bk
from bot.ui.mrkdwn import channel, md, user

log = logging.getLogger("projectops.core")

RISK_MARK = {Risk.READ: "", Risk.WRITE: " :pencil2:", Risk.DESTRUCTIVE: " :warning:"}


# ---------------------------------------------------------------- help
class HelpParams(BaseModel):
    model_config = ConfigDict(extra="forbid")
    command: str | None = Field(default=None, description="a command to explain")


@dataclass
class HelpResult:
    role: str
    ops: list[Operation]
    command: str | None = None


async def run_help(ctx: OpContext, params: HelpParams) -> HelpResult:
    role = await ctx.services.policy.role_of(ctx.actor.user_id)
    visible = [
        op for op in ctx.services.registry.all() if ROLE_ORDER[role] >= ROLE_ORDER[REQUIRED_ROLE[op.risk]]
    ]
    if params.command:
        wanted = params.command.lower().strip()
        chosen = [op for op in visible if op.command == wanted]
        if not chosen:
            near = closest(wanted, sorted({op.command for op in visible}))
            hidden = any(op.command == wanted for op in ctx.services.registry.all())
            if hidden:
                raise UsageError(f"`{wanted}` needs a role you do not have (you are {role}).")
            raise UsageError(
                f"There is no command `{wanted}`.",
                (f"Did you mean `/projects help {near}`?" if near else "Type `/projects help` for the list."),
                suggestion=near or "",
            )
        return HelpResult(role=role, ops=chosen, command=wanted)
    return HelpResult(role=role, ops=visible)


def render_help(result: HelpResult, ctx: OpContext) -> Rendered:
    if result.command:
        op = result.ops[0]
        kinds = sorted({o.kind for o in result.ops if o.kind})
        lines = [f"*/projects {op.command}* — {op.summary}{RISK_MARK[op.risk]}"]
        for o in result.ops:
            lines.append(f"`{usage(o)}`" + (f"  _({o.kind})_" if o.kind and len(kinds) > 1 else ""))
        examples = [e for o in result.ops for e in o.examples]
        blocks = [bk.section("\n".join(lines))]
        if examples:
            blocks.append(bk.section("*Examples*\n" + "\n".join(f"`{e}`" for e in examples[:8])))
        return Rendered(text=f"/projects {op.command}: {op.summary}", blocks=blocks)

    by_group: dict[str, list[Operation]] = {}
    for op in result.ops:
        by_group.setdefault(op.kind or "general", []).append(op)
    blocks: list[dict[str, Any]] = [
        bk.header("projectops commands"),
        bk.context(f"You are *{result.role}*: this lists what you may run. "
                   ":pencil2: changes something, :warning: is destructive and asks for confirmation."),
    ]
    for group in ["general", *sorted(k for k in by_group if k != "general")]:
        ops = by_group.get(group)
        if not ops:
            continue
        seen: dict[str, Operation] = {}
        for op in sorted(ops, key=lambda o: o.command):
            seen.setdefault(op.command, op)
        targets = [t.name for t in ctx.config.targets_of(group)] if group != "general" else []
        where = f" {targets[0]}" if len(targets) == 1 else " <target>" if targets else ""
        lines = [f"`/projects {cmd}{where}` — {op.summary}{RISK_MARK[op.risk]}" for cmd, op in seen.items()]
        title = "General" if group == "general" else group.capitalize()
        blocks += bk.line_sections([f"*{title}*", *lines])
    blocks.append(bk.context("`/projects help <command>` shows its arguments and examples. "
                             "`/projects create` and `/projects edit <target> <project>` open forms."))
    blocks.append(bk.context(":speech_balloon: Or just ask in plain words: mention @projectops or DM it "
                             "(\"which jobs are failing?\", \"pause clickstream\"). Changes still wait for your "
                             "button."))
    return Rendered(text="projectops commands", blocks=bk.fit_message(blocks))


def parse_help_args(args: list[str]) -> dict[str, Any]:
    return {"command": " ".join(args)} if args else {}


register(Operation(
    name="help", summary="what you can do here, or how to use one command", params=HelpParams,
    risk=Risk.READ, run=run_help, render=render_help, parse_args=parse_help_args,
    usage_text="/projects help [<command>]",
    examples=("/projects help", "/projects help audit"),
))


# ---------------------------------------------------------------- whoami
@dataclass
class WhoAmI:
    user_id: str
    team_id: str
    channel_id: str
    role: str
    per_target: dict[str, str]
    name: str = ""
    tz: str = ""


async def run_whoami(ctx: OpContext, params: NoParams) -> WhoAmI:
    policy = ctx.services.policy
    role = await policy.role_of(ctx.actor.user_id)
    per_target = {
        name: await policy.role_of(ctx.actor.user_id, target) for name, target in ctx.config.targets.items()
    }
    name, tz = ctx.actor.user_name, ""
    if ctx.services.slack is not None:
        try:
            info = await ctx.services.slack.users_info(user=ctx.actor.user_id)
            user = info.get("user") or {}
            name = user.get("real_name") or user.get("name") or name
            tz = user.get("tz") or ""
        except Exception:  # the profile is a nicety; the role is what matters
            pass
    return WhoAmI(ctx.actor.user_id, ctx.actor.team_id, ctx.actor.channel_id, role, per_target, name, tz)


def render_whoami(me: WhoAmI, ctx: OpContext) -> Rendered:
    fields = [md("*User*\n{}{}", user(me.user_id), f" ({me.name})" if me.name else ""), f"*Role*\n{me.role}"]
    if me.tz:
        fields.append(f"*Time zone*\n{me.tz}")
    fields.append(md("*Team / channel*\n{} / {}", me.team_id or "?", channel(me.channel_id)) if me.channel_id else "")
    overrides = [f"`{t}`: {r}" for t, r in me.per_target.items() if r != me.role]
    blocks = [bk.section(fields=[f for f in fields if f])]
    if overrides:
        blocks.append(bk.context("Different on some targets: " + ", ".join(overrides)))
    return Rendered(text=f"You are {me.role}", blocks=blocks)


register(Operation(
    name="whoami", summary="who you are to projectops and what role you hold", params=NoParams,
    risk=Risk.READ, run=run_whoami, render=render_whoami, examples=("/projects whoami",),
))


# ---------------------------------------------------------------- targets
@dataclass
class TargetStatus:
    name: str
    kind: str
    url: str
    ok: bool
    detail: str
    ms: int


PING_TIMEOUT_SECONDS = 5.0


async def _ping(ctx: OpContext, name: str) -> TargetStatus:
    target = ctx.config.targets[name]
    started = time.monotonic()
    limit = min(PING_TIMEOUT_SECONDS, ctx.config.backends.per_target_seconds)
    try:
        client = await ctx.services.clients.get(target)
        with budget(limit):
            detail = await asyncio.wait_for(client.ping(), limit + 0.25)
        ok = True
    except TimeoutError:
        ok, detail = False, f"no answer within {limit:g} s"
    except OpError as exc:
        ok, detail = False, exc.message
    except Exception:  # one broken target must not hide the others
        log.exception("pinging target %s failed unexpectedly", name)
        ok, detail = False, "its answer could not be read (details in the app log)"
    host = re.sub(r"^https?://", "", target.url)
    return TargetStatus(name, target.kind, host, ok, detail, int((time.monotonic() - started) * 1000))


async def run_targets(ctx: OpContext, params: NoParams) -> list[TargetStatus]:
    return list(await asyncio.gather(*(_ping(ctx, name) for name in ctx.config.targets)))


def render_targets(statuses: list[TargetStatus], ctx: OpContext) -> Rendered:
    if not statuses:
        return Rendered(
            text="No targets are configured.",
            blocks=[bk.section(":information_source: No targets are configured yet. An admin adds them "
                               "to the config file named by `PROJECTOPS_CONFIG`.")],
        )
    blocks = [bk.header(f"Targets ({len(statuses)})")]
    for s in statuses:
        mark = ":large_green_circle:" if s.ok else ":red_circle:"
        blocks.append(bk.section(
            f"{mark} *{s.name}* · {s.kind} · `{s.url}`\n{s.detail} · {s.ms} ms"
        ))
    down = sum(not s.ok for s in statuses)
    text = f"{len(statuses) - down} of {len(statuses)} targets answer"
    return Rendered(text=text, blocks=bk.fit_message(blocks))


register(Operation(
    name="targets", summary="configured back ends and whether each answers", params=NoParams,
    risk=Risk.READ, run=run_targets, render=render_targets, examples=("/projects targets",),
))
