"""`/projects misunderstood [export] [since 7d]`: what people marked as misunderstood by the assistant.

The assistant audits every message it answers (`assistant.message`: the words, redacted, what they resolved
to and who resolved them) and every feedback click (`assistant.feedback`); this reads the two together.
Admins only: it shows other people's words.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from bot.errors import UsageError
from bot.operations.base import Operation, Rendered, Risk
from bot.operations.context import OpContext
from bot.operations.registry import register
from bot.store.audit import AuditQuery, params_of
from bot.ui import blocks as bk
from bot.ui.csvfile import csv_text
from bot.ui.mrkdwn import md, user

MESSAGE_EVENT = "assistant.message"
FEEDBACK_EVENT = "assistant.feedback"
MISUNDERSTOOD = "misunderstood"
SCAN_LIMIT = 2000
CSV_COLUMNS = ("feedback_at", "marked_by", "asked_by", "words", "resolved", "resolver", "answer", "message_audit_id")


class MisunderstoodParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    since_days: int = Field(default=30, ge=1, le=3650, description="how many days back")
    export: bool = Field(default=False, description="upload the list as a CSV file")
    limit: int = Field(default=20, ge=1, le=200, description="how many to show")


@dataclass
class Misunderstood:
    rows: list[dict[str, Any]] = field(default_factory=list)
    exported: str = ""


def misunderstood_rows(ctx: OpContext, since: datetime) -> list[dict[str, Any]]:
    """Each message marked misunderstood (once, newest first), with what it had resolved to."""
    audit = ctx.services.audit
    marks = audit.query(AuditQuery(operation=FEEDBACK_EVENT, since=since, limit=SCAN_LIMIT))
    seen: set[int] = set()
    out = []
    for mark in marks:
        params = params_of(mark.get("params"))
        message_id = params.get("message")
        if params.get("verdict") != MISUNDERSTOOD or not isinstance(message_id, int) or message_id in seen:
            continue
        seen.add(message_id)
        message = audit.get(message_id)
        if message is None or message.get("operation") != MESSAGE_EVENT:
            continue
        said = params_of(message.get("params"))
        out.append({
            "feedback_at": mark["at"], "marked_by": mark["user"], "asked_by": message["user"],
            "words": str(said.get("words", "")), "resolved": " ; ".join(said.get("resolved") or []),
            "resolver": str(said.get("resolver", "")), "answer": str(said.get("answer", "")),
            "message_audit_id": message_id,
        })
    return out


async def run_misunderstood(ctx: OpContext, params: MisunderstoodParams) -> Misunderstood:
    since = datetime.now(UTC) - timedelta(days=params.since_days)
    rows = await asyncio.to_thread(misunderstood_rows, ctx, since)
    if not params.export:
        return Misunderstood(rows=rows[: params.limit])
    if ctx.services.slack is None:
        raise UsageError("Export needs Slack to upload the file.")
    content = csv_text(CSV_COLUMNS, rows)
    filename = f"projectops-misunderstood-{datetime.now(UTC):%Y%m%d-%H%M%S}.csv"
    await ctx.services.pacer.turn(ctx.actor.channel_id)
    await ctx.services.slack.files_upload_v2(
        channel=ctx.actor.channel_id, content=content, filename=filename,
        title="projectops: misunderstood messages", initial_comment=f"Misunderstood messages: {len(rows)}.",
    )
    return Misunderstood(rows=rows, exported=filename)


def render_misunderstood(result: Misunderstood, ctx: OpContext) -> Rendered:
    if result.exported:
        text = f"Uploaded {result.exported} ({len(result.rows)} messages)."
        return Rendered(text=text, blocks=[bk.section(f":page_facing_up: {text}")])
    if not result.rows:
        return Rendered(text="Nothing was marked misunderstood.",
                        blocks=[bk.section("Nothing was marked misunderstood in that time. :tada:")])
    lines = [md("• {}Z {}: “{}” → {} ({})", str(r["feedback_at"])[:16].replace("T", " "), user(r["asked_by"]),
                bk.clip(r["words"], 200), r["resolved"] or r["answer"] or "no answer", r["resolver"])
             for r in result.rows]
    return Rendered(text=f"{len(result.rows)} misunderstood messages",
                    blocks=[bk.header("Marked misunderstood"), *bk.line_sections(lines),
                            bk.context("`/projects misunderstood --export` uploads them as a CSV file.")])


def parse_args(args: list[str]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    words = list(args)
    while words:
        word = words.pop(0).lower()
        if word in ("export", "--export"):
            values["export"] = True
        elif word == "since":
            if not (words and words[0][:-1].isdigit() and words[0].lower().endswith("d")):
                raise UsageError("`since` takes a number of days, like `since 30d`.", usage=USAGE)
            values["since_days"] = int(words.pop(0)[:-1])
        elif word in ("last", "--limit"):
            if not (words and words[0].isdigit()):
                raise UsageError(f"`{word}` takes a number of messages, like `last 20`.", usage=USAGE)
            values["limit"] = int(words.pop(0))
        else:
            raise UsageError(f"I did not expect `{word}` here.", usage=USAGE)
    return values


USAGE = "/projects misunderstood [export] [since 30d] [last N]"

register(Operation(
    name="assistant.misunderstood", summary="messages people marked as misunderstood by the assistant",
    params=MisunderstoodParams, risk=Risk.READ, min_role="admin", run=run_misunderstood,
    render=render_misunderstood, verb="misunderstood", parse_args=parse_args, usage_text=USAGE,
    examples=("/projects misunderstood", "/projects misunderstood export since 90d"),
))
