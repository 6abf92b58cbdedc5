"""Polaris job operations: list, show, logs, metrics, create, cancel, reset, delete-data."""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from bot.backends.polaris import PolarisClient
from bot.backends.polaris.models import Job, JobLogEntry, JobMetrics, Project
from bot.errors import NotFoundError, OpError, UsageError
from bot.operations.base import Operation, Preview, Rendered, Risk
from bot.operations.context import OpContext
from bot.operations.polaris import render as r
from bot.operations.polaris.common import KIND, PolarisParams, ProjectParams, client_of, project_of, target_name
from bot.operations.polaris.tables import JobStarted, TableParams, parse_column, render_job_started
from bot.operations.registry import register
from bot.operations.suggest import command_word
from bot.ui import blocks as bk

Health = Literal["ok", "warn", "error"]
Execution = Literal["pending", "running", "completed", "idle", "canceled", "failed", "suspended", "unknown"]
JobKind = Literal["batch", "delete_data", "drop_table", "restore_data", "streaming", "sql"]
MAX_SHOWN = 80  # job lines in one message (each list stays inside Slack's 50 blocks)
MAX_ACROSS = 100  # running projects read when no project is named (one jobs request each)
ACROSS_IN_FLIGHT = 16  # of those, read at once
FULL_ID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")


def _split_commas(value: Any) -> Any:
    """`--health warn,error` means the same as `--health warn --health error`."""
    if isinstance(value, str):
        value = [value]
    if isinstance(value, list):
        return [part.strip() for item in value for part in str(item).split(",") if part.strip()]
    return value


class JobListParams(PolarisParams):
    project: str | None = Field(default=None, min_length=1,
                                description="project name or id; every running project when left out")
    health: list[Health] = Field(default_factory=list, description="ok, warn or error; repeatable")
    status: list[Execution] = Field(default_factory=list, description="execution status; repeatable")
    type: list[JobKind] = Field(default_factory=list, description="job type; repeatable")
    table: str | None = Field(default=None, description="target table")
    connection: str | None = Field(default=None, description="source connection")
    search: str | None = None
    limit: int = Field(default=30, ge=1, le=1000)

    _split = field_validator("health", "status", "type", mode="before")(_split_commas)


class JobParams(ProjectParams):
    job: str = Field(min_length=4, description="job id (the first 8 characters are enough)")


async def find_job(client: PolarisClient, project: Project, ref: str) -> Job:
    """The job with id `ref`, or the only one whose id starts with `ref`."""
    if FULL_ID.match(ref):
        return await client.get_job(project.uid, ref.lower())
    matches = [j for j in await client.list_jobs(project.uid, page_size=1000) if j.id.startswith(ref.lower())]
    if not matches:
        raise NotFoundError(f"No job in {project.name} has an id starting with `{ref}`.",  # suggest.py adds the hint
                            resource="job", name=ref, within=project.uid)
    if len(matches) > 1:
        raise UsageError(f"{len(matches)} jobs in {project.name} start with `{ref}`.", "Give more of the id.")
    return await client.get_job(project.uid, matches[0].id)


# ---------------------------------------------------------------- list
@dataclass
class JobList:
    target: str
    project: Project
    jobs: list[Job]
    filters: dict[str, Any] = field(default_factory=dict)
    limit: int = 30


@dataclass
class JobsAcross:
    """Jobs of every running project on a target (`job list <target>` with no project), newest first."""

    target: str
    jobs: list[tuple[Project, Job]]
    read: int  # running projects whose jobs were read
    running: int  # running projects on the target
    unread: list[str] = field(default_factory=list)  # projects whose jobs could not be read
    filters: dict[str, Any] = field(default_factory=dict)
    limit: int = 30


async def _jobs_of(client: PolarisClient, project: Project, params: JobListParams) -> list[Job]:
    return await client.list_jobs(
        project.uid,
        limit=params.limit + 1,
        types=params.type,
        execution_status=params.status,
        health_status=params.health,
        table=params.table,
        connection=[params.connection] if params.connection else [],
        search=params.search,
    )


