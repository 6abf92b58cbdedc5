"""Core operations that need no back end: help, whoami, targets, audit."""

from __future__ import annotations

import asyncio
import logging
import re
import time
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from bot.backends.http import budget
from bot.errors import OpError, UsageError
from bot.operations.base import NoParams, Operation, Rendered, Risk
from bot.operations.context import OpContext
from bot.operations.outcome import BACKEND_NAMES
from bot.operations.parser import closest_command, target_named, unknown_subcommand, usage
from bot.operations.registry import register
from bot.policy import required_role
from bot.settings import ROLE_ORDER
from bot.ui import blocks as bk
from bot.ui.mrkdwn import channel, md, user

log = logging.getLogger("projectops.core")

RISK_MARK = {Risk.READ: "", Risk.WRITE: " :pencil2:", Risk.DESTRUCTIVE: " :warning:"}


# ---------------------------------------------------------------- help
class HelpParams(BaseModel):
    model_config = ConfigDict(extra="forbid")
    command: str | None = Field(default=None, description="a command to explain")


#: What a command that runs on several back ends does, said once for all of them (each back end's own summary
#: follows it). A command missing here falls back to its untargeted form's summary, or to the one summary its
#: back ends share.
GENERAL_SUMMARY = {
    "list": "list projects",
    "show": "show one project",
    "create": "create a project",
    "update": "change a project's settings",
    "delete": "delete a project",
    "edit": "change a project in a form filled with its current values",
}

#: The order back ends are shown in when a command runs on several.
KIND_ORDER = ("polaris", "phoenix", "terraform", "matillion")


@dataclass
class HelpResult:
    role: str
    ops: list[Operation]
    #: the command explained (`create`, `job list`); None lists everything (or a family, see `group`)
    command: str | None = None
    #: the command family listed (`job`, `table`): one line per subcommand
    group: str = ""
    #: `help create polaris`: only that back end's form
    kind: str | None = None
    #: other commands of the explained command's family (`audit export` for `audit`)
    related: list[Operation] = field(default_factory=list)


def _may_run(role: str, op: Operation) -> bool:
    return ROLE_ORDER[role] >= ROLE_ORDER[required_role(op)]


def _kind_label(kind: str | None) -> str:
    return BACKEND_NAMES.get(kind, kind.capitalize()) if kind else "All targets"


def _kind_rank(op: Operation) -> tuple[int, str]:
    if op.kind is None:
        return -1, ""
    return (KIND_ORDER.index(op.kind) if op.kind in KIND_ORDER else len(KIND_ORDER)), op.kind


def general_summary(ops: list[Operation]) -> str:
    """What a command does whatever the back end: one sentence for all its forms."""
    command = ops[0].command
    untargeted = [op for op in ops if op.kind is None]
    if len({op.summary for op in ops}) == 1:
        return ops[0].summary
    if command in GENERAL_SUMMARY:
        return GENERAL_SUMMARY[command]
    if untargeted:
        return untargeted[0].summary
    labels = [_kind_label(op.kind) for op in sorted(ops, key=_kind_rank)]
    return f"works on {', '.join(labels)}; each back end's form below"


def _family_words(ops: list[Operation]) -> list[str]:
    return sorted({op.command.split()[0] for op in ops})


def _for_kind(command: str, ops: list[Operation], word: str, ctx: OpContext) -> str:
    """`help create polaris`: the kind a target name or a back-end name stands for."""
    target = target_named(word, ctx.config)
    kinds = {op.kind for op in ops if op.kind}
    wanted = target.kind if target is not None else word.lower()
    if wanted in kinds:
        return wanted
    by_label = {BACKEND_NAMES.get(k, k).lower(): k for k in kinds}
    if wanted in by_label:
        return by_label[wanted]
    where = ", ".join(f"`{k}`" for k in sorted(kinds, key=lambda k: KIND_ORDER.index(k) if k in KIND_ORDER else 9))
    if not kinds:
        raise UsageError(f"`{command}` needs no target, so it has one form only.",
                         f"Type `/projects help {command}` for it.", suggestion=f"help {command}")
    if target is not None:
        raise UsageError(f"`{command}` does not run on {_kind_label(target.kind)} targets like `{target.name}`.",
                         f"It runs on {where}. Type `/projects help {command}` for every form.")
    raise UsageError(f"`{word}` is neither a configured target nor a back end that `{command}` runs on.",
                     f"It runs on {where}. Type `/projects help {command}` for every form.")


