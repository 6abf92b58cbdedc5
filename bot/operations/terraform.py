"""HCP Terraform project operations: list, show, create, update, delete, move-workspaces, workspaces."""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from bot.backends.terraform import MovedWorkspaces, TerraformClient, TerraformProject, TerraformWorkspace
from bot.backends.terraform.client import UNSET
from bot.errors import BackendError, NotFoundError, Reason, UsageError
from bot.operations.base import Operation, Preview, Rendered, Risk
from bot.operations.context import OpContext
from bot.operations.outcome import exists, gone, holds
from bot.operations.registry import register
from bot.operations.rules import rule_error, slack_safe_name
from bot.ui import blocks as bk
from bot.ui.paging import PageParams, command_text, paged_rows

KIND = "terraform"
MAX_LINES = 200
MAX_WORKSPACES_SHOWN = 25
OFF = ("none", "off", "never")

# ---------------------------------------------------------------- input rules (the one copy)
# HCP Terraform's documented rules; the typed command, the create and edit forms and the assistant all refuse
# through these validators, with these words, before any call.
NAME_MIN, NAME_MAX, DESCRIPTION_MAX = 3, 40, 256
NAME_CHARS = re.compile(r"[A-Za-z0-9 _-]+")
NAME_RULE = f"Use {NAME_MIN} to {NAME_MAX} letters, digits, spaces, - or _ (no space at either end)."
NAME_HINT = f"{NAME_MIN}-{NAME_MAX} letters, digits, spaces, - or _"  # the short form, for forms and help
DURATION = re.compile(r"[1-9][0-9]{0,3}[dh]")
DURATION_RULE = "Use 1 to 4 digits and d (days) or h (hours), e.g. 14d or 24h; none turns it off."


def check_name(name: str) -> str:
    """An HCP Terraform project name, or a rule error saying what is wrong with it and what to type."""
    slack_safe_name(name)
    problems = []
    if len(name) < NAME_MIN:
        problems.append(f"it is shorter than {NAME_MIN} characters")
    if len(name) > NAME_MAX:
        problems.append(f"it is longer than {NAME_MAX} characters ({len(name)})")
    if name and not NAME_CHARS.fullmatch(name):
        bad = "".join(sorted({c for c in name if not NAME_CHARS.fullmatch(c)}))
        problems.append(f"it contains `{bad}`")
    if name != name.strip(" "):
        problems.append("it starts or ends with a space")
    if problems:
        shown = f"`{name}`" if name.strip() and len(name) <= NAME_MAX else "That"
        raise rule_error(f"{shown} is not a valid HCP Terraform project name: {'; '.join(problems)}. {NAME_RULE}")
    return name


def check_description(description: str | None) -> str | None:
    if description is not None and len(description) > DESCRIPTION_MAX:
        raise rule_error(f"The description is {len(description)} characters; HCP Terraform allows at most "
                         f"{DESCRIPTION_MAX}.")
    return description


def check_duration(duration: str | None) -> str | None:
    if duration is not None and duration.strip().lower() not in OFF and not DURATION.fullmatch(duration.strip()):
        raise rule_error(f"`{duration}` is not an auto-destroy duration. {DURATION_RULE}")
    return duration


class _Params(BaseModel):
    model_config = ConfigDict(extra="forbid")


async def client_of(ctx: OpContext) -> TerraformClient:
    client = await ctx.client()
    assert isinstance(client, TerraformClient)
    return client


def target_name(ctx: OpContext) -> str:
    return ctx.target.name if ctx.target else KIND


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


def project_line(p: TerraformProject) -> str:
    parts = [f"• *{p.name}*"]
    if p.workspace_count is not None:
        parts.append(_plural(p.workspace_count, "workspace"))
    if p.auto_destroy_activity_duration:
        parts.append(f"auto-destroy {p.auto_destroy_activity_duration}")
    if p.description:
        parts.append(bk.clip(p.description, 90))
    return " · ".join(parts) + f" · `{p.id}`"


def workspace_line(w: TerraformWorkspace) -> str:
    parts = [f"• *{w.name}*"]
    if w.resource_count is not None:
        parts.append(_plural(w.resource_count, "resource"))
    if w.execution_mode:
        parts.append(w.execution_mode)
    if w.locked:
        parts.append(":lock: locked")
    return " · ".join(parts) + f" · `{w.id}`"