async def run_list(ctx: OpContext, params: JobListParams) -> JobList | JobsAcross:
    filters = {k: v for k, v in params.model_dump(exclude={"project", "limit"}).items() if v}
    if params.project is None:
        return await _run_across(ctx, params, filters)
    client, project = await project_of(ctx, params.project)
    return JobList(target_name(ctx), project, await _jobs_of(client, project, params), filters, params.limit)


async def _run_across(ctx: OpContext, params: JobListParams, filters: dict[str, Any]) -> JobsAcross:
    """One jobs request per running project (the API has no cross-project listing), a few at a time; a project
    that cannot be read is named, not fatal."""
    client = await client_of(ctx)
    running = sorted((p for p in await client.list_projects() if p.state == "running"), key=lambda p: p.name)
    projects = running[:MAX_ACROSS]
    gate = asyncio.Semaphore(ACROSS_IN_FLIGHT)

    async def one(project: Project) -> list[Job]:
        async with gate:
            return await _jobs_of(client, project, params)

    found = await asyncio.gather(*(one(p) for p in projects), return_exceptions=True)
    jobs: list[tuple[Project, Job]] = []
    unread: list[str] = []
    failures: list[OpError] = []
    for project, listed in zip(projects, found, strict=True):
        if isinstance(listed, OpError):
            unread.append(project.name)
            failures.append(listed)
        elif isinstance(listed, BaseException):
            raise listed
        else:
            jobs += [(project, job) for job in listed]
    if failures and len(failures) == len(projects):
        raise failures[0]  # nothing could be read (credentials, an outage): the back end's own words say why
    jobs.sort(key=lambda pj: pj[1].last_updated_timestamp.timestamp() if pj[1].last_updated_timestamp else 0.0,
              reverse=True)
    return JobsAcross(target_name(ctx), jobs, len(projects), len(running), unread, filters, params.limit)


def _filter_line(filters: dict[str, Any]) -> dict[str, Any]:
    shown = ", ".join(f"{k} `{','.join(v) if isinstance(v, list) else v}`" for k, v in filters.items())
    return bk.context(f"Filtered by {shown}")


def _health_counts(jobs: list[Job]) -> dict[str, Any]:
    counts: dict[str, int] = {}
    for job in jobs:
        counts[job.health.status] = counts.get(job.health.status, 0) + 1
    return bk.context("  ".join(f"{r.health_mark(h)} {n} {h}" for h, n in sorted(counts.items())))


def render_list(result: JobList | JobsAcross, ctx: OpContext) -> Rendered:
    if isinstance(result, JobsAcross):
        return render_across(result)
    more = len(result.jobs) > result.limit
    jobs = result.jobs[: result.limit]
    title = f"Jobs in {result.project.name} ({len(jobs)}{'+' if more else ''})"
    blocks: list[dict[str, Any]] = [bk.header(title)]
    if result.filters:
        blocks.append(_filter_line(result.filters))
    if jobs:
        blocks.append(_health_counts(jobs))
    shown, cut = r.truncated(jobs, "job", "Narrow with `--status`, `--health` or `--table`.", limit=MAX_SHOWN)
    blocks += r.line_sections([r.job_line(j) for j in shown] or ["No jobs match."]) + cut
    if more:
        blocks.append(bk.context(f"Showing the {result.limit} most recently updated; narrow with `--status`, "
                                 "`--health`, `--table` or raise `--limit`."))
    blocks.append(bk.context(f"`/projects job show {result.target} {result.project.name} <id>` for details."))
    return Rendered(text=title, blocks=r.fit(blocks))


