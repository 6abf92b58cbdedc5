"""`/projects digest add|list|remove|now`: scheduled job-health and storage digests for a channel."""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field
from slack_sdk.errors import SlackApiError

from bot.errors import NotFoundError, UsageError
from bot.operations.base import Operation, Rendered, Risk
from bot.operations.context import OpContext
from bot.operations.parser import closest
from bot.operations.registry import register
from bot.scheduler import SCHEDULE_HELP, DigestScheduler, is_schedule_start, parse_schedule, post_failure, utcnow
from bot.store.digests import KINDS, Subscription
from bot.ui import blocks as bk
from bot.ui.mrkdwn import Mrkdwn, code, md
from bot.ui.mrkdwn import channel as mention

ADD_USAGE = ("/projects digest add <job-health|storage|all> [#channel] [<target>…] [--tz <zone>] "
             "[--threshold <percent>] <schedule>")
CHANNEL = re.compile(r"^<#([CGD][A-Z0-9]+)(\|[^>]*)?>$|^#([CGD][A-Z0-9]+)$")
CHANNEL_NAME = re.compile(r"^#([a-z0-9][a-z0-9._-]{0,79})$")
PERCENT = re.compile(r"^(\d{1,3})%?$")
DIGEST_KINDS = {"polaris", "phoenix", "terraform"}
CHANNEL_PAGES = 20  # conversations.list pages of 1,000 read to find a channel by name (the method allows ~20/min)