def _duration(value: str | None) -> str | None:
    return None if value is None or value.strip().lower() in OFF else value.strip()


# ---------------------------------------------------------------- list
class ListParams(_Params, PageParams):
    search: str | None = Field(default=None, description="names containing this (any case)")
    names: list[str] = Field(default_factory=list, description="exact names; repeat or separate with commas")
    sort: Literal["name", "-name"] | None = Field(default=None, description="name or -name")

    @field_validator("names")
    @classmethod
    def _split(cls, value: list[str]) -> list[str]:
        return [n.strip() for item in value for n in item.split(",") if n.strip()]


@dataclass
class TerraformListing:
    target: str
    organization: str
    projects: list[TerraformProject]
    filters: dict[str, str] = field(default_factory=dict)
    page: int = 1
    command: str = ""


async def run_list(ctx: OpContext, params: ListParams) -> TerraformListing:
    client = await client_of(ctx)
    projects = await client.list_projects(search=params.search, names=params.names, sort=params.sort)
    filters = {k: (", ".join(v) if isinstance(v, list) else str(v))
               for k, v in params.model_dump(exclude={"page"}).items() if v}
    target = target_name(ctx)
    return TerraformListing(target, client.organization, projects, filters, params.page,
                            command_text("list", target, params))


def render_list(result: TerraformListing, ctx: OpContext) -> Rendered:
    title = f"HCP Terraform projects in {result.organization} ({len(result.projects)})"
    filtered = ", ".join(f"{k} `{v}`" for k, v in result.filters.items())
    rows = [(p.name, project_line(p).removeprefix("• ")) for p in result.projects]
    blocks = bk.listing(title, paged_rows(rows, result.page, result.command, result.target),
                        f"`/projects show {result.target} <project>` for details and workspaces.",
                        filtered=f"Filtered by {filtered}" if filtered else "")
    return Rendered(text=title, blocks=blocks)


register(Operation(
    name="project.list", summary="list HCP Terraform projects", params=ListParams, risk=Risk.READ,
    run=run_list, render=render_list, kind=KIND,
    examples=("/projects list terraform", "/projects list terraform --search core --sort -name"),
))


# ---------------------------------------------------------------- show
class ProjectParams(_Params):
    project: str = Field(description="project name or id (prj-…)")


@dataclass
class TerraformProjectView:
    target: str
    project: TerraformProject
    workspaces: list[TerraformWorkspace] | None = None
    headline: str = ""


async def run_show(ctx: OpContext, params: ProjectParams) -> TerraformProjectView:
    client = await client_of(ctx)
    project = await client.get_project(params.project)
    return TerraformProjectView(target_name(ctx), project, await client.list_workspaces(project.id))


def project_blocks(view: TerraformProjectView) -> list[dict[str, Any]]:
    p = view.project
    blocks: list[dict[str, Any]] = []
    if view.headline:
        blocks.append(bk.section(view.headline))
    count = len(view.workspaces) if view.workspaces is not None else p.workspace_count
    fields = [
        f"*Project*\n{p.name}",
        f"*Id*\n`{p.id}`",
        f"*Workspaces*\n{count if count is not None else '?'}",
        f"*Auto-destroy*\n{p.auto_destroy_activity_duration or 'off'}",
    ]
    if p.default_execution_mode:
        fields.append(f"*Execution mode*\n{p.default_execution_mode}")
    if p.created_at:
        fields.append(f"*Created*\n{p.created_at[:10]}")
    fields.append(f"*Description*\n{bk.clip(p.description, 500) if p.description else '_none_'}")
    blocks.append(bk.section(fields=fields))
    return blocks


def render_show(view: TerraformProjectView, ctx: OpContext) -> Rendered:
    blocks = project_blocks(view)
    workspaces = view.workspaces or []
    if workspaces:
        lines = [workspace_line(w) for w in workspaces[:MAX_WORKSPACES_SHOWN]]
        if len(workspaces) > MAX_WORKSPACES_SHOWN:
            lines.append(f"…and {len(workspaces) - MAX_WORKSPACES_SHOWN} more: "
                         f"`/projects workspaces {view.target} {view.project.id}`")
        blocks += bk.line_sections(["*Workspaces*", *lines])
    return Rendered(text=f"HCP Terraform project {view.project.name}", blocks=bk.fit_message(blocks))