def render_across(result: JobsAcross) -> Rendered:
    more = len(result.jobs) > result.limit
    shown_jobs = result.jobs[: result.limit]
    read = result.read - len(result.unread)
    where = f"{read} running project{'s' if read != 1 else ''} on {result.target}"
    title = f"Jobs in {where} ({len(shown_jobs)}{'+' if more else ''})"
    blocks: list[dict[str, Any]] = [bk.header(title)]
    if result.filters:
        blocks.append(_filter_line(result.filters))
    if shown_jobs:
        blocks.append(_health_counts([job for _, job in shown_jobs]))
    shown, cut = r.truncated(shown_jobs, "job", "Name a project, or narrow with `--health` or `--status`.",
                             limit=MAX_SHOWN)
    lines = [f"*{project.name}* · {r.job_line(job)}" for project, job in shown]
    nothing = "No jobs match in the projects read." if result.unread else "No jobs match in any running project."
    blocks += r.line_sections(lines or [nothing]) + cut
    if more:
        blocks.append(bk.context(f"Showing the {result.limit} most recently updated; name a project or raise "
                                 "`--limit`."))
    if result.running > result.read:
        blocks.append(bk.context(f"Read the first {result.read} of {result.running} running projects (by name); "
                                 f"name a project to see the others: `/projects job list {result.target} <project>`."))
    if result.unread:
        names = ", ".join(result.unread[:10]) + (f" and {len(result.unread) - 10} more" if len(result.unread) > 10
                                                 else "")
        blocks.append(bk.context(f":warning: Could not read the jobs of {names}; try again, or name the project."))
    blocks.append(bk.context(f"`/projects job show {result.target} <project> <id>` for details."))
    return Rendered(text=title, blocks=r.fit(blocks))


register(Operation(
    name="job.list", summary="jobs of a Polaris project (or of every running one), filtered by health, status, "
    "type or table",
    params=JobListParams, risk=Risk.READ, run=run_list, render=render_list, kind=KIND, positional=("project",),
    examples=("/projects job list polaris clickstream --health error",
              "/projects job list polaris analytics-prod --status running --table events",
              "/projects job list polaris --health error"),
))


# ---------------------------------------------------------------- show
@dataclass
class JobDetail:
    target: str
    project: Project
    job: Job


async def run_show(ctx: OpContext, params: JobParams) -> JobDetail:
    client, project = await project_of(ctx, params.project)
    return JobDetail(target_name(ctx), project, await find_job(client, project, params.job))


def _source_text(job: Job) -> str:
    source = job.source or {}
    if not source:
        return "SQL" if job.type == "sql" else "—"
    parts = [str(source.get("type", "?"))]
    if source.get("connectionName"):
        parts.append(f"`{source['connectionName']}`")
    if source.get("tableName"):
        parts.append(f"table `{source['tableName']}`")
    prefixes = source.get("prefixes") or source.get("uris") or []
    if prefixes:
        parts.append(", ".join(f"`{p}`" for p in prefixes[:3]))
    return " ".join(parts)


def render_show(detail: JobDetail, ctx: OpContext) -> Rendered:
    job = detail.job
    health = job.health
    fields = [
        f"*Status*\n{r.EXECUTION_MARK.get(job.execution_status, '')} {job.execution_status}"
        + (f" (wants {job.desired_execution_status})"
           if job.desired_execution_status not in (None, "running", job.execution_status) else ""),
        f"*Health*\n{r.health_mark(health.status)} {health.status}" + (f" · `{health.code}`" if health.code else ""),
        f"*Target table*\n{job.table or '—'}",
        f"*Source*\n{_source_text(job)}",
        f"*Created*\n{r.when(job.created_timestamp)}"
        + (f" by {job.created_by.username}" if job.created_by and job.created_by.username else ""),
        f"*Last update*\n{r.when(job.last_updated_timestamp)}",
    ]
    blocks: list[dict[str, Any]] = [bk.header(f"{job.type} job · {detail.project.name}"), bk.section(fields=fields)]
    if health.status != "ok" and health.detail:
        blocks.append(bk.section(f"{r.health_mark(health.status)} {health.detail}"))
    if job.query:
        blocks.append(bk.section("```" + bk.clip(job.query, 2800) + "```"))
    p = f"{detail.target} {detail.project.name} {r.short_id(job.id)}"
    blocks.append(bk.context(f"id `{job.id}` · `/projects job logs {p}` · `/projects job metrics {p}`"))
    return Rendered(text=f"{job.type} job {job.id}: {job.execution_status}, health {health.status}", blocks=blocks)