class AddParams(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: Literal["job-health", "storage", "all"]
    schedule: str = Field(description="hourly | daily HH:MM | weekdays HH:MM | weekly <day> HH:MM | cron")
    channel: str = ""
    targets: list[str] = Field(default_factory=list)
    tz: str = ""
    threshold: int | None = Field(default=None, ge=1, le=100,
                                  description="storage percent flagged at the digest's top (config default: 80)")


class IdParams(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: int = Field(description="the digest id, as `/projects digest list` shows it")


class ListParams(BaseModel):
    model_config = ConfigDict(extra="forbid")


def parse_add_args(args: list[str]) -> dict[str, Any]:
    """`<kind> [#channel] [targets…] [--tz zone] <schedule words…>`."""
    if not args:
        raise UsageError("Say which digest: `job-health`, `storage` or `all`.", SCHEDULE_HELP, usage=ADD_USAGE)
    values: dict[str, Any] = {"kind": args[0].lower(), "targets": []}
    if values["kind"] not in KINDS:
        near = closest(values["kind"], list(KINDS))
        raise UsageError(f"`{args[0]}` is not a digest.", f"Did you mean `{near}`?" if near else
                         "Digests: `job-health`, `storage`, `all`.", usage=ADD_USAGE)
    rest: list[str] = []
    words = iter(args[1:])
    for word in words:
        if word in ("--tz", "tz"):
            values["tz"] = next(words, "")
        elif word.startswith(("--tz=", "tz=")):
            values["tz"] = word.split("=", 1)[1]
        elif word in ("--threshold", "--over"):
            values["threshold"] = _percent(next(words, ""))
        elif word.startswith(("--threshold=", "--over=")):
            values["threshold"] = _percent(word.split("=", 1)[1])
        else:
            rest.append(word)
    if rest and rest[0].startswith(("#", "<#")):
        values["channel"] = rest.pop(0)
    while rest and not is_schedule_start(rest[0]):
        values["targets"].append(rest.pop(0))
    if not rest:
        raise UsageError("The digest needs a schedule.", SCHEDULE_HELP, usage=ADD_USAGE)
    values["schedule"] = " ".join(rest)
    return values


def _percent(text: str) -> int:
    match = PERCENT.match(text.strip())
    if not match or not 1 <= int(match.group(1)) <= 100:
        raise UsageError(f"`{text or '(nothing)'}` is not a threshold.",
                         "Give a storage percent from 1 to 100, like `--threshold 85%`.", usage=ADD_USAGE)
    return int(match.group(1))


async def channel_id(ctx: OpContext, text: str) -> str:
    """The channel id for `<#C…|name>`, `#C…`, `#name` (looked up with conversations.list) or, when empty, the
    channel the command came from."""
    if not text:
        if not ctx.actor.channel_id:
            raise UsageError("Which channel? Name it as `#channel`.", usage=ADD_USAGE)
        return ctx.actor.channel_id
    match = CHANNEL.match(text)
    if match:
        return match.group(1) or match.group(3)
    named = CHANNEL_NAME.match(text.lower())  # Slack channel names are lower case
    if named and ctx.services.slack is not None:
        return await _channel_named(ctx, named.group(1))
    raise UsageError(f"I cannot tell which channel `{text}` is.",
                     "Pick it from Slack's `#` menu so the command carries its id, or run the command in it.")


async def _channel_named(ctx: OpContext, name: str) -> str:
    """Find a channel by name among the ones projectops can see; suggest the closest when there is none."""
    names: dict[str, str] = {}
    cursor = ""
    try:
        for _ in range(CHANNEL_PAGES):
            page = await ctx.services.slack.conversations_list(
                types="public_channel,private_channel", exclude_archived=True, limit=1000, cursor=cursor or None)
            for channel in page.get("channels") or []:
                names[channel.get("name", "")] = channel["id"]
            if name in names:
                return names[name]
            cursor = (page.get("response_metadata") or {}).get("next_cursor") or ""
            if not cursor:
                break
    except SlackApiError as exc:
        raise UsageError(f"I could not look up `#{name}` ({exc.response.get('error')}).",
                         "Pick the channel from Slack's `#` menu so the command carries its id.") from None
    near = closest(name, list(names))
    raise UsageError(f"I cannot find a channel named `#{name}`.",
                     (f"Did you mean `#{near}`? " if near else "")
                     + "For a private channel, invite projectops to it first.", usage=ADD_USAGE)


async def _check_can_post(ctx: OpContext, channel: str) -> None:
    """Refuse a channel projectops is not in: every run would fail to post there."""
    if ctx.services.slack is None or channel.startswith("D"):
        return
    try:
        info = await ctx.services.slack.conversations_info(channel=channel)
    except SlackApiError as exc:
        if exc.response.get("error") == "channel_not_found":
            raise UsageError(md("I cannot see {}.", mention(channel)),
                             "For a private channel, invite me first: `/invite @projectops` in it.") from None
        return  # cannot tell now; a run that cannot post tells the subscriber
    if not (info.get("channel") or {}).get("is_member", True):
        raise UsageError(md("I am not in {}, so I could not post digests there.", mention(channel)),
                         md("Invite me with `/invite @projectops` in {}, then add the digest again.", mention(channel)))


async def user_tz(ctx: OpContext) -> str:
    """The requester's Slack time zone (users.info), UTC when it cannot be read."""
    if ctx.services.slack is not None:
        try:
            info = await ctx.services.slack.users_info(user=ctx.actor.user_id)
            return (info.get("user") or {}).get("tz") or "UTC"
        except Exception:  # a missing profile must not block the subscription
            return "UTC"
    return "UTC"


@dataclass
class Added:
    sub: Subscription
    describe: str


def _check_targets(ctx: OpContext, names: list[str]) -> None:
    for name in names:
        target = ctx.config.targets.get(name)
        if target is None or target.kind not in DIGEST_KINDS:
            usable = sorted(n for n, t in ctx.config.targets.items() if t.kind in DIGEST_KINDS)
            near = closest(name, usable)
            raise UsageError(f"`{name}` is not a target a digest can cover.",
                             (f"Did you mean `{near}`? " if near else "") + f"Targets: {', '.join(usable)}.",
                             usage=ADD_USAGE)


async def run_add(ctx: OpContext, params: AddParams) -> Added:
    if params.threshold is not None and params.kind == "job-health":
        raise UsageError("`--threshold` is for storage digests; a job-health digest has no storage to flag.",
                         "Use `storage` or `all`, or leave `--threshold` out.", usage=ADD_USAGE)
    _check_targets(ctx, params.targets)
    channel = await channel_id(ctx, params.channel)
    await _check_can_post(ctx, channel)
    tz = params.tz or await user_tz(ctx)
    schedule = parse_schedule(params.schedule.split(), tz)
    now = utcnow()
    sub = await asyncio.to_thread(ctx.services.store.digests.add, params.kind, channel, schedule.text, schedule.tz,
                                  list(params.targets), ctx.actor.user_id, schedule.next_after(now), now,
                                  threshold=params.threshold)
    return Added(sub, schedule.describe())


def _next(sub: Subscription) -> str:
    if not sub.next_run:
        return "not scheduled"
    moment = datetime.fromisoformat(sub.next_run).astimezone(ZoneInfo(sub.tz))
    return f"{moment:%a %d %b %H:%M} {sub.tz}"


def _flag(sub: Subscription, ctx: OpContext) -> str:
    """What storage share the digest flags, when it has a storage part."""
    if "storage" not in sub.kinds:
        return ""
    return f" · flags storage over {sub.threshold or ctx.config.digests.flag_percent}%"


def _last(sub: Subscription) -> str:
    if not sub.last_run:
        return ""
    moment = datetime.fromisoformat(sub.last_run).astimezone(ZoneInfo(sub.tz))
    state = " :warning: could not post (`/projects audit op digest.run failed` says why)" if sub.failing \
        else ""
    return f" · last {moment:%a %d %b %H:%M}{state}"


def _targets(sub: Subscription, none: str) -> Mrkdwn:
    return Mrkdwn(", ").join(code(t) for t in sub.targets) or Mrkdwn(none)


def _line(sub: Subscription, ctx: OpContext) -> Mrkdwn:
    return md("*#{}* {} → {} · {} ({}) · {}{} · next {}{}", sub.id, sub.kind, mention(sub.channel), sub.schedule,
              sub.tz, _targets(sub, "all targets"), _flag(sub, ctx), _next(sub), _last(sub))


def render_add(added: Added, ctx: OpContext) -> Rendered:
    sub = added.sub
    text = md("Digest #{} ({}) will post to {} {}.", sub.id, sub.kind, mention(sub.channel), added.describe)
    return Rendered(text=text, blocks=[
        bk.section(md(":calendar: {}\nNext run: {} · targets: {}{}", text, _next(sub), _targets(sub, "all"),
                      _flag(sub, ctx))),
        bk.context(f"`/projects digest now {sub.id}` posts one now · `/projects digest remove {sub.id}` stops it."),
    ])


async def run_list(ctx: OpContext, params: ListParams) -> list[Subscription]:
    return await asyncio.to_thread(ctx.services.store.digests.subscriptions)


def render_list(subs: list[Subscription], ctx: OpContext) -> Rendered:
    if not subs:
        return Rendered("No digests yet.", [bk.section(
            ":information_source: No digests yet. `/projects digest add storage daily 09:00` starts one here.")])
    blocks = [bk.header(f"Digests ({len(subs)})"), *bk.line_sections([_line(s, ctx) for s in subs])]
    return Rendered(f"{len(subs)} digests", bk.fit_message(blocks))


async def _get(ctx: OpContext, sub_id: int) -> Subscription:
    sub = await asyncio.to_thread(ctx.services.store.digests.get, sub_id)
    if sub is None:
        raise NotFoundError(f"There is no digest #{sub_id}.", "`/projects digest list` shows them.")
    return sub


async def run_remove(ctx: OpContext, params: IdParams) -> Subscription:
    sub = await _get(ctx, params.id)
    await asyncio.to_thread(ctx.services.store.digests.remove, sub.id)
    return sub


async def run_now(ctx: OpContext, params: IdParams) -> Subscription:
    sub = await _get(ctx, params.id)
    if ctx.services.slack is None:
        raise UsageError("Posting a digest needs Slack.")
    scheduler = ctx.services.scheduler
    own = scheduler is None
    if own:
        scheduler = DigestScheduler(ctx.services)
    try:
        await scheduler.run_now(sub)  # on the scheduler's own loop when it runs on its own thread
    except SlackApiError as exc:
        raise UsageError(md("Digest #{} could not be posted to {}: {}", sub.id, mention(sub.channel),
                            post_failure(exc)),
                         f"Fix that, or stop it with `/projects digest remove {sub.id}`.") from None
    finally:
        if own:
            await scheduler.clients.aclose()
    return sub


register(Operation(
    name="digest.add", summary="post a job-health or storage digest to a channel on a schedule",
    params=AddParams, risk=Risk.WRITE, run=run_add, render=render_add, parse_args=parse_add_args,
    usage_text=ADD_USAGE,
    examples=("/projects digest add storage daily 09:00", "/projects digest add all #ops polaris weekdays 08:30",
              "/projects digest add job-health hourly", "/projects digest add storage weekly mon 09:00 --tz UTC",
              "/projects digest add storage #data-ops --threshold 85% daily 08:00"),
))
register(Operation(
    name="digest.list", summary="the scheduled digests", params=ListParams, risk=Risk.READ,
    run=run_list, render=render_list, examples=("/projects digest list",),
))
register(Operation(
    name="digest.remove", summary="stop a scheduled digest", params=IdParams, risk=Risk.WRITE,
    run=run_remove, render=lambda s, c: Rendered(f"Digest #{s.id} removed.", [bk.section(
        md(":wastebasket: Digest #{} ({} to {}) removed.", s.id, s.kind, mention(s.channel)))]),
    examples=("/projects digest remove 3",),
))
register(Operation(
    name="digest.now", summary="post a scheduled digest now, with fresh figures", params=IdParams,
    risk=Risk.READ, run=run_now, render=lambda s, c: Rendered(
        md("Digest #{} posted to {}.", s.id, mention(s.channel)),
        [bk.section(md(":outbox_tray: Digest #{} posted to {}.", s.id, mention(s.channel)))]),
    examples=("/projects digest now 3",),
))
