"""Polaris table operations: list, show, create, add-columns, drop (a drop_table job)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import Field, field_validator

from bot.backends.polaris.models import Job, Project, Table
from bot.errors import UsageError
from bot.operations.base import Operation, Preview, Rendered, Risk
from bot.operations.context import OpContext
from bot.operations.outcome import exists
from bot.operations.parser import args_to_fields
from bot.operations.polaris import render as r
from bot.operations.polaris.common import KIND, ProjectParams, project_of, target_name
from bot.operations.registry import register
from bot.operations.rules import slack_safe_name
from bot.ui import blocks as bk

Granularity = Literal["hour", "day", "month", "year", "all"]
TimeResolution = Literal[
    "millisecond", "second", "minute", "fifteen_minute", "thirty_minute", "hour", "day", "week", "month",
    "quarter", "year",
]


def parse_column(spec: str) -> dict[str, str]:
    """`name:type` -> `{"name": ..., "dataType": ...}` (raises ValueError with what to type instead)."""
    name, sep, data_type = spec.rpartition(":")
    if not sep or not name or not data_type:
        raise ValueError(f"`{spec}` is not a column: write it as name:type, e.g. country:string")
    return {"name": name, "dataType": data_type}


def _check_columns(values: list[str]) -> list[str]:
    for value in values:
        parse_column(value)
    return values


class TableParams(ProjectParams):
    table: str = Field(min_length=1, max_length=255, description="table name")


# ---------------------------------------------------------------- list
@dataclass
class TableList:
    target: str
    project: Project
    tables: list[Table]


async def run_list(ctx: OpContext, params: ProjectParams) -> TableList:
    client, project = await project_of(ctx, params.project)
    tables = sorted(await client.list_tables(project.uid), key=lambda t: t.name)
    return TableList(target_name(ctx), project, tables)


def render_list(result: TableList, ctx: OpContext) -> Rendered:
    title = f"Tables in {result.project.name} ({len(result.tables)})"
    total = sum(t.total_data_size_bytes or 0 for t in result.tables)
    rows = sum(t.total_rows or 0 for t in result.tables)
    blocks: list[dict[str, Any]] = [bk.header(title)]
    blocks.append(bk.context(f"{r.human_bytes(total)} · {r.human_count(rows)} rows in all · project storage: "
                             f"{r.storage_text(result.project, ctx.config.digests.alert_share, with_bar=False)}"))
    shown, more = r.truncated(result.tables, "table", limit=120)
    blocks += r.line_sections([r.table_line(t) for t in shown] or ["No tables yet."]) + more
    blocks.append(bk.context(f"`/projects table show {result.target} {result.project.name} <table>` for columns."))
    return Rendered(text=title, blocks=r.fit(blocks))


register(Operation(
    name="table.list", summary="tables of a Polaris project with size, rows and segments", params=ProjectParams,
    risk=Risk.READ, run=run_list, render=render_list, kind=KIND,
    examples=("/projects table list polaris clickstream",),
))


# ---------------------------------------------------------------- show
@dataclass
class TableDetail:
    target: str
    project: Project
    table: Table
    jobs: list[Job] | None = None


async def run_show(ctx: OpContext, params: TableParams) -> TableDetail:
    client, project = await project_of(ctx, params.project)
    table, jobs = await asyncio.gather(
        client.get_table(project.uid, params.table),
        client.list_jobs(project.uid, table=params.table, limit=5),
        return_exceptions=True,
    )
    if isinstance(table, BaseException):
        raise table
    return TableDetail(target_name(ctx), project, table, jobs if isinstance(jobs, list) else None)


def column_text(columns: list[Any]) -> str:
    parts = []
    for c in columns:
        kind = f" ({c.type})" if c.type else ""
        parts.append(f"`{c.name}` {c.data_type or '?'}{kind}")
    return ", ".join(parts)


def render_show(detail: TableDetail, ctx: OpContext) -> Rendered:
    t = detail.table
    fields = [
        f"*Type*\n{t.type}" + (f" · rollup {t.time_resolution}" if t.time_resolution else ""),
        f"*Availability*\n{t.availability or '?'}",
        f"*Size*\n{r.human_bytes(t.total_data_size_bytes)}",
        f"*Rows*\n{r.human_count(t.total_rows)}",
        f"*Segments*\n{t.segment_count:,}" if t.segment_count is not None else "*Segments*\n?",
        f"*Partitioning*\n{t.partitioning_granularity or '?'} · {t.schema_mode or '?'} schema",
        f"*Version*\n{t.version}",
        f"*Modified*\n{r.when(t.modified_on_timestamp)}",
    ]
    blocks: list[dict[str, Any]] = [bk.header(f"{t.name} · {detail.project.name}"), bk.section(fields=fields)]
    if t.description:
        blocks.append(bk.context(t.description))
    columns = t.columns or [c for c in t.queryable_schema if not c.is_discovered]
    if columns:
        blocks.append(bk.section(f"*Columns ({len(columns)})*\n" + column_text(columns)))
    discovered = [c for c in t.queryable_schema if c.is_discovered]
    if discovered:
        blocks.append(bk.context("Discovered: " + column_text(discovered)))
    if t.clustering_columns:
        blocks.append(bk.context("Clustered by " + ", ".join(f"`{c}`" for c in t.clustering_columns)))
    if detail.jobs:
        blocks += r.line_sections(["*Recent jobs*", *[r.job_line(j) for j in detail.jobs]])
    return Rendered(text=f"{t.name}: {r.human_bytes(t.total_data_size_bytes)}, {t.total_rows} rows",
                    blocks=r.fit(blocks))


register(Operation(
    name="table.show", summary="a Polaris table's size, rows, segments, columns and recent jobs",
    params=TableParams, risk=Risk.READ, run=run_show, render=render_show, kind=KIND,
    examples=("/projects table show polaris clickstream clicks",),
))


# ---------------------------------------------------------------- create / add columns
class TableCreateParams(TableParams):
    type: Literal["detail", "aggregate"] = "detail"
    column: list[str] = Field(default_factory=list, description="name:type (detail tables), repeatable")
    dimension: list[str] = Field(default_factory=list, description="name:type (aggregate tables), repeatable")
    measure: list[str] = Field(default_factory=list, description="name:type (aggregate tables), repeatable")
    partitioning: Granularity | None = None
    time_resolution: TimeResolution | None = None
    schema_mode: Literal["flexible", "strict"] | None = None
    description: str | None = Field(default=None, max_length=1000)

    _name = field_validator("table", "column", "dimension", "measure", mode="before")(slack_safe_name)
    _columns = field_validator("column", "dimension", "measure")(_check_columns)


@dataclass
class TableChanged:
    target: str
    project: Project
    table: Table
    action: str
    added: list[str] | None = None


async def run_create(ctx: OpContext, params: TableCreateParams) -> TableChanged:
    client, project = await project_of(ctx, params.project)
    if params.type == "aggregate":
        columns = [{"type": "dimension", **parse_column(c)} for c in [*params.column, *params.dimension]]
        columns += [{"type": "measure", **parse_column(c)} for c in params.measure]
    else:
        if params.dimension or params.measure:
            raise UsageError("`--dimension` and `--measure` are for aggregate tables.",
                             "Use `--column name:type`, or add `--type aggregate`.")
        columns = [parse_column(c) for c in params.column]
    table = await client.create_table(
        project.uid, params.table, params.type, columns or None,
        partitioning_granularity=params.partitioning, schema_mode=params.schema_mode,
        time_resolution=params.time_resolution, description=params.description,
    )
    return TableChanged(target_name(ctx), project, table, "created")


def render_changed(result: TableChanged, ctx: OpContext) -> Rendered:
    t = result.table
    if result.added:
        text = (f":white_check_mark: Added {', '.join(f'`{c}`' for c in result.added)} to *{t.name}* in "
                f"{result.project.name} (now version {t.version}).")
    else:
        text = f":white_check_mark: Created {t.type} table *{t.name}* in {result.project.name}."
    blocks = [bk.section(text)]
    if t.columns:
        blocks.append(bk.context("Columns: " + column_text(t.columns)))
    return Rendered(text=text, blocks=blocks)


async def read_table(ctx: OpContext, params: TableParams) -> Table:
    """The table the request names, as Polaris has it now."""
    client, project = await project_of(ctx, params.project)
    return await client.get_table(project.uid, params.table)


def _table_name(params: TableParams) -> str:
    return params.table


register(Operation(
    name="table.create", summary="create a detail or aggregate table in a Polaris project",
    idempotent=True, verify=exists(read_table, name=_table_name),
    params=TableCreateParams, risk=Risk.WRITE, run=run_create, render=render_changed, kind=KIND,
    examples=(
        "/projects table create polaris clickstream pageviews --column __time:timestamp --column page:string",
        "/projects table create polaris clickstream views_daily --type aggregate --dimension page:string "
        "--measure views:long --time-resolution day",
    ),
))


class AddColumnsParams(TableParams):
    column: list[str] = Field(min_length=1, description="name:type, repeatable")

    _name = field_validator("column", mode="before")(slack_safe_name)
    _columns = field_validator("column")(_check_columns)


async def run_add_columns(ctx: OpContext, params: AddColumnsParams) -> TableChanged:
    client, project = await project_of(ctx, params.project)
    current = await client.get_table(project.uid, params.table)
    columns = [parse_column(c) for c in params.column]
    if current.type == "aggregate":
        columns = [{"type": "dimension", **c} for c in columns]
    table = await client.add_columns(project.uid, params.table, columns)
    return TableChanged(target_name(ctx), project, table, "updated", added=[c["name"] for c in columns])


def parse_add_columns(args: list[str]) -> dict[str, Any]:
    """Words after `<project> <table>` are columns: `... users email:string tier:string`."""
    words: list[str] = []
    options: list[str] = []
    i = 0
    while i < len(args):
        if args[i].startswith("--"):
            options.append(args[i])
            if "=" not in args[i] and i + 1 < len(args):
                i += 1
                options.append(args[i])
        else:
            words.append(args[i])
        i += 1
    columns = [part for column in words[2:] for part in ("--column", column)]
    return args_to_fields(ADD_COLUMNS, words[:2] + columns + options)


ADD_COLUMNS = register(Operation(
    name="table.add-columns", summary="add columns to a Polaris table's schema",
    params=AddColumnsParams, risk=Risk.WRITE, run=run_add_columns, render=render_changed, kind=KIND,
    parse_args=parse_add_columns,
    usage_text="/projects table add-columns <target> <project> <table> <name:type> [<name:type> ...]",
    examples=("/projects table add-columns polaris analytics-prod users email:string tier:string",),
))


# ---------------------------------------------------------------- drop
@dataclass
class JobStarted:
    target: str
    project: Project
    job: Job
    what: str


async def run_drop(ctx: OpContext, params: TableParams) -> JobStarted:
    client, project = await project_of(ctx, params.project)
    table = await client.get_table(project.uid, params.table)
    job = await client.create_drop_table_job(project.uid, table.name)
    what = (f"Dropping table *{table.name}* ({r.human_bytes(table.total_data_size_bytes)}, "
            f"{r.human_count(table.total_rows)} rows) from {project.name}")
    return JobStarted(target_name(ctx), project, job, what)


async def preview_drop(ctx: OpContext, params: TableParams) -> Preview:
    client, project = await project_of(ctx, params.project)
    table = await client.get_table(project.uid, params.table)
    jobs = await client.list_jobs(project.uid, table=table.name, execution_status=["pending", "running"], limit=50)
    text = (f"Drops table *{table.name}* from {project.name} with all its data: "
            f"{r.human_bytes(table.total_data_size_bytes)}, {r.human_count(table.total_rows)} rows, "
            f"{table.segment_count or 0:,} segments. It cannot be undone.")
    if jobs:
        text += f"\n:warning: {len(jobs)} active job(s) write to it: " + ", ".join(
            f"`{r.short_id(j.id)}` {j.type}" for j in jobs[:5])
    return Preview(text)


def render_job_started(result: JobStarted, ctx: OpContext) -> Rendered:
    job = result.job
    text = f":hourglass_flowing_sand: {result.what}: job `{job.id}` is {job.execution_status}."
    hint = f"`/projects job show {result.target} {result.project.name} {r.short_id(job.id)}` follows it."
    return Rendered(text=text, blocks=[bk.section(text), bk.context(hint)])


register(Operation(
    name="table.drop", summary="drop a Polaris table and all its data (a drop_table job)",
    typed_confirmation=True,
    params=TableParams, risk=Risk.DESTRUCTIVE, run=run_drop, render=render_job_started, kind=KIND,
    preview=preview_drop, examples=("/projects table drop polaris clickstream bot_traffic",),
))
