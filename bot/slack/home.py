"""App Home: a per-user dashboard — targets and whether they answer, project counts, projects near their storage
limit, unhealthy Polaris jobs, the user's recent actions and the approvals waiting on them."""

from __future__ import annotations

import asyncio
from typing import Any

from bot.operations.audit import subject
from bot.operations.base import Actor
from bot.operations.context import Services
from bot.operations.core import TargetStatus
from bot.slack.runner import read_value
from bot.store.audit import AuditQuery
from bot.ui import blocks as bk
from bot.ui.ids import CREATE_BUTTON
from bot.ui.mrkdwn import Mrkdwn, channel, code, escape, md, user

MAX_JOB_PROJECTS = 10  # Polaris projects whose unhealthy jobs are read for the dashboard
MAX_LINES = 15
HOME_TIMEOUT = 8.0


def near_full_share(services: Services) -> float:
    """The storage share from which a project is listed as near its limit: the digests' flag threshold."""
    return services.config.digests.flag_share


async def _polaris(services: Services, actor: Actor, target: str) -> tuple[list[str], list[str]]:
    """Lines for projects near their storage limit, and for unhealthy jobs, on one Polaris target."""
    listing = await read_value(services, actor, "project.list", "polaris", target, timeout=HOME_TIMEOUT)
    projects = getattr(listing, "projects", None) or []
    threshold = near_full_share(services)
    near = []
    for p in projects:
        used, most = p.status.current_bytes or 0, p.status.max_bytes or 0
        if most and used / most >= threshold:
            near.append(f"• *{p.name}* on `{target}`: {used / most:.0%} of its storage")
    running = [p for p in projects if p.state == "running"][:MAX_JOB_PROJECTS]
    found = await asyncio.gather(*(read_value(services, actor, "job.list", "polaris", target,
                                              {"project": p.name, "health": ["warn", "error"], "limit": 5},
                                              timeout=HOME_TIMEOUT)
                                   for p in running))
    jobs = []
    for p, listed in zip(running, found, strict=True):
        for job in getattr(listed, "jobs", None) or []:
            reason = bk.clip(job.health.message or job.health.code or job.health.status, 80)
            jobs.append(f"• `{job.id[:8]}` {job.type} in *{p.name}* (`{target}`): {reason}")
    return near, jobs


async def _approvals(services: Services, user_id: str) -> list[str]:
    lines: list[str] = []
    for a in await asyncio.to_thread(services.approvals.pending_for, 20):
        target = services.config.target(a.target) if a.target else None
        if a.requester != user_id and await services.policy.can_approve(user_id, target):
            lines.append(md("• {} asks {}{}", user(a.requester), code(f"/projects {bk.clip(a.command, 200)}"),
                            md(" in {}", channel(a.request_channel)) if a.request_channel else ""))
    return lines


def target_line(status: TargetStatus) -> Mrkdwn:
    """One target: whether it answers, its kind, and its answer (every back end's ping counts its projects:
    "6 projects in acme"), or why it did not answer."""
    mark = ":large_green_circle:" if status.ok else ":red_circle:"
    detail = bk.clip(" ".join(str(status.detail or "").split()), 120)
    return md("{} *{}* · {}{}", mark, status.name, status.kind, md(" · {}", detail) if detail else "")


def recent_line(row: dict[str, Any]) -> Mrkdwn:
    """One of the user's recent actions: when, what, on what (the names escaped), where and how it ended."""
    operation = str(row.get("operation") or "")
    acted_on = subject(operation, row.get("params"))
    where = md(" on {}", code(row["target"])) if row.get("target") else ""
    return md("• {}Z {}{}{} — {}", str(row.get("at") or "")[:16].replace("T", " "), code(operation),
              md(" of {}", acted_on) if acted_on else "", where, row.get("outcome") or "")


def _listing(title: str, lines: list[str], empty: str) -> list[dict[str, Any]]:
    """A titled list; each line is escaped unless it is `Mrkdwn`."""
    more = f"\n…and {len(lines) - MAX_LINES} more" if len(lines) > MAX_LINES else ""
    body = Mrkdwn("\n").join(lines[:MAX_LINES]) + more if lines else escape(empty)
    return [bk.section(md("*{}*\n{}", title, body)), bk.divider()]


async def home_view(services: Services, user_id: str) -> dict[str, Any]:
    actor = Actor(user_id=user_id, surface="home")
    polaris_targets = [t.name for t in services.config.targets.values() if t.kind == "polaris"]
    role, statuses, approvals, rows, *polaris = await asyncio.gather(
        services.policy.role_of(user_id),
        read_value(services, actor, "targets", None, None, timeout=HOME_TIMEOUT),
        _approvals(services, user_id),
        asyncio.to_thread(services.audit.query, AuditQuery(user=user_id, limit=60)),
        *(_polaris(services, actor, t) for t in polaris_targets),
    )
    target_lines: list[str] = [target_line(s) for s in statuses or []]
    near = [line for n, _ in polaris for line in n]
    jobs = [line for _, j in polaris for line in j]
    mine = [r for r in rows if r.get("surface") not in ("home", "assistant")][:10]  # not dashboard/name reads
    blocks: list[dict[str, Any]] = [
        bk.header("projectops"),
        bk.section(f"You are *{role}*. Type `/projects help` in any channel for what you can do."),
        bk.actions(bk.button("Create a project", CREATE_BUTTON, style="primary"), block_id="home_actions"),
        bk.divider(),
        *_listing("Pending approvals waiting on you", approvals, "None."),
        *_listing("Targets", target_lines, "No targets configured yet."),
        *_listing("Projects near their storage limit", near, "None."),
        *_listing("Unhealthy Polaris jobs", jobs, "None."),
    ]
    recent: list[str] = [recent_line(r) for r in mine]
    blocks += _listing("Your recent actions", recent, "Nothing yet.")[:1]
    return {"type": "home", "blocks": blocks[: bk.MAX_VIEW_BLOCKS]}