register(Operation(
    name="job.show", summary="a Polaris job's status, health, source and target", params=JobParams,
    risk=Risk.READ, run=run_show, render=render_show, kind=KIND,
    examples=("/projects job show polaris clickstream 0b376ddb",),
))


# ---------------------------------------------------------------- logs
class JobLogsParams(JobParams):
    limit: int = Field(default=20, ge=1, le=200)


@dataclass
class JobLogs:
    target: str
    project: Project
    job: Job
    entries: list[JobLogEntry]
    limit: int


async def run_logs(ctx: OpContext, params: JobLogsParams) -> JobLogs:
    client, project = await project_of(ctx, params.project)
    job = await find_job(client, project, params.job)
    return JobLogs(target_name(ctx), project, job, await client.job_logs(project.uid, job.id), params.limit)


def render_logs(result: JobLogs, ctx: OpContext) -> Rendered:
    entries = result.entries[-result.limit:]
    title = f"Logs of {result.job.type} job {r.short_id(result.job.id)} · {result.project.name}"
    lines = [f"`{r.when(e.timestamp)}` {r.health_mark(e.health_status)} {bk.clip(e.message, 400)}" for e in entries]
    blocks: list[dict[str, Any]] = [bk.header(title), *r.line_sections(lines or ["No log entries."])]
    if len(result.entries) > len(entries):
        blocks.append(bk.context(f"The last {len(entries)} of {len(result.entries)} entries; `--limit` shows more."))
    return Rendered(text=title, blocks=r.fit(blocks))


register(Operation(
    name="job.logs", summary="the log of a Polaris job", params=JobLogsParams, risk=Risk.READ,
    run=run_logs, render=render_logs, kind=KIND, positional=("project", "job"),
    examples=("/projects job logs polaris clickstream 0b376ddb",),
))


# ---------------------------------------------------------------- metrics
@dataclass
class JobMetricsResult:
    target: str
    project: Project
    job: Job
    metrics: JobMetrics


async def run_metrics(ctx: OpContext, params: JobParams) -> JobMetricsResult:
    client, project = await project_of(ctx, params.project)
    job = await find_job(client, project, params.job)
    return JobMetricsResult(target_name(ctx), project, job, await client.job_metrics(project.uid, job.id))


def render_metrics(result: JobMetricsResult, ctx: OpContext) -> Rendered:
    m = result.metrics
    title = f"Metrics of {result.job.type} job {r.short_id(result.job.id)} · {result.project.name}"
    fields = [
        f"*Rows processed*\n{m.num_rows_processed:,}",
        f"*Rows persisted*\n{m.num_rows_persisted:,}",
        f"*With warnings*\n{m.num_rows_processed_with_warning:,}",
        f"*Skipped (errors)*\n{m.num_rows_skipped_by_error:,}",
        f"*Skipped (filter)*\n{m.num_rows_skipped_by_filter:,}",
        f"*Bytes processed*\n{r.human_bytes(m.num_bytes_processed)}",
    ]
    return Rendered(text=title, blocks=[bk.header(title), bk.section(fields=fields)])


register(Operation(
    name="job.metrics", summary="row and byte counts of a Polaris job", params=JobParams, risk=Risk.READ,
    run=run_metrics, render=render_metrics, kind=KIND,
    examples=("/projects job metrics polaris analytics-prod 1c5e07a8",),
))