register(Operation(
    name="project.show", summary="show an HCP Terraform project and its workspaces", params=ProjectParams,
    risk=Risk.READ, run=run_show, render=render_show, kind=KIND,
    examples=("/projects show terraform platform-core", "/projects show terraform prj-0sMkZ9o1CR5IdoEc"),
))


# ---------------------------------------------------------------- create
class _ProjectRules(_Params):
    """The rules of a project's name, description and auto-destroy duration, for create and update alike."""

    @field_validator("name", mode="before", check_fields=False)
    @classmethod
    def _name(cls, value: Any) -> Any:
        return check_name(value) if isinstance(value, str) else value

    @field_validator("description", mode="before", check_fields=False)
    @classmethod
    def _description(cls, value: Any) -> Any:
        return check_description(value) if isinstance(value, str) else value

    @field_validator("auto_destroy", check_fields=False)
    @classmethod
    def _auto_destroy(cls, value: str | None) -> str | None:
        return check_duration(value)


class CreateParams(_ProjectRules):
    name: str = Field(max_length=NAME_MAX, description=NAME_HINT)
    description: str | None = Field(default=None, max_length=DESCRIPTION_MAX,
                                    description=f"up to {DESCRIPTION_MAX} characters")
    auto_destroy: str | None = Field(default=None, description="destroy idle workspaces after e.g. 14d or 24h")


async def run_create(ctx: OpContext, params: CreateParams) -> TerraformProjectView:
    project = await (await client_of(ctx)).create_project(params.name, params.description,
                                                           _duration(params.auto_destroy))
    return TerraformProjectView(target_name(ctx), project,
                                headline=f":white_check_mark: Created HCP Terraform project *{project.name}*.")


def render_changed(view: TerraformProjectView, ctx: OpContext) -> Rendered:
    return Rendered(text=view.headline.replace("*", ""), blocks=project_blocks(view))


async def read_named(ctx: OpContext, params: Any) -> TerraformProject:
    """The project the request names (the new name for a create) as HCP Terraform has it now."""
    name = params.name if isinstance(params, CreateParams) else params.project
    return await (await client_of(ctx)).get_project(name)


register(Operation(
    name="project.create", summary="create an HCP Terraform project", params=CreateParams, risk=Risk.WRITE,
    idempotent=True, form="create", verify=exists(read_named),
    run=run_create, render=render_changed, kind=KIND,
    examples=('/projects create terraform team-blue --description "Blue team" --auto-destroy 14d',),
))


# ---------------------------------------------------------------- update
class UpdateParams(_ProjectRules):
    project: str = Field(description="project name or id")
    name: str | None = Field(default=None, max_length=NAME_MAX, description="a new name")
    description: str | None = Field(default=None, max_length=DESCRIPTION_MAX, description="a new description")
    auto_destroy: str | None = Field(default=None, description="e.g. 14d or 24h; `none` turns it off")


async def run_update(ctx: OpContext, params: UpdateParams) -> TerraformProjectView:
    changes: dict[str, Any] = {}
    if params.name is not None:
        changes["name"] = params.name
    if params.description is not None:
        changes["description"] = params.description
    if params.auto_destroy is not None:
        changes["auto_destroy_activity_duration"] = _duration(params.auto_destroy)
    if not changes:
        raise UsageError("Nothing to change.", "Give `--name`, `--description` or `--auto-destroy`.")
    project = await (await client_of(ctx)).update_project(params.project, **{
        "name": changes.get("name", UNSET),
        "description": changes.get("description", UNSET),
        "auto_destroy_activity_duration": changes.get("auto_destroy_activity_duration", UNSET),
    })
    return TerraformProjectView(target_name(ctx), project,
                                headline=f":pencil2: Updated HCP Terraform project *{project.name}*.")


async def read_updated(ctx: OpContext, params: UpdateParams) -> TerraformProject | None:
    """The project under its new name when the update renames it (None when no project has that name yet), else
    under the name it had."""
    client = await client_of(ctx)
    if params.name is None or params.project.startswith("prj-"):
        return await client.get_project(params.project)
    try:
        return await client.get_project(params.name)
    except NotFoundError:
        return None


