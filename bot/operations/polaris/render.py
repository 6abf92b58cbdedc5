"""Shared Block Kit rendering for Polaris: state and health markers, storage figures, compact lists.

"Nearly full" is the config's alert threshold (`ctx.config.digests.alert_share`): callers pass it in.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot.backends.polaris.models import Job, Project, Table
from bot.ui import blocks as bk

#: Most list items shown in one message (each list stays well inside Slack's 50 blocks).
MAX_ITEMS = 40

STATE_MARK = {
    "running": ":large_green_circle:",
    "paused": ":double_vertical_bar:",
    "stopped": ":red_circle:",
    "failed": ":x:",
    "deleted": ":wastebasket:",
    "deleting": ":wastebasket:",
    "unknown": ":grey_question:",
}
TRANSITION_MARK = ":hourglass_flowing_sand:"
HEALTH_MARK = {"ok": ":white_check_mark:", "warn": ":warning:", "error": ":rotating_light:"}
EXECUTION_MARK = {
    "running": ":arrow_forward:",
    "pending": ":hourglass_flowing_sand:",
    "completed": ":heavy_check_mark:",
    "failed": ":x:",
    "canceled": ":no_entry_sign:",
    "suspended": ":double_vertical_bar:",
    "idle": ":zzz:",
}


def state_mark(state: str) -> str:
    return STATE_MARK.get(state, TRANSITION_MARK)


def state_text(state: str) -> str:
    return f"{state_mark(state)} {state}"


def health_mark(status: str) -> str:
    return HEALTH_MARK.get(status, ":grey_question:")


def human_bytes(value: int | float | None) -> str:
    """Decimal units, as Polaris sizes plans (100000000000 bytes = 100 GB)."""
    if value is None:
        return "?"
    size = float(value)
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if abs(size) < 1000 or unit == "TB":
            if unit == "B":
                return f"{int(size)} B"
            return f"{size:.0f} {unit}" if size >= 100 or size == int(size) else f"{size:.1f} {unit}"
        size /= 1000
    return f"{size:.1f} PB"


def human_count(value: int | None) -> str:
    if value is None:
        return "?"
    for limit, unit in ((1e12, "T"), (1e9, "B"), (1e6, "M"), (1e3, "k")):
        if value >= limit:
            return f"{value / limit:.1f} {unit}".replace(".0 ", " ")
    return str(value)


def bar(fraction: float, width: int = 10) -> str:
    filled = max(0, min(width, round(fraction * width)))
    return "▓" * filled + "░" * (width - filled)


def storage_text(project: Project, near_full: float, with_bar: bool = True) -> str:
    """`92.1 GB / 100 GB (92 %)` plus a bar, and a marker when the share used is `near_full` (0-1) or more."""
    status = project.status
    if project.state == "stopped":
        return f"storage volume removed · {human_bytes(status.deep_storage_bytes)} in deep storage"
    if status.max_bytes is None:
        return f"{human_bytes(status.current_bytes)} used"
    fraction = project.used_fraction or 0.0
    text = f"{human_bytes(status.current_bytes)} / {human_bytes(status.max_bytes)} ({fraction:.0%})"
    if with_bar:
        text = f"{bar(fraction)} {text}"
    if fraction >= near_full:
        text += " :warning: nearly full"
    return text


def when(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC") if moment else "—"


def short_id(job_id: str) -> str:
    return job_id.split("-")[0] if "-" in job_id else job_id[:8]


def project_line(project: Project, near_full: float) -> str:
    spec = project.spec
    flags = []
    if spec.deletion_protection:
        flags.append(":lock: delete")
    if spec.stop_protection:
        flags.append(":lock: stop")
    head = f"*{project.name}*  {state_text(project.state)} · {spec.plan or '?'} · {spec.region or '?'}"
    return f"{head}\n{storage_text(project, near_full)}" + (f"  ·  {' '.join(flags)}" if flags else "")


def table_line(table: Table) -> str:
    parts = [
        table.type,
        human_bytes(table.total_data_size_bytes),
        f"{human_count(table.total_rows)} rows",
        f"{table.segment_count:,} segments" if table.segment_count is not None else "? segments",
    ]
    if table.availability and table.availability != "available":
        parts.append(f":warning: {table.availability}")
    return f"*{table.name}*  " + " · ".join(parts)


def job_line(job: Job) -> str:
    target = f" → {job.table}" if job.table else ""
    text = (
        f"{health_mark(job.health.status)} `{short_id(job.id)}` {job.type}{target} · "
        f"{EXECUTION_MARK.get(job.execution_status, '')} {job.execution_status} · {when(job.last_updated_timestamp)}"
    )
    if job.health.status != "ok" and job.health.detail:
        text += f"\n      _{bk.clip(job.health.detail, 200)}_"
    return text


line_sections = bk.line_sections  # shared packing of lines into sections


def truncated(items: list[Any], noun: str, hint: str = "", limit: int = MAX_ITEMS) -> tuple[list[Any], list[dict]]:
    """The first `limit` items, and a context block saying how many more were left out."""
    if len(items) <= limit:
        return items, []
    more = len(items) - limit
    return items[:limit], [bk.context(f"…and {more} more {noun}{'s' if more != 1 else ''}. {hint}".strip())]


def fit(blocks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return bk.fit_message(blocks, "…and more; narrow the request.")
