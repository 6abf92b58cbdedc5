"""The guided Matillion provisioning modal (`/projects provision`) and the Resume button of a failed run.

Steps 1-3 answer `response_action: push` with the next step, carrying the earlier (non-secret) answers in
private_metadata; the last step holds every secret field, so its submission is acked with `clear` and runs
`project.provision` through the choke point at once. Nothing secret is kept between requests.
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot import blocks as bk
from bot import modals
from bot import provision_modal as pm
from bot.operations.base import Actor, OpRequest, Rendered
from bot.operations.context import Services
from bot.operations.executor import execute
from bot.provisioning import store_for
from handlers.common import render_result
from handlers.progress import LiveMessage
from handlers.views import allowed_targets, deliver, modal_meta

log = logging.getLogger("projectops.provision_modal")

OP_NAME = "project.provision"
KIND = "matillion"


async def provision_targets(services: Services, user_id: str) -> list[str]:
    return [name for name, kind in await allowed_targets(services, user_id, OP_NAME) if kind == KIND]


def is_provision_target(services: Services, name: str) -> bool:
    target = services.config.target(name)
    return target is not None and target.kind == KIND


async def open_provision(services: Services, client: AsyncWebClient, trigger_id: str, actor: Actor,
                         target: str | None = None) -> None:
    """Step 1, opened before any back-end call; a single allowed target is picked for the user."""
    meta = modal_meta(actor)
    targets = await provision_targets(services, actor.user_id)
    if target is not None and target not in targets:
        view = pm.message_view(f"You may not provision projects on `{target}`.", meta)
    elif not targets:
        view = pm.message_view("You may not provision Matillion projects on any target.", meta)
    else:
        picked = target or (targets[0] if len(targets) == 1 else None)
        view = pm.step_view(1, {**meta, "target": picked, "values": {}}, targets if target is None else None)
    await client.views_open(trigger_id=trigger_id, view=view)


def _actor(body: dict[str, Any], meta: dict[str, Any]) -> Actor:
    user = body.get("user") or {}
    return Actor(user_id=user.get("id", ""), team_id=meta.get("team", ""), channel_id=meta.get("channel", ""),
                 surface="modal", user_name=user.get("username", "") or user.get("name", ""))


def with_resume_button(rendered: Rendered, target: str, record_id: str) -> Rendered:
    value = json.dumps({"id": record_id, "target": target})
    button = bk.button("Resume", pm.RESUME_ACTION, value=value, style="primary")
    return Rendered(text=rendered.text, blocks=[*bk.fit_message(rendered.blocks)[: bk.MAX_MESSAGE_BLOCKS - 1],
                                                bk.actions(button)])


async def run_provision(services: Services, client: AsyncWebClient, meta: dict[str, Any], request: OpRequest) -> None:
    """Through the choke point, step by step in a channel message updated in place; the requester also gets
    the result privately (with a Resume button when a step failed)."""
    channel = meta.get("channel", "")
    target = services.config.target(request.target) if request.target else None
    live: LiveMessage | None = None
    if channel and (await services.policy.check(request.actor.user_id, request.operation, target)).allowed:
        name = getattr(request.params, "name", "") or getattr(request.params, "resume", "")
        live = LiveMessage(client, channel, f"Provisioning {name} on {request.target}", services.pacer)
        if await live.start(f"Provisioning {name} on {request.target} (asked by <@{request.actor.user_id}>)…"):
            request.progress = live.progress
        else:
            live = None
    result = await execute(services, request)
    rendered = render_result(services, result)
    if live is not None:
        await live.finish(rendered)
    record = getattr(result.error, "record", None)
    if record is not None and request.target:
        rendered = with_resume_button(rendered, request.target, record.id)
    await deliver(services, client, meta, rendered)  # the requester's own copy (with Resume, if it failed)


def register(app: AsyncApp, services: Services) -> None:
    @app.view(pm.CALLBACK)
    async def on_step(ack: AsyncAck, body: dict[str, Any], view: dict[str, Any], client: AsyncWebClient) -> None:
        meta = json.loads(view.get("private_metadata") or "{}")
        actor = _actor(body, meta)
        step = int(meta.get("step") or 1)
        if actor.user_id != meta.get("user"):
            await ack(response_action="errors", errors={"name": "This form is not yours to submit."})
            return
        earlier: dict[str, Any] = meta.get("values") or {}
        submitted = pm.step_values(view, step, earlier)
        if step == 1:
            targets = await provision_targets(services, actor.user_id)
            picked = submitted.get(pm.TARGET_BLOCK) or meta.get("target")
            if picked not in targets:
                await ack(response_action="errors", errors={pm.TARGET_BLOCK: "Pick a Matillion target."})
                return
            meta["target"] = picked
        errors = pm.check_step(step, submitted, earlier)
        if errors:
            await ack(response_action="errors", errors=errors)
            return
        if step < 4:
            values = {**earlier, **pm.public_values(submitted)}
            following = {**meta, "values": values}
            if not pm.fits_metadata(following):
                await ack(response_action="errors", errors={pm.fields_for(step, values)[0].name: "Too long."})
                return
            # Slack stacks at most three views: the last step replaces the third one.
            action = "push" if step < 3 else "update"
            await ack(response_action=action, view=pm.step_view(step + 1, following))
            return
        params, problem = pm.build_params(earlier, submitted)
        op = services.registry.get(OP_NAME, KIND)
        if params is None or op is None:
            await ack(response_action="errors", errors={pm.fields_for(4, earlier)[0].name: problem or "Unavailable."})
            return
        await ack(response_action="clear")
        if not await asyncio.to_thread(services.audit.first_delivery, f"provision:{view.get('id', '')}", 86400):
            return
        request = OpRequest(operation=op, actor=actor, params=params, target=meta.get("target"))
        await run_provision(services, client, meta, request)

    @app.action(pm.RESUME_ACTION)
    async def on_resume_button(ack: AsyncAck, body: dict[str, Any], action: dict[str, Any],
                               client: AsyncWebClient) -> None:
        """Open the resume form: the recorded plan, the secrets typed again."""
        await ack()
        user = (body.get("user") or {}).get("id", "")
        channel = (body.get("channel") or {}).get("id", "") or (body.get("container") or {}).get("channel_id", "")
        meta = modal_meta(Actor(user_id=user, team_id=(body.get("team") or {}).get("id", ""), channel_id=channel))
        try:
            ref = json.loads(action.get("value") or "{}")
        except ValueError:
            ref = {}
        record_id, target = str(ref.get("id", "")), str(ref.get("target", ""))
        record = await asyncio.to_thread(store_for(services.audit).get, record_id) if record_id else None
        if record is None or record.target != target or target not in await provision_targets(services, user):
            view = pm.message_view(f"Provisioning `{record_id}` cannot be resumed by you here.", meta)
        elif record.status == "succeeded":
            view = pm.message_view(f"Provisioning `{record_id}` has already finished.", meta)
        else:
            view = pm.resume_view(record_id, target, record.plan, meta)
        await client.views_open(trigger_id=body["trigger_id"], view=view)

    @app.view(pm.RESUME_CALLBACK)
    async def on_resume_submit(ack: AsyncAck, body: dict[str, Any], view: dict[str, Any],
                               client: AsyncWebClient) -> None:
        meta = json.loads(view.get("private_metadata") or "{}")
        actor = _actor(body, meta)
        op = services.registry.get(OP_NAME, KIND)
        submitted = modals.submitted_values(view)
        missing = {b["block_id"]: "Required to resume." for b in view.get("blocks", [])
                   if b.get("type") == "input" and not b.get("optional") and not submitted.get(b["block_id"])}
        if actor.user_id != meta.get("user") or op is None or missing:
            first = next((b["block_id"] for b in view.get("blocks", []) if b.get("type") == "input"), "value")
            await ack(response_action="errors", errors=missing or {first: "This form is not yours to submit."})
            return
        await ack(response_action="clear")
        if not await asyncio.to_thread(services.audit.first_delivery, f"provision:{view.get('id', '')}", 86400):
            return
        request = OpRequest(operation=op, actor=actor, params=pm.resume_params(meta["resume"], submitted),
                            target=meta.get("target"))
        await run_provision(services, client, meta, request)