def _updated(project: TerraformProject | None, params: UpdateParams) -> tuple[bool, str]:
    if project is None:
        return False, "still has its old name"
    wanted = {"name": (params.name, project.name), "description": (params.description, project.description),
              "auto-destroy": (_duration(params.auto_destroy) if params.auto_destroy is not None else None,
                               project.auto_destroy_activity_duration)}
    differs = [what for what, (want, have) in wanted.items() if want is not None and want != (have or "")]
    if params.auto_destroy is not None and _duration(params.auto_destroy) is None \
            and project.auto_destroy_activity_duration:
        differs.append("auto-destroy")
    if differs:
        return False, "still has its old " + " and ".join(differs)
    return True, "shows the new values"


register(Operation(
    name="project.update", summary="rename or change an HCP Terraform project", params=UpdateParams,
    verify=holds(read_updated, _updated),
    risk=Risk.WRITE, run=run_update, render=render_changed, kind=KIND, positional=("project",),
    examples=("/projects update terraform ml-experiments --auto-destroy 7d",
              '/projects update terraform team-blue --name "team blue" --description "Blue team"'),
))


# ---------------------------------------------------------------- delete
async def run_delete(ctx: OpContext, params: ProjectParams) -> TerraformProjectView:
    try:
        deleted = await (await client_of(ctx)).delete_project(params.project)
    except BackendError as exc:
        if exc.reason == Reason.NOT_EMPTY:
            exc.hint = (f"Move them out first with `/projects move-workspaces {target_name(ctx)} <other-project> "
                        "<workspace>...`, or delete them in HCP Terraform.")
        raise
    return TerraformProjectView(target_name(ctx), deleted, [],
                                headline=f":wastebasket: Deleted HCP Terraform project *{deleted.name}*.")


async def preview_delete(ctx: OpContext, params: ProjectParams) -> Preview:
    client = await client_of(ctx)
    project = await client.get_project(params.project)
    workspaces = await client.list_workspaces(project.id)
    if workspaces:
        names = ", ".join(f"`{w.name}`" for w in workspaces[:10]) + (" …" if len(workspaces) > 10 else "")
        return Preview(blocked=f"*{project.name}* (`{project.id}`) holds {_plural(len(workspaces), 'workspace')}: "
                               f"{names}. HCP Terraform will refuse to delete it.",
                       hint=f"Move them out first with `/projects move-workspaces {target_name(ctx)} <other-project> "
                            "<workspace>...`, or delete them in HCP Terraform.")
    return Preview(f"This deletes the empty HCP Terraform project *{project.name}* (`{project.id}`).")


register(Operation(
    name="project.delete", summary="delete an empty HCP Terraform project", params=ProjectParams,
    typed_confirmation=True, verify=gone(read_named),
    risk=Risk.DESTRUCTIVE, run=run_delete, render=render_changed, kind=KIND, preview=preview_delete,
    examples=("/projects delete terraform sandbox-playground",),
))


# ---------------------------------------------------------------- move-workspaces
MOVE_USAGE = "/projects move-workspaces <target> <project> <workspace> [<workspace>...]"


class MoveParams(_Params):
    project: str = Field(description="destination project, name or id")
    workspaces: list[str] = Field(min_length=1, description="workspace names or ids (ws-…)")


def parse_move_args(args: list[str]) -> dict[str, Any]:
    if any(a.startswith("--") for a in args):
        raise UsageError("`move-workspaces` takes no options.", usage=MOVE_USAGE)
    if len(args) < 2:
        raise UsageError("Name the destination project and at least one workspace.", usage=MOVE_USAGE)
    return {"project": args[0], "workspaces": args[1:]}


async def run_move(ctx: OpContext, params: MoveParams) -> MovedWorkspaces:
    return await (await client_of(ctx)).move_workspaces(params.project, params.workspaces)


