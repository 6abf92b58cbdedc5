"""`/projects audit …` and `/projects audit export …`: query the audit log from Slack."""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from bot.errors import UsageError
from bot.operations.base import Operation, Rendered, Risk
from bot.operations.context import OpContext
from bot.operations.parser import closest
from bot.operations.registry import register
from bot.store.audit import OUTCOMES, AuditQuery, params_of
from bot.ui import blocks as bk
from bot.ui.csvfile import csv_text
from bot.ui.ids import PAGE_ACTION
from bot.ui.mrkdwn import Mrkdwn, channel, code, md, user

AUDIT_USAGE = ("/projects audit [me|@user|<target>] [op <operation>] [succeeded|failed|refused] "
               "[since 2d|24h|2026-11-01] [until …] [last N] [page P]")
EXPORT_USAGE = AUDIT_USAGE.replace("audit", "audit export", 1).replace(" [last N] [page P]", "")
_MENTION = re.compile(r"^<@([UW][A-Z0-9]+)(\|[^>]*)?>$")
_RELATIVE = re.compile(r"^(\d+)([mhdw])$")
EXPORT_LIMIT = 50_000
MAX_PAGE = 1_000_000  # far beyond any audit log; a larger page number is a typo (and overflows the query)


class AuditParams(BaseModel):
    model_config = ConfigDict(extra="forbid")
    user: str | None = None
    target: str | None = None
    operation: str | None = None
    outcome: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    last: int = Field(default=10, ge=1, le=50)
    page: int = Field(default=1, ge=1, le=MAX_PAGE)


def parse_when(word: str, usage: str) -> datetime:
    """`30m`, `24h`, `2d`, `1w` ago, or an ISO date/time (UTC when no zone is given)."""
    match = _RELATIVE.match(word.lower())
    try:
        if match:
            amount, unit = int(match.group(1)), match.group(2)
            delta = {"m": timedelta(minutes=amount), "h": timedelta(hours=amount), "d": timedelta(days=amount),
                     "w": timedelta(weeks=amount)}[unit]
            return datetime.now(UTC) - delta
        parsed = datetime.fromisoformat(word)
        return (parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).astimezone(UTC)
    except ValueError:
        raise UsageError(f"I can't read the time `{word}`.", "Use 30m, 24h, 2d, 1w or a date like 2026-11-01.",
                         usage=usage) from None
    except OverflowError:  # `since 99999999d`: before the first day of the calendar
        raise UsageError(f"The time `{word}` is out of range.", "Use 30m, 24h, 2d, 1w or a date like 2026-11-01.",
                         usage=usage) from None


def parse_filters(args: list[str], usage: str) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    rest = list(args)

    def value_of(keyword: str) -> str:
        if not rest:
            raise UsageError(f"`{keyword}` needs a value.", usage=usage)
        return rest.pop(0)

    while rest:
        word = rest.pop(0)
        lower = word.lower()
        mention = _MENTION.match(word)
        if lower in ("last", "page"):
            number = value_of(lower)
            if not number.isdigit():
                raise UsageError(f"`{lower}` needs a number, e.g. `{lower} 2`.", usage=usage)
            fields[lower] = int(number)
        elif lower in ("since", "until"):
            fields[lower] = parse_when(value_of(lower), usage)
        elif lower in ("op", "operation"):
            fields["operation"] = value_of(lower)
        elif lower in OUTCOMES:
            fields["outcome"] = lower
        elif lower == "me":
            fields["user"] = "me"
        elif mention:
            fields["user"] = mention.group(1)
        elif word.startswith("@"):
            raise UsageError(f"I can't tell who `{word}` is.",
                             "Pick the person from Slack's @-menu so the mention is a link.", usage=usage)
        else:
            fields["target"] = word
    return fields


def to_query(ctx: OpContext, params: AuditParams, limit: int, offset: int) -> AuditQuery:
    if params.target and params.target not in ctx.config.targets:
        near = closest(params.target, list(ctx.config.targets))
        raise UsageError(f"`{params.target}` is not a configured target.",
                         f"Did you mean `{near}`?" if near else "`/projects targets` lists them.")
    return AuditQuery(
        user=ctx.actor.user_id if params.user == "me" else params.user,
        target=params.target, operation=params.operation, outcome=params.outcome,
        since=params.since, until=params.until, limit=limit, offset=offset,
    )