# ---------------------------------------------------------------- create
class JobCreateParams(ProjectParams):
    type: Literal["sql", "batch"] = Field(description="sql or batch")
    query: str | None = Field(default=None, description="INSERT/REPLACE INTO … (sql jobs)")
    table: str | None = Field(default=None, description="target table (batch jobs)")
    connection: str | None = Field(default=None, description="source connection (batch jobs)")
    prefix: list[str] = Field(default_factory=list, description="source prefix, repeatable (batch jobs)")
    column: list[str] = Field(default_factory=list, description="input field name:type, repeatable (batch jobs)")
    create_table: bool = False

    @model_validator(mode="after")
    def _needs(self) -> JobCreateParams:
        if self.type == "sql" and not self.query:
            raise ValueError("a sql job needs `--query \"INSERT INTO ...\"`")
        if self.type == "batch" and not (self.table and self.connection and self.prefix):
            raise ValueError("a batch job needs `--table`, `--connection` and at least one `--prefix`")
        return self


async def run_create(ctx: OpContext, params: JobCreateParams) -> JobStarted:
    client, project = await project_of(ctx, params.project)
    if params.type == "sql":
        assert params.query
        job = await client.create_sql_job(project.uid, params.query, create_table=params.create_table)
        what = f"SQL ingestion into *{job.table or '?'}* in {project.name}"
    else:
        assert params.table and params.connection
        try:
            schema = [parse_column(c) for c in params.column] or None
        except ValueError as exc:
            raise UsageError(str(exc)) from None
        job = await client.create_batch_job(
            project.uid, params.table, params.connection, params.prefix,
            input_schema=schema, create_table=params.create_table,
        )
        what = f"Batch ingestion from `{params.connection}` into *{params.table}* in {project.name}"
    return JobStarted(target_name(ctx), project, job, what)


register(Operation(
    name="job.create", summary="start a SQL or batch ingestion job in a Polaris project",
    idempotent=True,
    params=JobCreateParams, risk=Risk.WRITE, run=run_create, render=render_job_started, kind=KIND,
    positional=("project", "type"),
    examples=(
        "/projects job create polaris support-insights sql --query \"INSERT INTO tickets SELECT ...\"",
        "/projects job create polaris clickstream batch --table clicks --connection clickstream-archive "
        "--prefix s3://acme-clickstream-archive/2025/01/",
    ),
))


# ---------------------------------------------------------------- cancel / reset
@dataclass
class JobChanged:
    target: str
    project: Project
    job: Job
    text: str


async def run_cancel(ctx: OpContext, params: JobParams) -> JobChanged:
    client, project = await project_of(ctx, params.project)
    job = await find_job(client, project, params.job)
    if not job.active:
        raise UsageError(f"Job `{r.short_id(job.id)}` is already {job.execution_status}; there is nothing to cancel.")
    job = await client.cancel_job(project.uid, job.id)
    return JobChanged(target_name(ctx), project, job,
                      f":no_entry_sign: Canceled {job.type} job `{job.id}` in {project.name} "
                      f"(now {job.execution_status}).")


async def run_reset(ctx: OpContext, params: JobParams) -> JobChanged:
    client, project = await project_of(ctx, params.project)
    job = await find_job(client, project, params.job)
    if job.type != "streaming":
        raise UsageError(f"Job `{r.short_id(job.id)}` is a {job.type} job; only streaming jobs can be reset.")
    await client.reset_job(project.uid, job.id)
    return JobChanged(target_name(ctx), project, job,
                      f":leftwards_arrow_with_hook: Reset the offset of streaming job `{job.id}` into "
                      f"*{job.table}*; it re-reads from its `readFromPoint`.")


async def preview_cancel(ctx: OpContext, params: JobParams) -> Preview:
    client, project = await project_of(ctx, params.project)
    job = await find_job(client, project, params.job)
    if not job.active:
        return Preview(nothing_to_do=f"Job `{r.short_id(job.id)}` in {project.name} is already "
                                     f"{job.execution_status}; there is nothing to cancel.",
                       hint=f"`/projects job show {target_name(ctx)} {command_word(project.name)} "
                            f"{r.short_id(job.id)}` shows how it ended.")
    return Preview(f"Cancels {job.type} job `{job.id}` into *{job.table or '?'}* in {project.name} "
                   f"(now {job.execution_status}, started {r.when(job.started_timestamp)}). Rows it has not "
                   "committed are lost; a canceled job cannot be restarted.")


