"""Modals: the typed-name confirmation of the most destructive requests, and create / edit per back end."""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot import blocks as bk
from bot import modals
from bot.errors import UsageError
from bot.operations.base import Actor, OpRequest, Rendered
from bot.operations.context import Services
from bot.operations.executor import execute
from handlers.common import announce_change, parse_or_usage, render_result
from handlers.confirm import TYPED_BLOCK, TYPED_CALLBACK, Responder, proceed, typed_confirmation
from handlers.progress import LIVE_OPERATIONS, LiveMessage

log = logging.getLogger("projectops.views")

#: The Create button (App Home, help) opens the same modal as `/projects create`.
CREATE_BUTTON = "projectops_open_create"


async def allowed_targets(services: Services, user_id: str, op_name: str) -> list[tuple[str, str]]:
    """(name, kind) of the targets where `user_id` may run `op_name` (no back-end call)."""
    out = []
    for target in services.config.targets.values():
        op = services.registry.get(op_name, target.kind)
        if op is not None and (await services.policy.check(user_id, op, target)).allowed:
            out.append((target.name, target.kind))
    return out


def modal_meta(actor: Actor) -> dict[str, Any]:
    return {"user": actor.user_id, "channel": actor.channel_id, "team": actor.team_id}


async def open_create(services: Services, client: AsyncWebClient, trigger_id: str, actor: Actor) -> None:
    targets = await allowed_targets(services, actor.user_id, "project.create")
    await client.views_open(trigger_id=trigger_id, view=modals.create_view(targets, modal_meta(actor)))


def current_values(kind: str, value: Any) -> dict[str, Any]:
    """The editable fields of a project as `project.show` returned it."""
    project = getattr(value, "project", None)
    if project is None:
        return {}
    if kind == "polaris":
        spec = project.spec
        return {"plan": spec.plan, "deletion_protection": spec.deletion_protection,
                "stop_protection": spec.stop_protection}
    if kind == "terraform":
        return {"name": project.name, "description": project.description,
                "auto_destroy": project.auto_destroy_activity_duration}
    return {"description": bk.clip(getattr(project, "description", None) or "", 1000) or None}


async def open_edit(services: Services, client: AsyncWebClient, trigger_id: str, actor: Actor,
                    target_name: str, project: str) -> None:
    """Open a Loading… modal at once (the trigger_id lasts 3 s), then read the project and fill the form."""
    meta = modal_meta(actor)
    opened = await client.views_open(trigger_id=trigger_id, view=modals.loading_view("Edit a project", meta))
    await fill_edit(services, client, opened["view"]["id"], actor, target_name, project)


async def fill_edit(services: Services, client: AsyncWebClient, view_id: str, actor: Actor,
                    target_name: str, project: str) -> None:
    """Read the project through the READ show operation and turn the open view into its edit form."""
    meta = modal_meta(actor)
    target = services.config.target(target_name)
    if target is None:
        await client.views_update(view_id=view_id, view=modals.message_view(
            "Edit a project", f"`{target_name}` is not a configured target. `/projects targets` lists them.", meta))
        return
    if target.kind not in modals.EDIT_FIELDS or services.registry.get("project.update", target.kind) is None:
        await client.views_update(view_id=view_id, view=modals.message_view(
            "Edit a project", f"Projects on `{target.name}` ({target.kind}) cannot be edited from Slack.", meta))
        return
    show = services.registry.get("project.show", target.kind)
    result = await execute(services, OpRequest(operation=show, actor=actor, target=target.name,
                                               params=show.params.model_validate({"project": project})))
    if result.error is not None:
        text = f":warning: {result.error.message}" + (f"\n{result.error.hint}" if result.error.hint else "")
        await client.views_update(view_id=view_id, view=modals.message_view("Edit a project", text, meta))
        return
    name = getattr(result.value.project, "name", project)
    current = current_values(target.kind, result.value)
    await client.views_update(view_id=view_id,
                              view=modals.edit_view(target.kind, target.name, name, current, meta))


async def open_edit_picker(client: AsyncWebClient, trigger_id: str, actor: Actor) -> None:
    await client.views_open(trigger_id=trigger_id, view=modals.edit_pick_view(modal_meta(actor)))


