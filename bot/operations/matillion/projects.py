"""Matillion DPC project operations: list, show, create, delete."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from pydantic import Field, field_validator

from bot.backends.matillion import (
    DEPLOYMENT_TYPES,
    WAREHOUSES,
    DataPlatformConnection,
    MatillionEnvironment,
    MatillionProject,
    MatillionRepository,
    canonical,
)
from bot.errors import BackendError, Reason, UsageError
from bot.operations.base import Operation, Preview, Rendered, Risk
from bot.operations.context import OpContext
from bot.operations.matillion.common import KIND, MatillionParams, client_of, line_sections, target_name
from bot.operations.outcome import exists, gone
from bot.operations.registry import register
from bot.operations.rules import slack_safe_name
from bot.operations.suggest import command_word
from bot.store.provisioning import Provisioning
from bot.ui import blocks as bk

#: The choices a form offers, as people type them (the params validators accept any case).
WAREHOUSE_CHOICES = tuple(w.lower() for w in WAREHOUSES)
DEPLOYMENT_CHOICES = tuple(d.lower() for d in DEPLOYMENT_TYPES)


def _enum(value: str, allowed: tuple[str, ...], what: str) -> str:
    try:
        return canonical(value, allowed, what)
    except UsageError:
        raise ValueError(f"use {' or '.join(a.lower() for a in allowed)}") from None


def project_line(p: MatillionProject) -> str:
    deployment = p.agent_deployment_type.replace("_", " ").lower()
    return f"*{p.name}* · {p.warehouse.capitalize() or '?'} · {deployment or '?'} · `{p.id}`"


# ---------------------------------------------------------------- list
@dataclass
class ProjectList:
    target: str
    projects: list[MatillionProject]


async def run_list(ctx: OpContext, params: MatillionParams) -> ProjectList:
    projects = await (await client_of(ctx)).list_projects()
    return ProjectList(target_name(ctx), sorted(projects, key=lambda p: p.name.casefold()))


def render_list(result: ProjectList, ctx: OpContext) -> Rendered:
    title = f"Matillion projects on {result.target} ({len(result.projects)})"
    blocks: list[dict[str, Any]] = [bk.header(title)]
    if not result.projects:
        blocks.append(bk.section(f"No projects yet. `/projects create {result.target} <name> snowflake` makes one."))
    blocks += line_sections([project_line(p) for p in result.projects])
    blocks.append(bk.context(f"`/projects show {result.target} <project>` for connections, environments and "
                             "repository."))
    return Rendered(text=title, blocks=bk.fit_message(blocks))


register(Operation(
    name="project.list", summary="list Matillion DPC projects", params=MatillionParams, risk=Risk.READ,
    run=run_list, render=render_list, kind=KIND, examples=("/projects list matillion",),
))


# ---------------------------------------------------------------- show
class ProjectParams(MatillionParams):
    project: str = Field(min_length=1, description="project name or id")


@dataclass
class ProjectDetail:
    target: str
    project: MatillionProject
    connections: list[DataPlatformConnection] | None
    environments: list[MatillionEnvironment] | None
    repositories: list[MatillionRepository] | None
    provisioning: Provisioning | None = None


async def project_detail(ctx: OpContext, ref: str) -> ProjectDetail:
    client = await client_of(ctx)
    project = await client.find_project(ref)
    connections, environments, repositories = await asyncio.gather(
        client.list_connections(project.id), client.list_environments(project.id),
        client.list_repositories(project.id), return_exceptions=True,
    )
    store = ctx.services.store.provisioning
    record = await asyncio.to_thread(store.for_project, target_name(ctx), project.id)
    return ProjectDetail(
        target_name(ctx), project,
        connections if isinstance(connections, list) else None,
        environments if isinstance(environments, list) else None,
        repositories if isinstance(repositories, list) else None,
        record,
    )


async def run_show(ctx: OpContext, params: ProjectParams) -> ProjectDetail:
    return await project_detail(ctx, params.project)


def _names(items: list[Any] | None, describe) -> str:
    if items is None:
        return "_could not read_"
    return ", ".join(describe(i) for i in items) or "none"


def render_show(d: ProjectDetail, ctx: OpContext) -> Rendered:
    p = d.project
    repo = _names(d.repositories, lambda r: f"`{r.repository_name}` ({r.provider or 'git'})")
    conns = _names(d.connections, lambda c: f"`{c.name}` ({c.auth_type.lower() or '?'})")
    envs = _names(d.environments, lambda e: f"`{e.name}` ({e.default_user_access_level})")
    blocks: list[dict[str, Any]] = [
        bk.header(p.name),
        bk.section(fields=[
            f"*Warehouse*\n{p.warehouse or '?'}",
            f"*Deployment*\n{p.agent_deployment_type or '?'}",
            f"*Connections*\n{conns}",
            f"*Environments*\n{envs}",
            f"*Repository*\n{repo}",
            f"*Created*\n{(p.created_at or '?')[:19].replace('T', ' ')}",
        ]),
    ]
    if p.description:
        blocks.insert(1, bk.section(bk.clip(p.description, 2900)))
    notes = [f"id `{p.id}`"]
    if d.provisioning is not None:
        rec = d.provisioning
        state = "finished" if rec.status == "succeeded" else f"{rec.status} at *{rec.failed_step or '?'}*"
        notes.append(f"provisioning `{rec.id}` {state}")
    blocks.append(bk.context(" · ".join(notes)))
    return Rendered(text=f"{p.name}: {p.warehouse} · {p.agent_deployment_type}", blocks=bk.fit_message(blocks))


register(Operation(
    name="project.show", summary="a Matillion project's connections, environments and repository",
    params=ProjectParams, risk=Risk.READ, run=run_show, render=render_show, kind=KIND,
    examples=("/projects show matillion analytics-dwh",),
))


# ---------------------------------------------------------------- create
class ProjectCreateParams(MatillionParams):
    name: str = Field(min_length=1, max_length=255, description="the new project's name")
    warehouse: str = Field(description="snowflake or redshift")
    description: str = Field(default="", max_length=1000)
    deployment_type: str = Field(default="HYBRID", description="hybrid or full_saas")

    _name = field_validator("name", mode="before")(slack_safe_name)

    @field_validator("warehouse")
    @classmethod
    def _warehouse(cls, value: str) -> str:
        return _enum(value, WAREHOUSES, "supported warehouse")

    @field_validator("deployment_type")
    @classmethod
    def _deployment(cls, value: str) -> str:
        return _enum(value, DEPLOYMENT_TYPES, "deployment type")


@dataclass
class Created:
    target: str
    project: MatillionProject


def create_hint(ctx: OpContext, name: str, error: BackendError) -> None:
    """What to do when a create was refused for its name, or made a project whose id the answer left out."""
    target = target_name(ctx)
    if error.reason == Reason.EXISTS:
        error.hint = f"Pick another name, or look at what already exists with `/projects show {target} " \
                     f"{command_word(name)}`."
    elif error.reason == Reason.NO_ID:
        error.hint = f"`/projects list {target}` should show it."


async def run_create(ctx: OpContext, params: ProjectCreateParams) -> Created:
    client = await client_of(ctx)
    try:
        project_id = await client.create_project(params.name, params.warehouse, params.deployment_type,
                                                 params.description)
    except BackendError as exc:
        create_hint(ctx, params.name, exc)
        raise
    project = MatillionProject(id=project_id, name=params.name, description=params.description or None,
                               warehouse=params.warehouse, agentDeploymentType=params.deployment_type)
    return Created(target_name(ctx), project)


def render_create(c: Created, ctx: OpContext) -> Rendered:
    text = f":white_check_mark: Created Matillion project *{c.project.name}* on `{c.target}`."
    return Rendered(text=text, blocks=[
        bk.section(text),
        bk.context(project_line(c.project).replace("*", "")),
        bk.context("Only Super Admins see it until its users are invited. It has no connection or environment "
                   "yet: the Provision modal sets up a whole project in one go."),
    ])


async def read_named(ctx: OpContext, params: Any) -> MatillionProject:
    """The project the request names (the new name for a create), as Matillion has it now."""
    name = params.name if isinstance(params, ProjectCreateParams) else params.project
    return await (await client_of(ctx)).find_project(name)


register(Operation(
    name="project.create", summary="create an empty Matillion project (Snowflake or Redshift)",
    idempotent=True, form="create", verify=exists(read_named),
    params=ProjectCreateParams, risk=Risk.WRITE, run=run_create, render=render_create, kind=KIND,
    positional=("name", "warehouse"),
    usage_text="/projects create <target> <name> <snowflake|redshift> [--description <text>] "
               "[--deployment-type hybrid|full_saas]",
    examples=("/projects create matillion sales-dwh snowflake", "/projects create matillion mkt redshift "
              "--description \"Marketing\""),
))


# ---------------------------------------------------------------- delete
async def preview_delete(ctx: OpContext, params: ProjectParams) -> Preview:
    d = await project_detail(ctx, params.project)
    parts = [f"*{d.project.name}* (`{d.project.id}`, {d.project.warehouse})"]
    for label, items, name in (
        ("connection", d.connections, lambda c: c.name), ("environment", d.environments, lambda e: e.name),
        ("repository link", d.repositories, lambda r: r.repository_name),
    ):
        if items:
            plural = "s" if len(items) != 1 and not label.endswith("link") else ""
            parts.append(f"{len(items)} {label}{plural}: " + ", ".join(f"`{name(i)}`" for i in items[:10]))
    return Preview("Deleting removes " + "; ".join(parts) + ". Matillion has no undo.")


async def run_delete(ctx: OpContext, params: ProjectParams) -> Created:
    client = await client_of(ctx)
    project = await client.find_project(params.project)  # re-read: act on what is there now
    await client.delete_project(project.id)
    return Created(target_name(ctx), project)


def render_delete(c: Created, ctx: OpContext) -> Rendered:
    text = f":wastebasket: Matillion project *{c.project.name}* (`{c.project.id}`) was deleted from `{c.target}`."
    return Rendered(text=text, blocks=[bk.section(text)])


register(Operation(
    name="project.delete", summary="delete a Matillion project with its environments", params=ProjectParams,
    typed_confirmation=True, verify=gone(read_named),
    risk=Risk.DESTRUCTIVE, run=run_delete, render=render_delete, kind=KIND, preview=preview_delete,
    examples=("/projects delete matillion old-sandbox",),
))