async def preview_reset(ctx: OpContext, params: JobParams) -> Preview:
    client, project = await project_of(ctx, params.project)
    job = await find_job(client, project, params.job)
    if job.type != "streaming":
        return Preview(blocked=f"Job `{r.short_id(job.id)}` in {project.name} is a {job.type} job; only streaming "
                               "jobs have an offset to reset.",
                       hint=f"`/projects job list {target_name(ctx)} {command_word(project.name)} --type streaming` "
                            "shows its streaming jobs.")
    source = (job.source or {}).get("connectionName", "its source")
    return Preview(f"Resets {job.type} job `{job.id}` ({source} → *{job.table}*) to its read-from point: events "
                   "may be ingested again or skipped, depending on that point.")


def render_changed(result: JobChanged, ctx: OpContext) -> Rendered:
    return Rendered(text=result.text, blocks=[bk.section(result.text)])


register(Operation(
    name="job.cancel", summary="cancel a running Polaris ingestion job", params=JobParams,
    risk=Risk.DESTRUCTIVE, run=run_cancel, render=render_changed, kind=KIND, preview=preview_cancel,
    examples=("/projects job cancel polaris clickstream 5b1f2c3d",),
))
register(Operation(
    name="job.reset", summary="reset a Polaris streaming job's offset to its read-from point", params=JobParams,
    risk=Risk.DESTRUCTIVE, run=run_reset, render=render_changed, kind=KIND, preview=preview_reset,
    examples=("/projects job reset polaris analytics-prod 7a2c9e01",),
))


# ---------------------------------------------------------------- delete data
class DeleteDataParams(TableParams):
    interval: list[str] = Field(default_factory=list, description="ISO interval, e.g. 2024-01-01/2024-02-01")
    all: bool = Field(default=False, description="delete every row (the table stays)")

    @model_validator(mode="after")
    def _what(self) -> DeleteDataParams:
        if not self.interval and not self.all:
            raise ValueError("say what to delete: `--interval 2024-01-01/2024-02-01` (repeatable) or `--all`")
        if self.interval and self.all:
            raise ValueError("give either `--interval` or `--all`, not both")
        return self


async def run_delete_data(ctx: OpContext, params: DeleteDataParams) -> JobStarted:
    client, project = await project_of(ctx, params.project)
    table = await client.get_table(project.uid, params.table)
    job = await client.create_delete_data_job(project.uid, table.name, params.interval, delete_all=params.all)
    scope = "all rows" if params.all else ", ".join(params.interval)
    return JobStarted(target_name(ctx), project, job, f"Deleting {scope} from *{table.name}* in {project.name}")


async def preview_delete_data(ctx: OpContext, params: DeleteDataParams) -> Preview:
    client, project = await project_of(ctx, params.project)
    table = await client.get_table(project.uid, params.table)
    scope = ("*all* its rows" if params.all else "the rows in " + ", ".join(f"`{i}`" for i in params.interval))
    return Preview(f"Deletes {scope} from *{table.name}* in {project.name} (the table holds "
                   f"{r.human_bytes(table.total_data_size_bytes)}, {r.human_count(table.total_rows)} rows). "
                   "It cannot be undone.")


register(Operation(
    name="job.delete-data", summary="delete rows of a Polaris table by time interval, or all of them",
    typed_confirmation=True,
    params=DeleteDataParams, risk=Risk.DESTRUCTIVE, run=run_delete_data, render=render_job_started, kind=KIND,
    preview=preview_delete_data,
    examples=("/projects job delete-data polaris clickstream bot_traffic --interval 2024-02-01/2024-03-01",
              "/projects job delete-data polaris clickstream bot_traffic --all"),
))
