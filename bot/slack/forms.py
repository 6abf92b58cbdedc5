"""The create and edit forms: open them (before any back-end call), fill them live, take their submissions."""

from __future__ import annotations

from typing import Any

from slack_sdk.web.async_client import AsyncWebClient

from bot import modals
from bot.operations.base import Actor, Operation, OpRequest
from bot.operations.context import Services
from bot.operations.edit import EditForm
from bot.operations.executor import execute
from bot.slack.actor import with_form_channel
from bot.slack.payloads import read_meta
from bot.slack.progress import run_live
from bot.slack.replies import deliver
from bot.slack.runner import Step, after_ack

EDIT_TITLE = "Edit a project"


def metadata(actor: Actor) -> dict[str, Any]:
    """What a form carries between requests: who opened it and from where (never a secret)."""
    return {"user": actor.user_id, "channel": actor.channel_id, "team": actor.team_id}


def read_metadata(view: dict[str, Any]) -> dict[str, Any]:
    """The form's metadata, each key of the type `metadata` and the forms give it ({} when broken: the listeners
    answer a broken form before a workflow runs, `bot.slack.broken.broken_form`)."""
    return read_meta(view)


async def allowed_targets(services: Services, user_id: str, op_name: str) -> list[tuple[str, str]]:
    """(name, kind) of the targets where `user_id` may run `op_name` (no back-end call)."""
    out = []
    for target in services.config.targets.values():
        op = services.registry.get(op_name, target.kind)
        if op is not None and (await services.policy.check(user_id, op, target)).allowed:
            out.append((target.name, target.kind))
    return out


async def open_create(services: Services, client: AsyncWebClient, trigger_id: str, actor: Actor) -> None:
    targets = await allowed_targets(services, actor.user_id, "project.create")
    await client.views_open(trigger_id=trigger_id, view=modals.create_view(targets, metadata(actor)))


async def open_edit(services: Services, client: AsyncWebClient, trigger_id: str, actor: Actor,
                    target_name: str, project: str) -> None:
    """Open a Loading… modal at once (the trigger_id lasts 3 s), then read the project and fill the form."""
    opened = await client.views_open(trigger_id=trigger_id, view=modals.loading_view(EDIT_TITLE, metadata(actor)))
    await fill_edit(services, client, opened["view"]["id"], actor, target_name, project)


async def fill_edit(services: Services, client: AsyncWebClient, view_id: str, actor: Actor,
                    target_name: str, project: str) -> None:
    """Run `project.edit` through the choke point (it reads the current values) and turn the view into the form."""
    meta = metadata(actor)

    async def show(text: str) -> None:
        await client.views_update(view_id=view_id, view=modals.message_view(EDIT_TITLE, text, meta))

    target = services.config.target(target_name)
    if target is None:
        await show(f"`{target_name}` is not a configured target. `/projects targets` lists them.")
        return
    op = services.registry.get("project.edit", target.kind)
    if op is None or target.kind not in modals.EDIT_FIELDS:
        await show(f"Projects on `{target.name}` ({target.kind}) cannot be edited from Slack.")
        return
    result = await execute(services, OpRequest(operation=op, actor=actor, target=target.name,
                                               params=op.params.model_validate({"project": project})))
    if result.error is not None:
        await show(f":warning: {result.error.message}" + (f"\n{result.error.hint}" if result.error.hint else ""))
        return
    form: EditForm = result.value
    await client.views_update(view_id=view_id,
                              view=modals.edit_view(target.kind, target.name, form.project, form.current, meta))


async def run_from_form(services: Services, client: AsyncWebClient, actor: Actor, request: OpRequest,
                        title: str) -> None:
    """Through the choke point (live in the channel when the operation reports progress); the answer privately."""
    _, rendered, shown = await run_live(services, client, request, actor.channel_id, title)
    if not shown:
        await deliver(services, client, actor.user_id, actor.channel_id, rendered)


def _errors(block: str, text: str) -> Step:
    return Step(ack={"response_action": "errors", "errors": {block: text}})