async def preview_move(ctx: OpContext, params: MoveParams) -> Preview:
    client = await client_of(ctx)
    destination = await client.get_project(params.project)
    found = await asyncio.gather(*(client.get_workspace(w) for w in params.workspaces), return_exceptions=True)
    missing = [ref for ref, item in zip(params.workspaces, found, strict=True) if isinstance(item, NotFoundError)]
    sources = {item.project_id for item in found if isinstance(item, TerraformWorkspace)}
    names = {}
    for project_id in sources - {None, destination.id}:
        try:
            names[project_id] = (await client.get_project(project_id)).name
        except NotFoundError:
            names[project_id] = project_id
    lines = [f"Moves into *{destination.name}* (`{destination.id}`):"]
    for item in found:
        if isinstance(item, TerraformWorkspace):
            origin = "already there" if item.project_id == destination.id else f"from *{names.get(item.project_id)}*"
            lines.append(f"• `{item.name}` {origin} · {_plural(item.resource_count or 0, 'resource')}")
    lines.append("Runs in these workspaces will use the destination project's settings, teams and variable sets.")
    text = bk.clip("\n".join(lines), bk.SECTION_TEXT_MAX)
    if missing:
        return Preview(text=text, blocked=bk.clip(
            f"Not found: {', '.join(f'`{m}`' for m in missing)}. The move is all or nothing, so nothing would move.",
            bk.SECTION_TEXT_MAX // 2),
            hint=f"`/projects workspaces {target_name(ctx)}` lists the workspaces; leave out the missing ones.")
    if all(isinstance(item, TerraformWorkspace) and item.project_id == destination.id for item in found):
        return Preview(text=text, nothing_to_do=f"Every workspace named is already in *{destination.name}*; "
                                                "there is nothing to move.")
    return Preview(text)


def render_move(result: MovedWorkspaces, ctx: OpContext) -> Rendered:
    headline = (f":truck: Moved {_plural(len(result.workspaces), 'workspace')} into HCP Terraform project "
                f"*{result.project.name}*.")
    lines = [headline, *(workspace_line(w) for w in result.workspaces[:MAX_LINES])]
    return Rendered(text=headline.replace("*", ""), blocks=bk.fit_message(bk.line_sections(lines)))


async def read_moved(ctx: OpContext, params: MoveParams) -> tuple[TerraformProject, list[TerraformWorkspace]]:
    client = await client_of(ctx)
    destination = await client.get_project(params.project)
    return destination, list(await asyncio.gather(*(client.get_workspace(w) for w in params.workspaces)))


def _moved(found: tuple[TerraformProject, list[TerraformWorkspace]], params: MoveParams) -> tuple[bool, str]:
    destination, workspaces = found
    outside = [w.name for w in workspaces if w.project_id != destination.id]
    if outside:
        return False, "does not hold " + ", ".join(f"`{n}`" for n in outside[:10])
    return True, "holds them all"


register(Operation(
    name="project.move-workspaces", summary="move workspaces into an HCP Terraform project (all or nothing)",
    verify=holds(read_moved, _moved, action="move"),
    params=MoveParams, risk=Risk.DESTRUCTIVE, run=run_move, render=render_move, kind=KIND,
    parse_args=parse_move_args, usage_text=MOVE_USAGE, preview=preview_move, reversible_by="move-workspaces",
    examples=("/projects move-workspaces terraform sandbox-playground scratch legacy-monolith",),
))


# ---------------------------------------------------------------- workspaces
class WorkspacesParams(_Params):
    project: str | None = Field(default=None, description="project name or id; all workspaces when omitted")


@dataclass
class WorkspaceListing:
    target: str
    organization: str
    project: TerraformProject | None
    workspaces: list[TerraformWorkspace]


async def run_workspaces(ctx: OpContext, params: WorkspacesParams) -> WorkspaceListing:
    client = await client_of(ctx)
    project = await client.get_project(params.project) if params.project else None
    workspaces = await client.list_workspaces(project.id if project else None)
    return WorkspaceListing(target_name(ctx), client.organization, project, workspaces)


def render_workspaces(result: WorkspaceListing, ctx: OpContext) -> Rendered:
    where = f"project {result.project.name}" if result.project else result.organization
    title = f"Workspaces in {where} ({len(result.workspaces)})"
    blocks: list[dict[str, Any]] = [bk.header(title)]
    if not result.workspaces:
        blocks.append(bk.section("No workspaces."))
    blocks += bk.line_sections([workspace_line(w) for w in result.workspaces[:MAX_LINES]])
    if len(result.workspaces) > MAX_LINES:
        blocks.append(bk.context(f"Showing {MAX_LINES} of {len(result.workspaces)}."))
    return Rendered(text=title, blocks=bk.fit_message(blocks))


register(Operation(
    name="project.workspaces", summary="list HCP Terraform workspaces, of one project or all",
    params=WorkspacesParams, risk=Risk.READ, run=run_workspaces, render=render_workspaces, kind=KIND,
    positional=("project",),
    examples=("/projects workspaces terraform platform-core", "/projects workspaces terraform"),
))
