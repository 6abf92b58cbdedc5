"""Arize Phoenix project operations: list, show, create, update (description), delete."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from bot.backends.phoenix import DEFAULT_PROJECT, UNSAFE_NAME_CHARS, PhoenixClient, PhoenixProject
from bot.errors import BackendError, Reason, UsageError
from bot.operations.base import Operation, Preview, Rendered, Risk
from bot.operations.context import OpContext
from bot.operations.outcome import exists, gone, holds
from bot.operations.registry import register
from bot.operations.rules import rule_error, slack_safe_name
from bot.operations.suggest import command_word
from bot.ui import blocks as bk
from bot.ui.paging import PageParams, command_text, paged_rows

KIND = "phoenix"


# ---------------------------------------------------------------- input rules (the one copy)
# Phoenix addresses a project by its name in the URL, so a name holding one of UNSAFE_NAME_CHARS (the back end's
# fact) could be created but never shown, changed or deleted by name. Every surface refuses through these.
NAME_HINT = "No /, ? or #."


def _without_unsafe(name: str) -> str:
    cleaned = "".join("-" if c in UNSAFE_NAME_CHARS else c for c in name.strip()).strip("-")
    return cleaned or "my-project"


def check_new_name(name: str) -> str:
    """A name for a new Phoenix project, or a rule error saying what is wrong and what to type."""
    if not name.strip():
        raise rule_error("A Phoenix project name cannot be empty: give one such as `chatbot-prod`.")
    slack_safe_name(name)
    bad = sorted({c for c in name if c in UNSAFE_NAME_CHARS})
    if bad:
        shown = " ".join(f"`{c}`" for c in bad)
        raise rule_error(f"Phoenix project names cannot contain {shown}: Phoenix uses the name in its URLs. "
                         f"Pick a name without /, ? or #, e.g. `{_without_unsafe(name)}`.")
    if name != name.strip():
        raise rule_error(f"A Phoenix project name cannot start or end with a space: use `{name.strip()}`.")
    return name


def check_reference(ref: str) -> str:
    """A name or id that addresses an existing Phoenix project, or a rule error."""
    if not ref.strip():
        raise rule_error("Name the Phoenix project, or give its id.")
    if any(c in UNSAFE_NAME_CHARS for c in ref):
        raise rule_error(f"`{ref}` cannot be used to address a Phoenix project: `/`, `?` and `#` break its URL. "
                         "Use the project's id instead (the Phoenix project list shows it).")
    return ref


class _Params(BaseModel):
    model_config = ConfigDict(extra="forbid")

    @field_validator("project", check_fields=False)
    @classmethod
    def _reference(cls, value: str) -> str:
        return check_reference(value)


async def client_of(ctx: OpContext) -> PhoenixClient:
    client = await ctx.client()
    assert isinstance(client, PhoenixClient)
    return client


def target_name(ctx: OpContext) -> str:
    return ctx.target.name if ctx.target else KIND


def describe(project: PhoenixProject) -> str:
    return bk.clip(project.description, 120) if project.description else "_no description_"


# ---------------------------------------------------------------- list
class ListParams(_Params, PageParams):
    name_contains: str | None = Field(default=None, description="only names containing this (any case)")


@dataclass
class PhoenixListing:
    target: str
    projects: list[PhoenixProject]
    name_contains: str | None = None
    page: int = 1
    command: str = ""


async def run_list(ctx: OpContext, params: ListParams) -> PhoenixListing:
    projects = await (await client_of(ctx)).list_projects(name_contains=params.name_contains)
    target = target_name(ctx)
    return PhoenixListing(target, projects, params.name_contains, params.page, command_text("list", target, params))


def render_list(result: PhoenixListing, ctx: OpContext) -> Rendered:
    title = f"Phoenix projects on {result.target} ({len(result.projects)})"
    filtered = f"Names containing `{result.name_contains}`" if result.name_contains else ""
    rows = [(p.name, f"*{p.name}* — {describe(p)} · `{p.id}`") for p in result.projects]
    blocks = bk.listing(title, paged_rows(rows, result.page, result.command, result.target),
                        f"`/projects show {result.target} <project>` for details.", filtered=filtered)
    return Rendered(text=title, blocks=blocks)


register(Operation(
    name="project.list", summary="list Phoenix projects", params=ListParams, risk=Risk.READ,
    run=run_list, render=render_list, kind=KIND,
    examples=("/projects list phoenix", "/projects list phoenix --name-contains chat"),
))


# ---------------------------------------------------------------- show
class ShowParams(_Params):
    project: str = Field(description="project name or id")


@dataclass
class PhoenixProjectView:
    target: str
    project: PhoenixProject
    headline: str = ""


async def run_show(ctx: OpContext, params: ShowParams) -> PhoenixProjectView:
    return PhoenixProjectView(target_name(ctx), await (await client_of(ctx)).get_project(params.project))


def project_blocks(view: PhoenixProjectView) -> list[dict[str, Any]]:
    p = view.project
    blocks: list[dict[str, Any]] = []
    if view.headline:
        blocks.append(bk.section(view.headline))
    blocks.append(bk.section(fields=[
        f"*Project*\n{p.name}", f"*Id*\n`{p.id}`", f"*Description*\n{describe(p)}", f"*Target*\n{view.target}",
    ]))
    return blocks


def render_show(view: PhoenixProjectView, ctx: OpContext) -> Rendered:
    blocks = project_blocks(view)
    if view.project.name != "default":
        blocks.append(bk.context(
            f"Change: `/projects update {view.target} {view.project.name} --description \"...\"` · "
            f"delete: `/projects delete {view.target} {view.project.name} --id {view.project.id}`"
        ))
    return Rendered(text=f"Phoenix project {view.project.name}", blocks=blocks)


register(Operation(
    name="project.show", summary="show one Phoenix project", params=ShowParams, risk=Risk.READ,
    run=run_show, render=render_show, kind=KIND,
    examples=("/projects show phoenix chatbot-prod", "/projects show phoenix UHJvamVjdDoy"),
))


# ---------------------------------------------------------------- create
class CreateParams(_Params):
    name: str = Field(description="new project name (no / ? #)")
    description: str | None = Field(default=None, description="what the project is for")

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        return check_new_name(value)


async def run_create(ctx: OpContext, params: CreateParams) -> PhoenixProjectView:
    try:
        project = await (await client_of(ctx)).create_project(params.name, params.description)
    except BackendError as exc:
        if exc.reason == Reason.MAYBE_EXISTS:
            exc.hint = (f"Check with `/projects show {target_name(ctx)} {command_word(params.name)}`; "
                        "if it is not there, try again in a minute.")
        raise
    headline = f":white_check_mark: Created Phoenix project *{project.name}*."
    return PhoenixProjectView(target_name(ctx), project, headline)


def render_changed(view: PhoenixProjectView, ctx: OpContext) -> Rendered:
    return Rendered(text=view.headline.replace("*", ""), blocks=project_blocks(view))


async def read_named(ctx: OpContext, params: Any) -> PhoenixProject:
    """The project the request names, by name (an id may belong to another project after a delete)."""
    name = params.name if isinstance(params, CreateParams) else params.project
    return await (await client_of(ctx)).get_project(name)


register(Operation(
    name="project.create", summary="create a Phoenix project", params=CreateParams, risk=Risk.WRITE,
    idempotent=True, form="create", verify=exists(read_named),
    run=run_create, render=render_changed, kind=KIND,
    examples=('/projects create phoenix my-proj --description "Support bot traces"',),
))


# ---------------------------------------------------------------- update
class UpdateParams(_Params):
    project: str = Field(description="project name or id")
    description: str = Field(description="the new description (Phoenix names cannot change)")


async def run_update(ctx: OpContext, params: UpdateParams) -> PhoenixProjectView:
    project = await (await client_of(ctx)).update_project(params.project, params.description)
    return PhoenixProjectView(target_name(ctx), project, f":pencil2: Updated Phoenix project *{project.name}*.")


def _described(project: PhoenixProject, params: UpdateParams) -> tuple[bool, str]:
    if (project.description or "") == params.description:
        return True, "has the new description"
    return False, "still has its old description"


register(Operation(
    name="project.update", summary="change a Phoenix project's description", params=UpdateParams,
    verify=holds(read_named, _described),
    risk=Risk.WRITE, run=run_update, render=render_changed, kind=KIND, positional=("project",),
    examples=('/projects update phoenix rag-eval --description "Nightly RAG evaluations"',),
))


# ---------------------------------------------------------------- delete
class DeleteParams(_Params):
    project: str = Field(description="project name")
    id: str | None = Field(default=None, description="its id, checked before deleting (ids are reused)")


async def _expected(client: PhoenixClient, params: DeleteParams) -> tuple[str, str]:
    """(id, name) to delete. An id alone is not enough: Phoenix hands freed ids to new projects."""
    if params.id:
        return params.id, params.project
    project = await client.get_project(params.project)
    if project.name != params.project:
        raise UsageError(
            "Name the Phoenix project to delete, not only its id: Phoenix reuses ids after deletes, "
            "so an id alone could point at another project by the time you confirm.",
            f"Type `/projects delete phoenix {project.name} --id {project.id}` if `{project.name}` is the one.",
        )
    return project.id, project.name


async def run_delete(ctx: OpContext, params: DeleteParams) -> PhoenixProjectView:
    client = await client_of(ctx)
    expected_id, expected_name = await _expected(client, params)
    try:
        deleted = await client.delete_project(expected_id, expected_name)
    except BackendError as exc:
        if exc.reason == Reason.ID_REUSED:
            exc.hint = (f"Check with `/projects show {target_name(ctx)} {command_word(expected_name)}` and ask again "
                        "if it still exists.")
        raise
    return PhoenixProjectView(target_name(ctx), deleted,
                              f":wastebasket: Deleted Phoenix project *{deleted.name}* and all its traces.")


async def preview_delete(ctx: OpContext, params: DeleteParams) -> Preview:
    client = await client_of(ctx)
    expected_id, expected_name = await _expected(client, params)
    current = await client.get_project(expected_id)
    if current.name == DEFAULT_PROJECT:
        return Preview(blocked="Phoenix never deletes its `default` project.",
                       hint="Delete the traces you no longer need in Phoenix itself.")
    if current.name != expected_name:
        return Preview(blocked=f"Id `{expected_id}` now belongs to *{current.name}*, not *{expected_name}*.",
                       hint=f"Check with `/projects show {target_name(ctx)} {command_word(expected_name)}` and ask "
                            "again if it still exists.")
    return Preview(f"This deletes Phoenix project *{current.name}* (`{current.id}`) with all its traces, spans and "
                   "evaluations. It cannot be undone.")


register(Operation(
    name="project.delete", summary="delete a Phoenix project and all its traces", params=DeleteParams,
    typed_confirmation=True, verify=gone(read_named),
    risk=Risk.DESTRUCTIVE, run=run_delete, render=render_changed, kind=KIND, preview=preview_delete,
    examples=("/projects delete phoenix rag-eval", "/projects delete phoenix rag-eval --id UHJvamVjdDoz"),
))