async def target_picked(services: Services, actor: Actor, view: dict[str, Any], picked: Any,
                        client: AsyncWebClient) -> None:
    """A target was picked in the create form: show that back end's fields."""
    meta = read_metadata(view)
    targets = await allowed_targets(services, actor.user_id, "project.create")
    kind = dict(targets).get(picked) if isinstance(picked, str) else None
    new = modals.create_view(targets, {k: v for k, v in meta.items() if k not in ("target", "kind")},
                             picked if kind else None, kind)
    await client.views_update(view_id=view.get("id"), hash=view.get("hash"), view=new)


def create_submitted(services: Services, actor: Actor, view: dict[str, Any], client: AsyncWebClient) -> Step:
    meta = read_metadata(view)
    actor = _form_actor(actor, meta)
    kind, target = meta.get("kind"), meta.get("target")
    op = services.registry.get("project.create", kind) if isinstance(kind, str) else None
    if op is None or not isinstance(target, str) or not target or actor.user_id != meta.get("user"):
        return _errors(modals.TARGET_BLOCK, "Pick a target first.")
    values = {k: v for k, v in modals.submitted_values(view).items() if k != modals.TARGET_BLOCK}
    params, errors = modals.validate(op.params, kind, values, modals.CREATE_FIELDS[kind])
    if errors:
        return Step(ack={"response_action": "errors", "errors": errors})
    request = OpRequest(operation=op, actor=actor, params=params, target=target)
    return after_ack(lambda: run_from_form(services, client, actor, request,
                                           f"Creating {values.get('name', '')} on {target}"))


def edit_picked(services: Services, actor: Actor, view: dict[str, Any], client: AsyncWebClient) -> Step:
    """Target and project picked: show Loading… in place, then the edit form."""
    meta = read_metadata(view)
    values = modals.submitted_values(view)
    target = str(values.get("pick_target") or "").removeprefix("t:")
    project = str(values.get("pick_project") or "")
    if not target or not project:
        return _errors("pick_project", "Pick a target and a project.")
    actor = _form_actor(actor, meta)
    return Step(ack={"response_action": "update", "view": modals.loading_view(EDIT_TITLE, meta)},
                then=lambda: fill_edit(services, client, str(view.get("id", "")), actor, target, project))


def edit_changes(kind: str, values: dict[str, Any], current: dict[str, Any]) -> dict[str, Any]:
    """Only what differs from the values the modal opened with; a cleared optional field is sent as cleared."""
    fields = modals.EDIT_FIELDS[kind]
    values = modals.coerce(kind, fields, values)
    changed = {k: v for k, v in values.items() if v != current.get(k)}
    for f in fields:
        if f.optional and f.name not in values and current.get(f.name):
            changed[f.name] = "none" if f.name == "auto_destroy" else ""
    return changed


def edit_submitted(services: Services, actor: Actor, view: dict[str, Any], client: AsyncWebClient) -> Step:
    meta = read_metadata(view)
    actor = _form_actor(actor, meta)
    kind, target, project = meta.get("kind"), meta.get("target"), meta.get("project")
    op: Operation | None = (services.registry.get("project.update", kind)
                            if isinstance(kind, str) and kind in modals.EDIT_FIELDS else None)
    if op is None or not isinstance(target, str) or not target or actor.user_id != meta.get("user"):
        first = next((b.get("block_id") for b in view.get("blocks") or [] if b.get("type") == "input"), "")
        if not first:
            return Step(ack={"response_action": "update",
                             "view": modals.message_view(EDIT_TITLE, "This form is not yours to submit.", meta)})
        return _errors(first, "This form is not yours to submit.")
    fields = modals.EDIT_FIELDS[kind]
    current = meta.get("current") if isinstance(meta.get("current"), dict) else {}
    changed = edit_changes(kind, modals.submitted_values(view), current)
    if not changed:
        return _errors(fields[0].name, "Nothing changed.")
    params, errors = modals.validate(op.params, kind, {"project": project, **changed}, fields)
    if errors:
        return Step(ack={"response_action": "errors", "errors": errors})
    request = OpRequest(operation=op, actor=actor, params=params, target=target)
    return after_ack(lambda: run_from_form(services, client, actor, request, f"Updating {project} on {target}"))


def _form_actor(actor: Actor, meta: dict[str, Any]) -> Actor:
    return with_form_channel(actor, meta)
