"""The guided Matillion provisioning form (`/projects provision`) and the Resume button of a failed run.

Steps 1-3 answer `response_action: push` with the next step, carrying the earlier (non-secret) answers in
private_metadata; the last step holds every secret field, so its submission is acked with `clear` and runs
`project.provision` through the choke point at once. Nothing secret is kept between requests.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from slack_sdk.web.async_client import AsyncWebClient

from bot import modals
from bot import provision_modal as pm
from bot.operations.base import Actor, OpRequest, Rendered
from bot.operations.context import Services
from bot.slack.actor import with_form_channel
from bot.slack.forms import allowed_targets, metadata, read_metadata
from bot.slack.progress import run_live
from bot.slack.replies import deliver
from bot.slack.runner import Step
from bot.ui import blocks as bk

OP_NAME = "project.provision"
KIND = "matillion"
#: How long a submitted form is remembered, so a double submit provisions once.
SUBMIT_MEMORY_SECONDS = 86400


async def provision_targets(services: Services, user_id: str) -> list[str]:
    return [name for name, kind in await allowed_targets(services, user_id, OP_NAME) if kind == KIND]


async def open_provision(services: Services, client: AsyncWebClient, trigger_id: str, actor: Actor,
                         target: str | None = None) -> None:
    """Step 1, opened before any back-end call; a single allowed target is picked for the user."""
    meta = metadata(actor)
    targets = await provision_targets(services, actor.user_id)
    if target is not None and target not in targets:
        view = pm.message_view(f"You may not provision projects on `{target}`.", meta)
    elif not targets:
        view = pm.message_view("You may not provision Matillion projects on any target.", meta)
    else:
        picked = target or (targets[0] if len(targets) == 1 else None)
        view = pm.step_view(1, {**meta, "target": picked, "values": {}}, targets if target is None else None)
    await client.views_open(trigger_id=trigger_id, view=view)


def with_resume_button(rendered: Rendered, target: str, record_id: str) -> Rendered:
    value = json.dumps({"id": record_id, "target": target})
    button = bk.button("Resume", pm.RESUME_ACTION, value=value, style="primary")
    return Rendered(text=rendered.text, blocks=[*bk.fit_message(rendered.blocks)[: bk.MAX_MESSAGE_BLOCKS - 1],
                                                bk.actions(button)])


async def run_provision(services: Services, client: AsyncWebClient, actor: Actor, request: OpRequest) -> None:
    """Through the choke point, step by step in a channel message updated in place; the requester also gets
    the result privately (with a Resume button when a step failed)."""
    name = getattr(request.params, "name", "") or getattr(request.params, "resume", "")
    result, rendered, _ = await run_live(services, client, request, actor.channel_id,
                                         f"Provisioning {name} on {request.target}")
    record = getattr(result.error, "record", None)
    if record is not None and request.target:
        rendered = with_resume_button(rendered, request.target, record.id)
    await deliver(services, client, actor.user_id, actor.channel_id, rendered)  # the requester's own copy


async def _first_submission(services: Services, view: dict[str, Any]) -> bool:
    return await asyncio.to_thread(services.store.deliveries.first, f"provision:{view.get('id', '')}",
                                   SUBMIT_MEMORY_SECONDS)


async def step_submitted(services: Services, actor: Actor, view: dict[str, Any], client: AsyncWebClient) -> Step:
    meta = read_metadata(view)
    actor = with_form_channel(actor, meta)
    try:
        step = int(meta.get("step") or 1)
    except (TypeError, ValueError):
        step = 1
    if actor.user_id != meta.get("user") or not 1 <= step <= 4:
        return Step(ack={"response_action": "errors", "errors": {"name": "This form is not yours to submit."}})
    earlier: dict[str, Any] = meta.get("values") if isinstance(meta.get("values"), dict) else {}
    submitted = pm.step_values(view, step, earlier)
    if step == 1:
        targets = await provision_targets(services, actor.user_id)
        picked = submitted.get(pm.TARGET_BLOCK) or meta.get("target")
        if picked not in targets:
            return Step(ack={"response_action": "errors", "errors": {pm.TARGET_BLOCK: "Pick a Matillion target."}})
        meta["target"] = picked
    errors = pm.check_step(step, submitted, earlier)
    if errors:
        return Step(ack={"response_action": "errors", "errors": errors})
    if step < 4:
        values = {**earlier, **pm.public_values(submitted)}
        following = {**meta, "values": values}
        if not pm.fits_metadata(following):
            return Step(ack={"response_action": "errors", "errors": {pm.fields_for(step, values)[0].name: "Too long."}})
        # Slack stacks at most three views: the last step replaces the third one.
        return Step(ack={"response_action": "push" if step < 3 else "update",
                         "view": pm.step_view(step + 1, following)})
    params, problem = pm.build_params(earlier, submitted)
    op = services.registry.get(OP_NAME, KIND)
    if params is None or op is None:
        return Step(ack={"response_action": "errors",
                         "errors": {pm.fields_for(4, earlier)[0].name: problem or "Unavailable."}})
    request = OpRequest(operation=op, actor=actor, params=params, target=meta.get("target"))

    async def then() -> None:
        if await _first_submission(services, view):
            await run_provision(services, client, actor, request)

    return Step(ack={"response_action": "clear"}, then=then)


async def resume_clicked(services: Services, actor: Actor, record_id: str, target: str, trigger_id: str,
                         client: AsyncWebClient) -> None:
    """Open the resume form: the recorded plan, the secrets typed again (the button's value parsed by the
    listener: `bot.slack.payloads.ResumeRef`)."""
    meta = metadata(actor)
    record = await asyncio.to_thread(services.store.provisioning.get, record_id) if record_id else None
    if record is None or record.target != target or target not in await provision_targets(services, actor.user_id):
        view = pm.message_view(f"Provisioning `{record_id}` cannot be resumed by you here.", meta)
    elif record.status == "succeeded":
        view = pm.message_view(f"Provisioning `{record_id}` has already finished.", meta)
    else:
        view = pm.resume_view(record_id, target, record.plan, meta)
    await client.views_open(trigger_id=trigger_id, view=view)


def resume_submitted(services: Services, actor: Actor, view: dict[str, Any], client: AsyncWebClient) -> Step:
    meta = read_metadata(view)
    actor = with_form_channel(actor, meta)
    op = services.registry.get(OP_NAME, KIND)
    submitted = modals.submitted_values(view)
    inputs = [b for b in view.get("blocks") or [] if isinstance(b, dict) and b.get("type") == "input"]
    missing = {b["block_id"]: "Required to resume." for b in inputs
               if not b.get("optional") and not submitted.get(b.get("block_id"))}
    if actor.user_id != meta.get("user") or op is None or missing or not isinstance(meta.get("resume"), str):
        first = inputs[0].get("block_id", "value") if inputs else "value"
        return Step(ack={"response_action": "errors",
                         "errors": missing or {first: "This form is not yours to submit."}})
    request = OpRequest(operation=op, actor=actor, params=pm.resume_params(meta["resume"], submitted),
                        target=meta.get("target"))

    async def then() -> None:
        if await _first_submission(services, view):
            await run_provision(services, client, actor, request)

    return Step(ack={"response_action": "clear"}, then=then)