async def run_help(ctx: OpContext, params: HelpParams) -> HelpResult:
    role = await ctx.services.policy.role_of(ctx.actor.user_id)
    everything = ctx.services.registry.all()
    visible = [op for op in everything if _may_run(role, op)]
    if not params.command:
        return HelpResult(role=role, ops=visible)
    words = params.command.lower().split()
    if words and words[0] in ("/projects", "projects"):
        words = words[1:]
    if not words:
        return HelpResult(role=role, ops=visible)
    commands = {op.command for op in everything}
    for size in (3, 2, 1):
        command = " ".join(words[:size])
        if len(words) < size or command not in commands:
            continue
        chosen = [op for op in visible if op.command == command]
        if not chosen:
            raise UsageError(f"`{command}` needs a role you do not have (you are {role}).")
        kind = None
        rest = words[size:]
        if rest:
            kind = _for_kind(command, chosen, rest[0], ctx)
            chosen = [op for op in chosen if op.kind == kind]
        related = [op for op in visible if op.command.startswith(command + " ")] if size == 1 else []
        return HelpResult(role=role, ops=sorted(chosen, key=_kind_rank), command=command, kind=kind,
                          related=related)
    group = words[0]
    members = [op for op in visible if op.command.startswith(group + " ")]
    if members and len(words) == 1:
        return HelpResult(role=role, ops=members, group=group)
    if any(op.command.startswith(group + " ") for op in everything) and len(words) == 1:
        raise UsageError(f"The `{group}` commands need a role you do not have (you are {role}).")
    typed = " ".join(words)
    near = closest_command(typed, visible, groups=True) or (
        closest_command(words[0], visible, groups=True) if len(words) > 1 else None)
    if members:  # `help job frobnicate`: the family exists, the subcommand does not
        raise unknown_subcommand(group, " ".join(words[1:]), [op.command for op in members], near, prefix="help ")
    families = ", ".join(f"`{w}`" for w in _family_words(visible))
    raise UsageError(
        f"There is no command `{typed}`.",
        (f"Did you mean `/projects help {near}`?" if near
         else f"Commands start with {families}. Type `/projects help` for the list."),
        suggestion=f"help {near}" if near else "",
    )


def _risk_mark(ops: list[Operation]) -> str:
    risks = {op.risk for op in ops}
    return RISK_MARK[risks.pop()] if len(risks) == 1 else ""


def _example(op: Operation) -> str:
    return op.examples[0] if op.examples else ""


def _render_group(result: HelpResult) -> Rendered:
    by_command: dict[str, list[Operation]] = {}
    for op in result.ops:
        by_command.setdefault(op.command, []).append(op)
    lines = [f"*`/projects {result.group}` commands*"]
    for command, ops in sorted(by_command.items()):
        kinds = sorted({op.kind for op in ops if op.kind}, key=lambda k: KIND_ORDER.index(k)
                       if k in KIND_ORDER else len(KIND_ORDER))
        on = f" _({', '.join(_kind_label(k) for k in kinds)})_" if kinds else ""
        lines.append(f"`/projects {command}` — {general_summary(ops)}{_risk_mark(ops)}{on}")
    reads = [c for c, ops in sorted(by_command.items()) if all(op.risk is Risk.READ for op in ops)]
    first = next((c for c in reads if c.endswith(" list")), reads[0] if reads else sorted(by_command)[0])
    blocks = [*bk.line_sections(lines),
              bk.context(f"`/projects help {first}` (or any of them) shows its arguments and examples. "
                         ":pencil2: changes something, :warning: is destructive and asks for confirmation.")]
    return Rendered(text=f"/projects {result.group}: {len(by_command)} commands", blocks=blocks)


def _render_command(result: HelpResult) -> Rendered:
    ops = result.ops
    command = ops[0].command
    if len(ops) == 1:  # one form: its summary, grammar and examples
        op = ops[0]
        on = f" on {_kind_label(op.kind)}" if result.kind else ""
        lines = [f"*/projects {command}*{on} — {op.summary}{RISK_MARK[op.risk]}", f"`{usage(op)}`"]
        blocks = [bk.section("\n".join(lines))]
        if op.examples:
            blocks.append(bk.section("*Examples*\n" + "\n".join(f"`{e}`" for e in op.examples[:8])))
        text = f"/projects {command}{on}: {op.summary}"
    else:  # several back ends: what it does in general, then each back end's form
        summary = general_summary(ops)
        labels = ", ".join(_kind_label(op.kind) for op in ops)
        blocks = [bk.section(f"*/projects {command}* — {summary}{_risk_mark(ops)}\n"
                             f"Each back end has its own form ({labels}):")]
        for op in ops:
            lines = [f"*{_kind_label(op.kind)}*: {op.summary}{RISK_MARK[op.risk]}", f"`{usage(op)}`"]
            if _example(op):
                lines.append(f"e.g. `{_example(op)}`")
            blocks.append(bk.section("\n".join(lines)))
        kinds = [op.kind for op in ops if op.kind]
        if kinds:
            blocks.append(bk.context(f"`/projects help {command} <target>` (e.g. `/projects help {command} "
                                     f"{kinds[0]}`) shows one back end's form with all its examples."))
        text = f"/projects {command}: {summary} ({labels})"
    if result.related:
        names = ", ".join(f"`/projects help {c}`" for c in sorted({op.command for op in result.related}))
        blocks.append(bk.context(f"Related: {names}."))
    return Rendered(text=text, blocks=blocks)


def render_help(result: HelpResult, ctx: OpContext) -> Rendered:
    if result.group:
        return _render_group(result)
    if result.command:
        return _render_command(result)

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
