"""Polaris project operations: list, show, create, update, pause, stop, resume, delete."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

from pydantic import Field, field_validator

from bot.backends.http import remaining_seconds
from bot.backends.polaris.models import SETTLES_INTO, Job, Project, Table
from bot.errors import BackendError, Reason, UsageError
from bot.operations.base import Operation, Preview, Rendered, Risk
from bot.operations.context import OpContext
from bot.operations.outcome import exists, gone, holds
from bot.operations.polaris import render as r
from bot.operations.polaris.common import (
    KIND,
    PolarisParams,
    ProjectParams,
    client_of,
    project_of,
    report_progress,
    target_name,
)
from bot.operations.registry import register
from bot.operations.rules import rule_error, slack_safe_name
from bot.operations.suggest import command_word
from bot.ui import blocks as bk
from bot.ui.paging import PageParams, command_text, paged_rows

#: The Polaris regions a project can be created in: the one list (the create form offers these).
REGIONS = (
    "us-east-1", "us-east-2", "eu-central-1", "eu-west-1", "us-west-2", "ap-northeast-2", "ap-south-1",
    "eastus", "germanywestcentral", "westus2",
)


# ---------------------------------------------------------------- list
class ProjectListParams(PolarisParams, PageParams):
    state: str | None = Field(default=None, description="only projects in this state")
    region: str | None = Field(default=None, description="only projects in this region")


@dataclass
class ProjectList:
    target: str
    projects: list[Project]
    filters: dict[str, str] = field(default_factory=dict)
    page: int = 1
    command: str = ""


async def run_list(ctx: OpContext, params: ProjectListParams) -> ProjectList:
    projects = await (await client_of(ctx)).list_projects()
    if params.state:
        projects = [p for p in projects if p.state == params.state]
    if params.region:
        projects = [p for p in projects if p.spec.region == params.region]
    projects.sort(key=lambda p: p.name.lower())
    filters = {k: v for k, v in params.model_dump(exclude={"page"}).items() if v}
    target = target_name(ctx)
    return ProjectList(target, projects, filters, params.page, command_text("list", target, params))


def render_list(result: ProjectList, ctx: OpContext) -> Rendered:
    title = f"Polaris projects on {result.target} ({len(result.projects)})"
    blocks: list[dict[str, Any]] = [bk.header(title)]
    if result.filters:
        blocks.append(bk.context("Filtered by " + ", ".join(f"{k} `{v}`" for k, v in result.filters.items())))
    if not result.projects:
        blocks.append(bk.section("No projects" + (" match." if result.filters else " yet.")))
    near_full = ctx.config.digests.alert_share
    rows = [(p.name, r.project_line(p, near_full)) for p in result.projects]
    blocks += paged_rows(rows, result.page, result.command, result.target)
    blocks.append(bk.context(f"`/projects show {result.target} <project>` for details."))
    return Rendered(text=title, blocks=r.fit(blocks))


register(Operation(
    name="project.list", summary="list Polaris projects with state and storage use", params=ProjectListParams,
    risk=Risk.READ, run=run_list, render=render_list, kind=KIND,
    examples=("/projects list polaris", "/projects list polaris --state running"),
))


# ---------------------------------------------------------------- show
@dataclass
class ProjectDetail:
    target: str
    project: Project
    tables: list[Table] | None = None
    unhealthy: list[Job] | None = None
    active_jobs: int | None = None


async def run_show(ctx: OpContext, params: ProjectParams) -> ProjectDetail:
    client, project = await project_of(ctx, params.project)
    tables, unhealthy, active = await asyncio.gather(
        client.list_tables(project.uid),
        client.list_jobs(project.uid, health_status=["warn", "error"], limit=20),
        client.list_jobs(project.uid, execution_status=["pending", "running"], limit=100),
        return_exceptions=True,
    )
    return ProjectDetail(
        target_name(ctx),
        project,
        tables=tables if isinstance(tables, list) else None,
        unhealthy=unhealthy if isinstance(unhealthy, list) else None,
        active_jobs=len(active) if isinstance(active, list) else None,
    )


def render_show(detail: ProjectDetail, ctx: OpContext) -> Rendered:
    p = detail.project
    spec, status = p.spec, p.status
    protection = ", ".join(
        name for name, on in (("deletion", spec.deletion_protection), ("stop", spec.stop_protection)) if on
    ) or "none"
    blocks: list[dict[str, Any]] = [
        bk.header(f"{p.name}"),
        bk.section(fields=[
            f"*State*\n{r.state_text(p.state)}" + (
                f" (wants {spec.desired_state})" if spec.desired_state and spec.desired_state != p.state else ""),
            f"*Plan · region*\n{spec.plan or '?'} · {spec.region or '?'}",
            f"*Storage*\n{r.storage_text(p, ctx.config.digests.alert_share)}",
            f"*Deep storage*\n{r.human_bytes(status.deep_storage_bytes)}",
            f"*Protection*\n{protection}",
            f"*Created*\n{r.when(p.metadata.created_on_timestamp)}",
        ]),
    ]
    if detail.tables is not None:
        tables = sorted(detail.tables, key=lambda t: t.total_data_size_bytes or 0, reverse=True)
        shown, more = r.truncated(tables, "table", f"`/projects table list {detail.target} {p.name}`", limit=8)
        lines = [r.table_line(t) for t in shown] or ["No tables."]
        blocks += r.line_sections([f"*Tables ({len(tables)})*", *lines]) + more
    if detail.unhealthy:
        shown, more = r.truncated(detail.unhealthy, "job", f"`/projects job list {detail.target} {p.name} "
                                  "--health error`", limit=5)
        blocks += r.line_sections([f"*Jobs needing attention ({len(detail.unhealthy)})*",
                                   *[r.job_line(j) for j in shown]]) + more
    notes = [f"id `{p.uid}`"]
    if detail.active_jobs is not None:
        notes.append(f"{detail.active_jobs} active job{'s' if detail.active_jobs != 1 else ''}")
    blocks.append(bk.context(" · ".join(notes)))
    storage = r.storage_text(p, ctx.config.digests.alert_share, with_bar=False)
    return Rendered(text=f"{p.name}: {p.state}, {storage}", blocks=r.fit(blocks))


register(Operation(
    name="project.show", summary="a Polaris project's state, storage, tables and unhealthy jobs",
    params=ProjectParams, risk=Risk.READ, run=run_show, render=render_show, kind=KIND,
    examples=("/projects show polaris clickstream",),
))


# ---------------------------------------------------------------- state changes
@dataclass
class ProjectChange:
    target: str
    action: str  # what was asked: created, updated, paused, stopped, resumed, deleted
    project: Project
    expected: str  # the settled state we waited for
    seconds: float = 0.0
    note: str = ""

    @property
    def settled(self) -> bool:
        return self.project.state == self.expected


async def follow(ctx: OpContext, project: Project, expected: str, action: str) -> ProjectChange:
    """Follow the project until it reaches `expected` (bounded by the client's follow time, and by what is left of
    the command's time) and report. Polaris has accepted the change by now: a poll that fails ends the following,
    never the change."""
    client = await client_of(ctx)
    loop = asyncio.get_running_loop()
    started = loop.time()
    last = project

    async def on_change(seen: Project) -> None:
        nonlocal last
        last = seen
        await report_progress(ctx, f"{seen.name}: {r.state_text(seen.state)}")

    left = remaining_seconds()
    timeout = None if left is None else max(0.0, min(client.follow_seconds, left - min(1.0, left / 4)))
    try:
        final = await client.wait_for_state(project.uid, until={expected}, on_change=on_change, initial=project,
                                            timeout=timeout)
    except BackendError as exc:
        note = (f"Polaris accepted the request, but following *{last.name}* failed ({exc.message.rstrip('.')}); "
                f"it was {r.state_text(last.state)}. `/projects show {target_name(ctx)} {command_word(last.name)}` "
                f"shows when it is {expected}.")
        return ProjectChange(target_name(ctx), action, last, expected, seconds=loop.time() - started, note=note)
    return ProjectChange(target_name(ctx), action, final, expected, seconds=loop.time() - started)


def render_change(change: ProjectChange, ctx: OpContext) -> Rendered:
    p = change.project
    if change.note:
        text = f":information_source: {change.note}"
    elif change.settled and change.expected == "deleted":
        text = f":wastebasket: Project *{p.name}* was deleted."
    elif change.settled:
        text = f":white_check_mark: Project *{p.name}* {change.action}: now {r.state_text(p.state)}."
    elif p.state == "failed":
        text = f":x: Project *{p.name}* ended in state *failed* instead of {change.expected}."
    else:
        text = (
            f"{r.TRANSITION_MARK} Polaris accepted the request; *{p.name}* is still {r.state_text(p.state)} after "
            f"{change.seconds:.0f} s. `/projects show {change.target} {p.name}` shows when it is {change.expected}."
        )
    blocks: list[dict[str, Any]] = [bk.section(text)]
    if change.expected != "deleted":
        blocks.append(bk.context(r.project_line(p, ctx.config.digests.alert_share).replace("\n", "  ·  ")))
    return Rendered(text=text, blocks=blocks)


class ProjectCreateParams(PolarisParams):
    name: str = Field(min_length=1, max_length=128, description="the new project's name")
    plan: str = Field(default="starter", description="Polaris plan, e.g. starter, a.01")
    region: str | None = Field(default=None, description="region (default: the API's region)")
    deletion_protection: bool | None = None
    stop_protection: bool | None = None

    _name = field_validator("name", mode="before")(slack_safe_name)

    @field_validator("region")
    @classmethod
    def _known_region(cls, value: str | None) -> str | None:
        if value is not None and value not in REGIONS:
            raise rule_error(f"`{value}` is not a Polaris region: use one of {', '.join(REGIONS)}.")
        return value


async def run_create(ctx: OpContext, params: ProjectCreateParams) -> ProjectChange:
    client = await client_of(ctx)
    existing = [p for p in await client.list_projects() if p.name == params.name]
    if existing:
        raise UsageError(f"There is already a project called `{params.name}` on `{target_name(ctx)}`.",
                         "Pick another name.")
    project = await client.create_project(
        params.name, params.plan, params.region,
        deletion_protection=params.deletion_protection, stop_protection=params.stop_protection,
    )
    return await follow(ctx, project, "running", "created")


async def read_named(ctx: OpContext, params: Any) -> Project:
    """The project the request names (by name for a create), as Polaris has it now."""
    return (await project_of(ctx, params.name if isinstance(params, ProjectCreateParams) else params.project))[1]


register(Operation(
    name="project.create", summary="create a Polaris project (plan, region) and wait until it runs",
    idempotent=True, live=True, form="create", verify=exists(read_named),
    params=ProjectCreateParams, risk=Risk.WRITE, run=run_create, render=render_change, kind=KIND,
    examples=("/projects create polaris web-analytics --plan starter --region eu-west-1",),
))


class ProjectUpdateParams(ProjectParams):
    plan: str | None = Field(default=None, description="new plan")
    deletion_protection: bool | None = None
    stop_protection: bool | None = None


async def run_update(ctx: OpContext, params: ProjectUpdateParams) -> ProjectChange:
    if params.plan is None and params.deletion_protection is None and params.stop_protection is None:
        raise UsageError(
            "Nothing to change.",
            "Give `--plan <plan>`, `--deletion-protection`/`--no-deletion-protection` or "
            "`--stop-protection`/`--no-stop-protection`.",
        )
    client, project = await project_of(ctx, params.project)
    updated = await client.update_project(
        project.uid,
        plan=params.plan,
        deletion_protection=params.deletion_protection,
        stop_protection=params.stop_protection,
    )
    expected = SETTLES_INTO.get(updated.state, updated.state)
    if updated.settled:
        return ProjectChange(target_name(ctx), "updated", updated, expected)
    return await follow(ctx, updated, expected, "updated")


def _updated(project: Project, params: ProjectUpdateParams) -> tuple[bool, str]:
    spec = project.spec
    wanted = {"plan": (params.plan, spec.plan), "deletion protection": (params.deletion_protection,
                                                                         spec.deletion_protection),
              "stop protection": (params.stop_protection, spec.stop_protection)}
    differs = [name for name, (want, have) in wanted.items() if want is not None and want != have]
    if differs:
        return False, "still has its old " + " and ".join(differs)
    return True, "shows the new values"


register(Operation(
    name="project.update", summary="change a Polaris project's plan or protection flags",
    verify=holds(read_named, _updated),
    params=ProjectUpdateParams, risk=Risk.WRITE, run=run_update, render=render_change, kind=KIND,
    examples=("/projects update polaris clickstream --plan a.02",
              "/projects update polaris analytics-prod --no-deletion-protection"),
))


async def impact_preview(ctx: OpContext, ref: str, action: str) -> Preview:
    """What pausing, stopping or deleting the project touches, read live, and whether Polaris would do it at all."""
    client, p = await project_of(ctx, ref)
    name = target_name(ctx)
    desired = {"pause": "paused", "stop": "stopped"}.get(action)
    if desired is not None and p.state == desired:
        return Preview(nothing_to_do=f"Project *{p.name}* is already {desired}; there is nothing to {action}.",
                       hint=f"`/projects resume {name} {command_word(p.name)}` starts it again.")
    if action == "pause" and p.state == "stopped":
        return Preview(blocked=f"Project *{p.name}* is stopped; a stopped project can only be resumed.",
                       hint=f"`/projects resume {name} {command_word(p.name)}` starts it again.")
    tables, active, connections = await asyncio.gather(
        client.list_tables(p.uid),
        client.list_jobs(p.uid, execution_status=["pending", "running"], limit=100),
        client.list_connections(p.uid),
        return_exceptions=True,
    )
    storage = r.storage_text(p, ctx.config.digests.alert_share, with_bar=False)
    deep = "" if p.state == "stopped" else f", {r.human_bytes(p.status.deep_storage_bytes)} in deep storage"
    lines = [f"*{p.name}* is {r.state_text(p.state)} · {p.spec.plan} · {p.spec.region} · {storage}{deep}."]
    if isinstance(tables, list):
        size = sum(t.total_data_size_bytes or 0 for t in tables)
        rows = sum(t.total_rows or 0 for t in tables)
        lines.append(f"{len(tables)} table(s): {r.human_bytes(size)}, {r.human_count(rows)} rows.")
    if isinstance(active, list) and active:
        lines.append(f":warning: {len(active)} active job(s) will stop: "
                     + ", ".join(f"`{r.short_id(j.id)}` {j.type}" for j in active[:5]))
    lines.append({
        "pause": "Pausing stops queries and ingestion; the storage volume is kept.",
        "stop": "Stopping removes the storage volume; data stays in deep storage, and resuming reloads it.",
        "delete": "Deleting removes every table, job and connection"
                  + (f" ({len(connections)} connection(s))" if isinstance(connections, list) else "")
                  + ". It cannot be undone.",
    }[action])
    text = "\n".join(lines)
    if action in ("pause", "stop") and p.spec.stop_protection:
        return Preview(text=text,
                       blocked=f"Stop protection is on for *{p.name}*, so Polaris will refuse to {action} it.",
                       hint=f"Turn it off first: `/projects update {name} {command_word(p.name)} --no-stop-protection`")
    if action == "delete" and p.spec.deletion_protection:
        return Preview(text=text, blocked=f"Deletion protection is on for *{p.name}*, so Polaris will refuse to "
                                          "delete it.",
                       hint=f"Turn it off first: `/projects update {name} {command_word(p.name)} "
                            "--no-deletion-protection`")
    return Preview(text=text)


#: The `update` flag that turns off the protection a refusal names.
PROTECTION_FLAGS: dict[str, str] = {
    Reason.STOP_PROTECTION: "--no-stop-protection",
    Reason.DELETION_PROTECTION: "--no-deletion-protection",
}


def protection_hint(ctx: OpContext, error: BackendError) -> None:
    """A refusal because of a protection flag says how to turn it off."""
    flag = PROTECTION_FLAGS.get(error.reason)
    if flag and error.name:
        error.hint = f"Turn it off first: `/projects update {target_name(ctx)} {command_word(error.name)} {flag}`"


def _preview(action: str) -> Any:
    async def preview(ctx: OpContext, params: ProjectParams) -> Preview:
        return await impact_preview(ctx, params.project, action)

    return preview


def _state_op(desired: str, action: str) -> Any:
    async def run(ctx: OpContext, params: ProjectParams) -> ProjectChange:
        client, project = await project_of(ctx, params.project)
        if project.state == desired:
            return ProjectChange(target_name(ctx), action, project, desired,
                                 note=f"Project *{project.name}* is already {desired}; nothing was changed.")
        if desired == "paused" and project.state == "stopped":
            raise UsageError(f"Project `{project.name}` is stopped; a stopped project can only be resumed.")
        try:
            updated = await client.update_project(project.uid, desired_state=desired)
        except BackendError as exc:
            protection_hint(ctx, exc)
            raise
        return await follow(ctx, updated, desired, action)

    return run


def _heading_to(desired: str) -> Any:
    """Whether a project asked to become `desired` shows it: in that state, on its way there, or wanting it."""

    def check(project: Project, params: Any) -> tuple[bool, str]:
        state = project.state
        if state == desired or SETTLES_INTO.get(state) == desired or project.spec.desired_state == desired:
            return True, f"is {r.state_text(state)}"
        return False, f"is still {r.state_text(state)}"

    return check


for _verb, _desired, _action, _risk, _summary in (
    ("pause", "paused", "paused", Risk.DESTRUCTIVE, "pause a Polaris project (storage kept, queries stop)"),
    ("stop", "stopped", "stopped", Risk.DESTRUCTIVE, "stop a Polaris project (its storage volume is removed)"),
    ("resume", "running", "resumed", Risk.WRITE, "resume a paused or stopped Polaris project"),
):
    register(Operation(
        name=f"project.{_verb}", summary=_summary, params=ProjectParams, risk=_risk,
        verify=holds(read_named, _heading_to(_desired), action=_verb),
        run=_state_op(_desired, _action), render=render_change, kind=KIND,
        preview=_preview(_verb) if _risk is Risk.DESTRUCTIVE else None, live=True,
        reversible_by="resume" if _risk is Risk.DESTRUCTIVE else None,
        examples=(f"/projects {_verb} polaris marketing-sandbox",),
    ))


async def run_delete(ctx: OpContext, params: ProjectParams) -> ProjectChange:
    client, project = await project_of(ctx, params.project)
    try:
        await client.delete_project(project.uid)
    except BackendError as exc:
        protection_hint(ctx, exc)
        raise
    return await follow(ctx, project, "deleted", "deleted")


register(Operation(
    name="project.delete", summary="delete a Polaris project with all its tables, jobs and connections",
    typed_confirmation=True,
    params=ProjectParams, risk=Risk.DESTRUCTIVE, run=run_delete, render=render_change, kind=KIND,
    verify=gone(read_named, going=lambda p: p.state in ("deleting", "deleted")),
    preview=_preview("delete"), examples=("/projects delete polaris marketing-sandbox",),
))