async def deliver(services: Services, client: AsyncWebClient, meta: dict[str, Any], rendered: Rendered) -> None:
    """The result, to the user only: ephemeral in the channel the modal came from, else a DM."""
    user, channel = meta.get("user", ""), meta.get("channel", "")
    kwargs = {"text": bk.clip(rendered.text, 3000), "blocks": bk.fit_message(rendered.blocks)}
    try:
        if channel:
            await client.chat_postEphemeral(channel=channel, user=user, **kwargs)
            return
    except SlackApiError as exc:
        log.info("ephemeral answer in %s failed: %s", channel, exc.response.get("error"))
    await services.pacer.turn(user)
    await client.chat_postMessage(channel=user, **kwargs)


async def run_live(services: Services, client: AsyncWebClient, request: OpRequest, channel: str,
                   title: str) -> tuple[Rendered, bool]:
    """Run through the choke point; a Polaris state change gets a channel message updated in place as it
    progresses and finally showing the result. Returns the answer and whether that message shows it."""
    live = None
    op, actor = request.operation, request.actor
    if op.qualified_name in LIVE_OPERATIONS and channel:
        target = services.config.target(request.target) if request.target else None
        if (await services.policy.check(actor.user_id, op, target)).allowed:
            live = LiveMessage(client, channel, title, services.pacer)
            if await live.start(f"{title} (asked by <@{actor.user_id}>)…"):
                request.progress = live.progress
            else:
                live = None
    result = await execute(services, request)
    rendered = render_result(services, result)
    shown = live is not None and await live.finish(rendered)
    if live is None:  # a live message already tells the channel
        await announce_change(services, result)
    return rendered, shown


async def run_from_modal(services: Services, client: AsyncWebClient, meta: dict[str, Any], request: OpRequest,
                         title: str) -> None:
    rendered, shown = await run_live(services, client, request, meta.get("channel", ""), title)
    if not shown:
        await deliver(services, client, meta, rendered)


def _actor(body: dict[str, Any], meta: dict[str, Any]) -> Actor:
    user = body.get("user") or {}
    return Actor(user_id=user.get("id", ""), team_id=meta.get("team", ""), channel_id=meta.get("channel", ""),
                 surface="modal", user_name=user.get("username", "") or user.get("name", ""))


def edit_changes(kind: str, values: dict[str, Any], current: dict[str, Any]) -> dict[str, Any]:
    """Only what differs from the values the modal opened with; a cleared optional field is sent as cleared."""
    fields = modals.EDIT_FIELDS[kind]
    values = modals.coerce(kind, fields, values)
    changed = {k: v for k, v in values.items() if v != current.get(k)}
    for f in fields:
        if f.optional and f.name not in values and current.get(f.name):
            changed[f.name] = "none" if f.name == "auto_destroy" else ""
    return changed


