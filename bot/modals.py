"""Modal builders for create and edit, per back-end kind, and their validation on submit.

The rules are the params models' (`bot.operations.rules`): a submitted form is validated by the operation's params
model and each problem is shown on its field in the model's own words, the same a typed command shows. The form's
limits (choices, lengths, hints) are read from the same modules, never written here a second time.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ValidationError

from bot.operations import phoenix, terraform
from bot.operations import rules as params_rules
from bot.operations.matillion.projects import DEPLOYMENT_CHOICES, WAREHOUSE_CHOICES
from bot.operations.matillion.projects import ProjectCreateParams as MatillionCreate
from bot.operations.polaris.projects import REGIONS as POLARIS_REGIONS
from bot.operations.polaris.projects import ProjectCreateParams as PolarisCreate
from bot.ui import blocks as bk
from bot.ui.ids import (
    CREATE_CALLBACK,
    EDIT_CALLBACK,
    EDIT_PICK_CALLBACK,
    PICK_PROJECT_ACTION,
    PICK_TARGET_ACTION,
    TARGET_ACTION,
    TARGET_BLOCK,
)

VALUE = "value"  # action_id of every form field
#: Longest field error shown (a rule's sentence fits; Slack shows it under the field).
ERROR_MAX = 300


@dataclass(frozen=True)
class Field:
    """One modal input; its block_id is the params field it fills."""

    name: str
    label: str
    kind: str = "text"  # text | multiline | select | toggle
    optional: bool = False
    choices: tuple[str, ...] = ()
    hint: str = ""
    max_length: int | None = None


CREATE_FIELDS: dict[str, tuple[Field, ...]] = {
    "polaris": (
        Field("name", "Project name", max_length=params_rules.max_length(PolarisCreate, "name")),
        Field("plan", "Plan", hint="e.g. starter, a.01, a.02"),
        Field("region", "Region", "select", optional=True, choices=POLARIS_REGIONS),
    ),
    "phoenix": (
        Field("name", "Project name", hint=phoenix.NAME_HINT),
        Field("description", "Description", "multiline", optional=True),
    ),
    "terraform": (
        Field("name", "Project name", hint=terraform.NAME_HINT,
              max_length=params_rules.max_length(terraform.CreateParams, "name")),
        Field("description", "Description", "multiline", optional=True,
              max_length=params_rules.max_length(terraform.CreateParams, "description")),
        Field("auto_destroy", "Auto-destroy idle workspaces after", optional=True, hint="e.g. 14d or 24h"),
    ),
    "matillion": (
        Field("name", "Project name", max_length=params_rules.max_length(MatillionCreate, "name")),
        Field("warehouse", "Warehouse", "select", choices=WAREHOUSE_CHOICES),
        Field("deployment_type", "Deployment type", "select", choices=DEPLOYMENT_CHOICES),
        Field("description", "Description", "multiline", optional=True,
              max_length=params_rules.max_length(MatillionCreate, "description")),
    ),
}

EDIT_FIELDS: dict[str, tuple[Field, ...]] = {
    "polaris": (
        Field("plan", "Plan", hint="e.g. starter, a.01, a.02"),
        Field("deletion_protection", "Deletion protection", "toggle"),
        Field("stop_protection", "Stop protection", "toggle"),
    ),
    "phoenix": (Field("description", "Description", "multiline", optional=True),),
    "terraform": (
        Field("name", "Name", hint=terraform.NAME_HINT,
              max_length=params_rules.max_length(terraform.UpdateParams, "name")),
        Field("description", "Description", "multiline", optional=True,
              max_length=params_rules.max_length(terraform.UpdateParams, "description")),
        Field("auto_destroy", "Auto-destroy idle workspaces after", optional=True, hint="e.g. 14d, 24h or none"),
    ),
}


def option(value: str, text: str | None = None) -> dict[str, Any]:
    return {"text": bk.plain(text or value, 75), "value": value}


def _element(f: Field, initial: Any) -> dict[str, Any]:
    if f.kind in ("select", "toggle"):
        choices = ("on", "off") if f.kind == "toggle" else f.choices
        element: dict[str, Any] = {"type": "static_select", "action_id": VALUE,
                                   "placeholder": bk.plain(f"Choose {f.label.lower()}"),
                                   "options": [option(c) for c in choices]}
        if f.kind == "toggle" and initial is not None:
            initial = "on" if initial else "off"
        if initial in choices:
            element["initial_option"] = option(initial)
        return element
    element = {"type": "plain_text_input", "action_id": VALUE, "multiline": f.kind == "multiline"}
    if f.max_length:
        element["max_length"] = f.max_length
    if initial:
        element["initial_value"] = str(initial)
    return element


def field_blocks(fields: tuple[Field, ...], initial: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    blocks = []
    for f in fields:
        block: dict[str, Any] = {"type": "input", "block_id": f.name, "label": bk.plain(f.label, 2000),
                                 "optional": f.optional, "element": _element(f, (initial or {}).get(f.name))}
        if f.hint:
            block["hint"] = bk.plain(f.hint, 2000)
        blocks.append(block)
    return blocks


def _modal(title: str, blocks: list[dict[str, Any]], meta: dict[str, Any], callback_id: str,
           submit: str | None = "Submit") -> dict[str, Any]:
    view: dict[str, Any] = {"type": "modal", "callback_id": callback_id, "title": bk.plain(title, 24),
                            "close": bk.plain("Cancel"), "blocks": blocks[: bk.MAX_VIEW_BLOCKS],
                            "private_metadata": json.dumps(meta)}
    if submit:
        view["submit"] = bk.plain(submit)
    return view


def target_select_block(targets: list[tuple[str, str]], picked: str | None = None) -> dict[str, Any]:
    element: dict[str, Any] = {"type": "static_select", "action_id": TARGET_ACTION,
                               "placeholder": bk.plain("Choose a target"),
                               "options": [option(name, f"{name} ({kind})") for name, kind in targets][:100]}
    for name, kind in targets:
        if name == picked:
            element["initial_option"] = option(name, f"{name} ({kind})")
    return {"type": "input", "block_id": TARGET_BLOCK, "dispatch_action": True, "label": bk.plain("Target"),
            "element": element}


def create_view(targets: list[tuple[str, str]], meta: dict[str, Any], picked: str | None = None,
                kind: str | None = None) -> dict[str, Any]:
    """The create modal: the target picker, then (once picked) that back end's fields."""
    if not targets:
        return _modal("Create a project", [bk.section("You may not create projects on any target.")], meta,
                      CREATE_CALLBACK, submit=None)
    blocks = [target_select_block(targets, picked)]
    if picked and kind in CREATE_FIELDS:
        blocks += field_blocks(CREATE_FIELDS[kind], {"plan": "starter"} if kind == "polaris" else None)
        return _modal("Create a project", blocks, {**meta, "target": picked, "kind": kind}, CREATE_CALLBACK,
                      submit="Create")
    blocks.append(bk.context("Pick a target to see its fields."))
    return _modal("Create a project", blocks, meta, CREATE_CALLBACK, submit="Create")


