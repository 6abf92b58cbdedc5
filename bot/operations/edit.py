"""`edit <target> <project>`: the operation behind the edit form.

Its run reads the project through the kind's own `project.show` and returns the editable values; surfaces
open the edit form with them (`opens_form`), and the form's submission runs `project.update`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from bot.errors import UsageError
from bot.operations.base import Operation, Rendered, Risk
from bot.operations.context import OpContext
from bot.operations.registry import register

#: Back ends whose projects can be edited (each has `project.show` and `project.update`).
EDITABLE_KINDS = ("polaris", "phoenix", "terraform")
DESCRIPTION_MAX = 1000


class EditParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    project: str = Field(min_length=1, description="the project to edit")


@dataclass
class EditForm:
    """What the edit form opens with: the project's name and its editable fields' current values."""

    kind: str
    target: str
    project: str
    current: dict[str, Any] = field(default_factory=dict)


def current_values(kind: str, project: Any) -> dict[str, Any]:
    """The editable fields of a project as its `project.show` returned it."""
    if kind == "polaris":
        spec = project.spec
        return {"plan": spec.plan, "deletion_protection": spec.deletion_protection,
                "stop_protection": spec.stop_protection}
    if kind == "terraform":
        return {"name": project.name, "description": project.description,
                "auto_destroy": project.auto_destroy_activity_duration}
    description = getattr(project, "description", None) or ""
    return {"description": description[:DESCRIPTION_MAX] or None}


def _read_current(kind: str):  # noqa: ANN202 - a Runner
    async def run(ctx: OpContext, params: EditParams) -> EditForm:
        show = ctx.services.registry.get("project.show", kind)
        if show is None or ctx.target is None:
            raise UsageError(f"Projects on {kind} targets cannot be edited from Slack.")
        shown = await show.run(ctx, show.params.model_validate({"project": params.project}))
        project = getattr(shown, "project", None)
        if project is None:
            raise UsageError(f"I could not read `{params.project}` to edit it.")
        return EditForm(kind=kind, target=ctx.target.name, project=getattr(project, "name", params.project),
                        current=current_values(kind, project))

    return run


def _render(value: EditForm, ctx: OpContext) -> Rendered:
    return Rendered(text=f"Edit {value.project} on {value.target} in the form.")


for _kind in EDITABLE_KINDS:
    register(Operation(
        name="project.edit", summary="change a project in a form filled with its current values",
        params=EditParams, risk=Risk.WRITE, run=_read_current(_kind), render=_render, kind=_kind,
        form="edit", opens_form=True, examples=(f"/projects edit {_kind} <project>",),
    ))