def register(app: AsyncApp, services: Services) -> None:
    @app.view(TYPED_CALLBACK)
    async def on_typed_confirmation(ack: AsyncAck, body: dict[str, Any], view: dict[str, Any]) -> None:
        meta = json.loads(view.get("private_metadata") or "{}")
        user = (body.get("user") or {}).get("id", "")
        typed = (((view.get("state") or {}).get("values") or {}).get(TYPED_BLOCK) or {}).get("value") or {}
        typed_value = (typed.get("value") or "").strip()
        parsed = parse_or_usage(services, meta.get("text", ""))
        if user != meta.get("user") or isinstance(parsed, UsageError):
            await ack(response_action="errors", errors={TYPED_BLOCK: "This confirmation is not yours to submit."})
            return
        expected = typed_confirmation(parsed) or ""
        if typed_value != expected:
            await ack(response_action="errors",
                      errors={TYPED_BLOCK: f"That does not match. Type {expected} exactly, or cancel."})
            return
        await ack()
        if not await asyncio.to_thread(services.audit.first_delivery, f"typed:{view.get('id', '')}", 86400):
            return
        actor = Actor(user_id=user, team_id=meta.get("team", ""), channel_id=meta.get("channel", ""), surface="modal")
        await proceed(services, parsed, meta["text"], actor, Responder(response_url=meta.get("response_url", "")))

    @app.action(CREATE_BUTTON)
    async def on_create_button(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        channel = (body.get("channel") or {}).get("id", "") or (body.get("container") or {}).get("channel_id", "")
        actor = Actor(user_id=(body.get("user") or {}).get("id", ""), team_id=(body.get("team") or {}).get("id", ""),
                      channel_id=channel, surface="button")
        await open_create(services, client, body["trigger_id"], actor)

    @app.action(modals.TARGET_ACTION)
    async def on_create_target(ack: AsyncAck, body: dict[str, Any], action: dict[str, Any],
                               client: AsyncWebClient) -> None:
        """A target was picked in the create modal: show that back end's fields."""
        await ack()
        view = body.get("view") or {}
        meta = json.loads(view.get("private_metadata") or "{}")
        picked = (action.get("selected_option") or {}).get("value")
        targets = await allowed_targets(services, (body.get("user") or {}).get("id", ""), "project.create")
        kind = dict(targets).get(picked)
        new = modals.create_view(targets, {k: v for k, v in meta.items() if k not in ("target", "kind")},
                                 picked if kind else None, kind)
        await client.views_update(view_id=view.get("id"), hash=view.get("hash"), view=new)

    @app.view(modals.CREATE_CALLBACK)
    async def on_create_submit(ack: AsyncAck, body: dict[str, Any], view: dict[str, Any],
                               client: AsyncWebClient) -> None:
        meta = json.loads(view.get("private_metadata") or "{}")
        actor = _actor(body, meta)
        kind, target = meta.get("kind"), meta.get("target")
        op = services.registry.get("project.create", kind) if kind else None
        if op is None or not target or actor.user_id != meta.get("user"):
            await ack(response_action="errors", errors={modals.TARGET_BLOCK: "Pick a target first."})
            return
        values = {k: v for k, v in modals.submitted_values(view).items() if k != modals.TARGET_BLOCK}
        params, errors = modals.validate(op.params, kind, values, modals.CREATE_FIELDS[kind])
        if errors:
            await ack(response_action="errors", errors=errors)
            return
        await ack()
        request = OpRequest(operation=op, actor=actor, params=params, target=target)
        await run_from_modal(services, client, meta, request, f"Creating {values.get('name', '')} on {target}")

    @app.view(modals.EDIT_PICK_CALLBACK)
    async def on_edit_pick(ack: AsyncAck, body: dict[str, Any], view: dict[str, Any],
                           client: AsyncWebClient) -> None:
        """Target and project picked: show Loading… in place, then the edit form."""
        meta = json.loads(view.get("private_metadata") or "{}")
        values = modals.submitted_values(view)
        target, project = (values.get("pick_target") or "").removeprefix("t:"), values.get("pick_project") or ""
        if not target or not project:
            await ack(response_action="errors", errors={"pick_project": "Pick a target and a project."})
            return
        await ack(response_action="update", view=modals.loading_view("Edit a project", meta))
        await fill_edit(services, client, view["id"], _actor(body, meta), target, project)

    @app.view(modals.EDIT_CALLBACK)
    async def on_edit_submit(ack: AsyncAck, body: dict[str, Any], view: dict[str, Any],
                             client: AsyncWebClient) -> None:
        meta = json.loads(view.get("private_metadata") or "{}")
        actor = _actor(body, meta)
        kind, target, project = meta.get("kind"), meta.get("target"), meta.get("project")
        op = services.registry.get("project.update", kind) if kind in modals.EDIT_FIELDS else None
        if op is None or not target or actor.user_id != meta.get("user"):
            await ack()
            return
        fields = modals.EDIT_FIELDS[kind]
        changed = edit_changes(kind, modals.submitted_values(view), meta.get("current") or {})
        if not changed:
            await ack(response_action="errors", errors={fields[0].name: "Nothing changed."})
            return
        params, errors = modals.validate(op.params, kind, {"project": project, **changed}, fields)
        if errors:
            await ack(response_action="errors", errors=errors)
            return
        await ack()
        request = OpRequest(operation=op, actor=actor, params=params, target=target)
        await run_from_modal(services, client, meta, request, f"Updating {project} on {target}")