def external_select_block(block_id: str, action_id: str, label: str, placeholder: str,
                          min_query_length: int = 0) -> dict[str, Any]:
    return {"type": "input", "block_id": block_id, "label": bk.plain(label),
            "element": {"type": "external_select", "action_id": action_id, "placeholder": bk.plain(placeholder),
                        "min_query_length": min_query_length}}


def edit_pick_view(meta: dict[str, Any]) -> dict[str, Any]:
    """Which project to edit: a target and a project picker, both loading their options live."""
    blocks = [
        external_select_block("pick_target", PICK_TARGET_ACTION, "Target", "Type to search targets"),
        external_select_block("pick_project", PICK_PROJECT_ACTION, "Project", "Type to search its projects"),
    ]
    return _modal("Edit a project", blocks, meta, EDIT_PICK_CALLBACK, submit="Next")


def loading_view(title: str, meta: dict[str, Any]) -> dict[str, Any]:
    return _modal(title, [bk.section(":hourglass_flowing_sand: Loading…")], meta, EDIT_CALLBACK, submit=None)


def message_view(title: str, text: str, meta: dict[str, Any]) -> dict[str, Any]:
    return _modal(title, [bk.section(text)], meta, EDIT_CALLBACK, submit=None)


def edit_view(kind: str, target: str, project: str, current: dict[str, Any], meta: dict[str, Any]) -> dict[str, Any]:
    blocks = [bk.section(f"Editing *{project}* on `{target}`. Only the fields you change are sent."),
              *field_blocks(EDIT_FIELDS[kind], current)]
    meta = {**meta, "target": target, "kind": kind, "project": project, "current": current}
    return _modal("Edit a project", blocks, meta, EDIT_CALLBACK, submit="Save")


def submitted_values(view: dict[str, Any]) -> dict[str, Any]:
    """{block_id: value} from a submitted view's state (one input per block); empty inputs are left out."""
    out: dict[str, Any] = {}
    for block_id, actions in ((view.get("state") or {}).get("values") or {}).items():
        state = next(iter((actions or {}).values()), None)
        if not state:
            continue
        chosen = state.get("selected_option")
        value = chosen.get("value") if isinstance(chosen, dict) else state.get("value")
        if value is None or (isinstance(value, str) and not value.strip()):
            continue
        out[block_id] = value.strip() if isinstance(value, str) else value
    return out


def coerce(kind: str, fields: tuple[Field, ...], values: dict[str, Any]) -> dict[str, Any]:
    return {k: (v == "on") if any(f.name == k and f.kind == "toggle" for f in fields) else v
            for k, v in values.items()}


def validate(model: type[BaseModel], kind: str, values: dict[str, Any],
             fields: tuple[Field, ...]) -> tuple[BaseModel | None, dict[str, str]]:
    """The params model built from `values`, or errors keyed by block_id (the field name) in the model's own
    words. `kind` is kept for callers; every rule is the params model's."""
    names = [f.name for f in fields]
    try:
        return model.model_validate(values), {}
    except ValidationError as exc:
        errors: dict[str, str] = {}
        for field, text in params_rules.problems(exc).items():
            block = field if field in names else names[0]
            errors.setdefault(block, bk.clip(text, ERROR_MAX))
        return None, errors