@dataclass
class AuditPage:
    rows: list[dict[str, Any]]
    params: AuditParams
    has_more: bool


async def run_audit(ctx: OpContext, params: AuditParams) -> AuditPage:
    """One page of the matching rows, newest first, without reads still in progress (the running `audit` itself)
    unless `started` rows are asked for."""
    query = replace(to_query(ctx, params, params.last + 1, (params.page - 1) * params.last),
                    without_running_reads=params.outcome is None)
    rows = await asyncio.to_thread(ctx.services.audit.query, query)
    return AuditPage(rows=rows[: params.last], params=params, has_more=len(rows) > params.last)


def command_text(params: AuditParams, page: int) -> str:
    """The `/projects audit …` text that reproduces `params` at `page` (for the paging buttons)."""
    words = ["audit"]
    if params.user:
        words.append("me" if params.user == "me" else f"<@{params.user}>")
    if params.target:
        words.append(params.target)
    if params.operation:
        words += ["op", params.operation]
    if params.outcome:
        words.append(params.outcome)
    for key in ("since", "until"):
        value = getattr(params, key)
        if value:
            words += [key, value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S")]
    words += ["last", str(params.last), "page", str(page)]
    return " ".join(words)


OUTCOME_MARK = {"succeeded": ":white_check_mark:", "failed": ":x:", "refused": ":no_entry:",
                "started": ":hourglass_flowing_sand:"}


def _name(params: dict[str, Any], key: str) -> str:
    value = params.get(key)
    return value.strip() if isinstance(value, str) else ""


def subject(operation: str, row_params: Any) -> Mrkdwn:
    """What an audited operation acted on, from its recorded (redacted) params: `clickstream`, table `events` in
    `clickstream`, workspaces `a`, `b` into `core`, or the command an approval was for. Empty when it names
    nothing (a list, `whoami`). Every name is foreign text, shown escaped in a code span."""
    params = params_of(row_params)
    command = _name(params, "command")
    if command:
        return code(bk.clip(f"/projects {' '.join(command.split())}", 200))
    project, name = _name(params, "project"), _name(params, "name")
    workspaces = [w for w in params.get("workspaces") or [] if isinstance(w, str)]
    if workspaces:
        shown = Mrkdwn(", ").join(code(bk.clip(w, 80)) for w in workspaces[:5])
        more = md(" and {} more", len(workspaces) - 5) if len(workspaces) > 5 else Mrkdwn("")
        into = md(" into {}", code(bk.clip(project, 80))) if project else Mrkdwn("")
        return md("workspace{} {}{}{}", "s" if len(workspaces) != 1 else "", shown, more, into)
    table, job = _name(params, "table"), _name(params, "job")
    thing = Mrkdwn("")
    if operation.endswith(".list"):  # a listing's table / job words are filters, not what it acted on
        pass
    elif ".connection." in f".{operation}." and name:
        thing = md("connection {}", code(bk.clip(name, 80)))
    elif job:
        thing = md("job {}", code(bk.clip(job, 80)))
    elif table:
        thing = md("table {}", code(bk.clip(table, 80)))
    if thing:
        return md("{} in {}", thing, code(bk.clip(project, 80))) if project else thing
    if project:
        return code(bk.clip(project, 80))
    if name:
        return code(bk.clip(name, 80))
    if operation.startswith("digest.") and isinstance(params.get("id"), int):
        return md("digest #{}", params["id"])
    if operation.startswith("digest.") and _name(params, "kind"):
        return md("{} digest", code(_name(params, "kind")))
    return Mrkdwn("")


def row_line(r: dict[str, Any]) -> Mrkdwn:
    """One audit row: the people it names as mentions, what it acted on, everything it recorded (words, names,
    errors) escaped."""
    extra = Mrkdwn("")
    if r.get("approved_by"):
        extra += md(" · approved by {}", user(r["approved_by"]))
    if r.get("confirmed_by"):
        extra += md(" · confirmed by {}", user(r["confirmed_by"]))
    if r.get("error") and r.get("outcome") in ("failed", "refused"):
        extra += ": " + bk.clip(" ".join(str(r["error"]).split()), 160)
    acted_on = subject(str(r.get("operation") or ""), r.get("params"))
    what = md(" of {}", acted_on) if acted_on else ""
    target = md(" on {}", code(r["target"])) if r.get("target") else ""
    return md("{} #{} {}Z {} {}{}{} — {}{}", OUTCOME_MARK.get(r["outcome"], ""), r["id"],
              str(r["at"])[:19].replace("T", " "), user(r["user"]), code(r["operation"]), what, target, r["outcome"],
              extra)


def render_audit(page: AuditPage, ctx: OpContext) -> Rendered:
    if not page.rows:
        return Rendered(text="No audit entries match.", blocks=[bk.section("No audit entries match.")])
    first = (page.params.page - 1) * page.params.last + 1
    blocks = [bk.header(f"Audit: entries {first}–{first + len(page.rows) - 1}")]
    blocks += bk.line_sections([row_line(r) for r in page.rows], bk.SECTION_TEXT_MAX)
    buttons, current_page = [], page.params.page
    if current_page > 1:
        buttons.append(bk.button("Previous", f"{PAGE_ACTION}_prev", value=command_text(page.params, current_page - 1)))
    if page.has_more:
        buttons.append(bk.button("Next", f"{PAGE_ACTION}_next", value=command_text(page.params, current_page + 1)))
    if buttons:
        blocks.append(bk.actions(*buttons))
    shown = f"Audit entries {first}–{first + len(page.rows) - 1}"
    return Rendered(text=shown + (" (more on the next page)" if page.has_more else ""),
                    blocks=bk.fit_message(blocks))


register(Operation(
    name="audit", summary="who did what: filter by person, target, operation, outcome and time", params=AuditParams,
    risk=Risk.READ, run=run_audit, render=render_audit, parse_args=lambda a: parse_filters(a, AUDIT_USAGE),
    usage_text=AUDIT_USAGE,
    examples=("/projects audit", "/projects audit me last 20", "/projects audit @alice failed since 2d",
              "/projects audit polaris op polaris.project.delete"),
))


# ---------------------------------------------------------------- export
CSV_COLUMNS = ("id", "at", "team", "user", "channel", "surface", "operation", "target", "params", "risk",
               "confirmed_by", "approved_by", "outcome", "error", "duration_ms", "request_id")


@dataclass
class Export:
    rows: int
    filename: str
    channel: str


async def run_export(ctx: OpContext, params: AuditParams) -> Export:
    rows = await asyncio.to_thread(ctx.services.audit.query, to_query(ctx, params, EXPORT_LIMIT, 0))
    content = csv_text(CSV_COLUMNS, rows)
    filename = f"projectops-audit-{datetime.now(UTC):%Y%m%d-%H%M%S}.csv"
    if ctx.services.slack is None:
        raise UsageError("Export needs Slack to upload the file.")
    await ctx.services.pacer.turn(ctx.actor.channel_id)  # the upload posts in the channel
    await ctx.services.slack.files_upload_v2(
        channel=ctx.actor.channel_id, content=content, filename=filename,
        title="projectops audit export", initial_comment=f"Audit export: {len(rows)} rows.",
    )
    return Export(rows=len(rows), filename=filename, channel=ctx.actor.channel_id)


register(Operation(
    name="audit.export", summary="upload the matching audit rows as a CSV file", params=AuditParams,
    risk=Risk.READ, run=run_export,
    render=lambda e, c: Rendered(md("Uploaded {} ({} rows) to {}.", e.filename, e.rows, channel(e.channel)),
                                 [bk.section(f":page_facing_up: Uploaded `{e.filename}` ({e.rows} rows).")]),
    parse_args=lambda a: parse_filters(a, EXPORT_USAGE), usage_text=EXPORT_USAGE,
    examples=("/projects audit export since 7d", "/projects audit export polaris failed"),
))
