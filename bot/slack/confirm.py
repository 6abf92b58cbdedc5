"""Confirmation before anything destructive: show the impact, a Confirm button only the requester may press,
the typed name for the most destructive, then approval (where policy asks) or the run.

A preview that knows the change cannot happen (a protection flag, a thing that is not there) or would change
nothing (already stopped) ends it there: the person is told why and what to do, no Confirm is offered, no approval
is asked for, and the refusal is audited. A preview that merely could not read the back end still offers Confirm:
the run itself checks."""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any
from urllib.parse import urlparse

from slack_sdk.web.async_client import AsyncWebClient

from bot.backends.http import budget
from bot.errors import NotFoundError, OpError, UsageError
from bot.operations.base import Actor, Preview, Rendered, Risk
from bot.operations.context import OpContext, Services
from bot.operations.executor import record_event
from bot.operations.parser import ParsedCommand, positional_fields
from bot.operations.suggest import SUGGEST_TIMEOUT_SECONDS, explain
from bot.redact import scrub
from bot.slack import approvals
from bot.slack.broken import broken_button
from bot.slack.progress import Waiting, waiting_for
from bot.slack.replies import Responder, response_payload
from bot.slack.runner import Step, after_ack, bad_input, parse_or_usage, request_for, run_request
from bot.store.confirmations import Confirmation
from bot.ui import blocks as bk
from bot.ui.ids import CANCEL_ACTION, CONFIRM_ACTION, CONFIRM_BLOCK, TYPED_BLOCK, TYPED_CALLBACK
from bot.ui.mrkdwn import Mrkdwn, code, md, user

log = logging.getLogger("projectops.confirm")

async def confirm_value(services: Services, text: str, actor: Actor) -> str:
    """What a Confirm / Cancel button carries: an opaque id; the command and who asked stay in the store."""
    confirmation = await asyncio.to_thread(
        services.store.confirmations.create, command=text.strip(), requester=actor.user_id, team=actor.team_id,
        channel=actor.channel_id, surface=actor.surface)
    return confirmation.id


async def load_confirmation(services: Services, raw: Any) -> Confirmation | None:
    """The confirmation a button or form names, or None when the value is not one of ours."""
    if not isinstance(raw, str) or not raw or len(raw) > 64:
        return None
    return await asyncio.to_thread(services.store.confirmations.get, raw)


def reply_url(services: Services, url: Any) -> str:
    """A response_url Slack sent, kept only when it points at Slack itself (or the Slack API the app is given)."""
    if not isinstance(url, str):
        return ""
    host = urlparse(url).netloc.lower()
    allowed = {"hooks.slack.com"}
    base = getattr(services.slack, "base_url", "")
    if isinstance(base, str) and base:
        allowed.add(urlparse(base).netloc.lower())
    return url if urlparse(url).scheme in ("https", "http") and (host in allowed or host.endswith(".slack.com")) \
        else ""


#: Errors a preview meets that the run would meet just the same (the thing is not there, the name is ambiguous): the
#: change cannot happen, so no Confirm. Any other error means only that the back end could not be read.
CERTAIN_ERRORS = (NotFoundError, UsageError)


async def preview_verdict(services: Services, parsed: ParsedCommand, actor: Actor) -> Preview | OpError:
    """What the operation would destroy, read live from the back end (when the operation can tell), and its verdict:
    a `Preview` (which may say the change cannot happen or would change nothing), or the error the run would meet
    (`CERTAIN_ERRORS`, hinted as a typed command's are). When the back end could not be read the preview says so and
    the confirmation goes ahead."""
    op = parsed.operation
    if op.preview is None:
        return Preview()
    ctx = OpContext(services=services, actor=actor, target=parsed.target)
    limit = services.config.backends.per_target_seconds
    try:
        with budget(limit):  # the prompt comes within the bound, with or without the back end's figures
            return await asyncio.wait_for(op.preview(ctx, parsed.params), limit + 0.25)
    except CERTAIN_ERRORS as exc:
        exc.message = scrub(exc.message)
        try:  # "Did you mean …", the listing: as the typed read commands say it (best effort, bounded)
            with budget(SUGGEST_TIMEOUT_SECONDS):
                await asyncio.wait_for(explain(ctx, parsed.params, exc), SUGGEST_TIMEOUT_SECONDS + 0.25)
        except Exception:  # the error stands on its own
            log.debug("no hint for the preview of %s", op.name, exc_info=True)
        return exc
    except OpError as exc:
        return Preview(f":warning: I could not read what this would affect: {exc.message}")
    except TimeoutError:
        return Preview(f":warning: I could not read what this would affect: no answer within {limit:g} s.")
    except Exception:  # the prompt must come; what broke is in the log
        log.exception("the preview of %s failed", op.name)
        return Preview(":warning: I could not read what this would affect (the app log has details).")


def stops(verdict: Preview | OpError) -> bool:
    """No Confirm: the change cannot happen, or would change nothing."""
    return isinstance(verdict, OpError) or verdict.stops


async def refusal(services: Services, parsed: ParsedCommand, text: str, actor: Actor,
                  verdict: Preview | OpError) -> Rendered:
    """The answer when the preview says no: why, and what to do instead; no buttons; audited as refused."""
    op = parsed.operation
    if isinstance(verdict, OpError):
        detail = str(verdict)
    elif verdict.blocked:
        detail = f"blocked before confirmation: {verdict.blocked} {verdict.hint}".strip()
    else:
        detail = f"nothing to do: {verdict.nothing_to_do} {verdict.hint}".strip()
    audit_id = await record_event(services, actor, op.qualified_name, "refused", detail,
                                  target=parsed.target.name if parsed.target else "",
                                  params=parsed.params.model_dump(mode="json"), risk=str(op.risk))
    if isinstance(verdict, OpError):  # as a typed read command ends: the message, its hint, the audit id
        return bk.error_message(verdict, audit_id)
    command = code(f"/projects {text.strip()}")
    if verdict.blocked:
        head = md(":no_entry: {} cannot run: {}", command, verdict.blocked)
    else:
        head = md(":information_source: Nothing to do: {}", verdict.nothing_to_do)
    lines = [head, *([md("{}", verdict.hint)] if verdict.hint else [])]
    blocks = [bk.section(Mrkdwn("\n").join(lines))]
    if verdict.text:
        blocks.append(bk.section(verdict.text))
    blocks.append(bk.context(md("Nothing was changed and there is nothing to confirm · audit #{}", audit_id)))
    return Rendered(text=verdict.blocked or verdict.nothing_to_do, blocks=blocks)


def dialog_text(parsed: ParsedCommand, text: str) -> Mrkdwn:
    """What the confirm dialog says: what runs, and for destructive work whether it can be undone (the registry
    knows: `Operation.reversible_by`)."""
    op = parsed.operation
    runs = code(bk.clip(f"/projects {text.strip()}", 150))  # the dialog holds 300 characters: keep the warning
    if op.risk is not Risk.DESTRUCTIVE:
        return md("This runs {}.", runs)
    if op.reversible_by:
        return md("This runs {}. It can be undone with {}.", runs, code(f"/projects {op.reversible_by}"))
    return md("This runs {} and cannot be undone.", runs)


async def confirmation_prompt(services: Services, parsed: ParsedCommand, text: str, actor: Actor) -> Rendered:
    """The impact and Confirm / Cancel buttons (and whether an admin's approval follows)."""
    op = parsed.operation
    verdict = await preview_verdict(services, parsed, actor)
    if stops(verdict):
        return await refusal(services, parsed, text, actor, verdict)
    impact = verdict.text if isinstance(verdict, Preview) else ""
    where = md(" on {}", code(parsed.target.name)) if parsed.target else ""
    destructive = op.risk is Risk.DESTRUCTIVE
    icon = ":warning:" if destructive else ":pencil2:"
    summary = md("{} *{}{}*{}\n{}", icon, op.summary[:1].upper(), op.summary[1:], where,
                 code(f"/projects {text.strip()}"))
    blocks = [bk.section(summary)]
    if impact:
        blocks.append(bk.section(impact))
    value = await confirm_value(services, text, actor)
    dialog = {
        "title": bk.plain("Are you sure?", 100),
        "text": bk.mrkdwn(dialog_text(parsed, text), 300),
        "confirm": bk.plain("Yes, do it", 30),
        "deny": bk.plain("Back", 30),
        "style": "danger" if destructive else "primary",
    }
    blocks.append(bk.actions(
        bk.button("Confirm", CONFIRM_ACTION, value=value, style="danger" if destructive else "primary",
                  confirm=dialog),
        bk.button("Cancel", CANCEL_ACTION, value=value),
        block_id=CONFIRM_BLOCK,
    ))
    needs_approval = await services.policy.needs_approval(actor.user_id, op, parsed.target)
    then = " After you confirm, an admin other than you must approve it." if needs_approval else ""
    blocks.append(bk.context("Only you can confirm this request." + then))
    return Rendered(text=f"Confirm: /projects {text.strip()}", blocks=blocks)


def typed_confirmation(parsed: ParsedCommand) -> str | None:
    """The name the requester must type (the operation's first argument), or None when a click suffices."""
    op = parsed.operation
    if not op.typed_confirmation:
        return None
    fields = positional_fields(op)
    value = getattr(parsed.params, fields[0], None) if fields else None
    return str(value) if value else None


def typed_confirmation_view(text: str, expected: str, confirmation_id: str) -> dict[str, Any]:
    metadata = json.dumps({"confirmation": confirmation_id}, separators=(",", ":"))
    return {
        "type": "modal",
        "callback_id": TYPED_CALLBACK,
        "title": bk.plain("Confirm deletion", 24),
        "submit": bk.plain("Delete", 24),
        "close": bk.plain("Cancel", 24),
        "private_metadata": metadata[:3000],
        "blocks": [
            bk.section(md(":warning: {} cannot be undone.", code(f"/projects {bk.clip(text, 200)}"))),
            {"type": "input", "block_id": TYPED_BLOCK, "label": bk.plain(f"Type {bk.clip(expected, 100)} to confirm"),
             "element": {"type": "plain_text_input", "action_id": "value"}},
        ],
    }


async def proceed(services: Services, parsed: ParsedCommand, text: str, actor: Actor, send: Responder) -> None:
    """After confirmation: send for approval where policy says so, else run it now, progress shown in place."""
    if await services.policy.needs_approval(actor.user_id, parsed.operation, parsed.target):
        verdict = await preview_verdict(services, parsed, actor)  # read again: it may have changed since the prompt
        if stops(verdict):
            await send(await refusal(services, parsed, text, actor, verdict))
            return
        impact = verdict.text if isinstance(verdict, Preview) else ""
        await send(await approvals.request_approval(services, parsed, text, actor, impact))
        return
    running = f":hourglass_flowing_sand: Running `/projects {text}`…"
    await send(Rendered(text=running))
    seen: list[str] = []

    async def progress(line: str) -> None:  # the same message, updated in place as the state moves
        if not seen or seen[-1] != line:
            seen.append(line)
            await send(Rendered(text=f"{running} {line}"))

    async def still_waiting(line: str, first: bool) -> None:
        await send(Rendered(text=f"{running} {line}"))

    request = request_for(parsed, actor, confirmed_by=actor.user_id, progress=progress)
    async with Waiting(still_waiting, waiting_for(request.target), services.config.backends.progress_seconds,
                       most=2):
        _, rendered = await run_request(services, request)
    await send(rendered)


def not_yours(requester: str) -> dict[str, Any]:
    return {"response_type": "ephemeral", "replace_original": False,
            "text": bk.fallback(md("Only {}, who asked for this, can confirm or cancel it.", user(requester)))}


async def confirm_clicked(services: Services, actor: Actor, raw_value: Any, *, respond: Any,
                          client: AsyncWebClient, trigger_id: str, response_url: str) -> None:
    """Confirm pressed: checked against what was stored when the prompt was made (who asked, what, and that
    they may still run it); then the typed-name modal for the most destructive, else approval or the run, once."""
    confirmation = await load_confirmation(services, raw_value)
    if confirmation is None:
        await broken_button(services, actor, CONFIRM_ACTION, respond, "no such confirmation")
        return
    if confirmation.requester != actor.user_id:
        await respond(**not_yours(confirmation.requester))
        return
    if confirmation.used:
        await respond(replace_original=False, response_type="ephemeral",
                      text="This request was already confirmed or cancelled; it runs once.")
        return
    if confirmation.expired:
        await respond(replace_original=False, response_type="ephemeral",
                      text="This confirmation expired; run the command again.")
        return
    text = confirmation.command
    parsed = parse_or_usage(services, text)
    if isinstance(parsed, UsageError):
        rendered = await bad_input(services, actor, text, parsed)
        await respond(**response_payload(rendered), replace_original=True)
        return
    decision = await services.policy.check(actor.user_id, parsed.operation, parsed.target)
    if not decision.allowed:  # roles can change between the prompt and the click
        await record_event(services, actor, "confirm.refused", "refused", decision.reason,
                           params={"text": text[:500]}, surface="button")
        await respond(replace_original=False, response_type="ephemeral",
                      text=bk.fallback(md("You may not run {}. {}", code(parsed.operation.command),
                                          decision.reason)))
        return
    url = reply_url(services, response_url)
    if url:
        await asyncio.to_thread(services.store.confirmations.remember_reply, confirmation.id, url)
    expected = typed_confirmation(parsed)
    if expected is not None:  # the requester types the name in a modal first
        await client.views_open(trigger_id=trigger_id,
                                view=typed_confirmation_view(text, expected, confirmation.id))
        return
    if not await asyncio.to_thread(services.store.confirmations.use, confirmation.id):
        await respond(replace_original=False, response_type="ephemeral",
                      text="This request was already confirmed; it runs once.")
        return
    await proceed(services, parsed, text, actor, Responder(respond))


async def cancel_clicked(services: Services, actor: Actor, raw_value: Any, *, respond: Any) -> None:
    confirmation = await load_confirmation(services, raw_value)
    if confirmation is None:
        await broken_button(services, actor, CANCEL_ACTION, respond, "no such confirmation")
        return
    if confirmation.requester != actor.user_id:
        await respond(**not_yours(confirmation.requester))
        return
    if not await asyncio.to_thread(services.store.confirmations.use, confirmation.id):
        return  # already confirmed or cancelled
    await record_event(services, actor, "confirm.cancel", "refused", "cancelled by the requester",
                       params={"text": confirmation.command[:500]}, surface="button")
    await respond(replace_original=True, text=bk.fallback(md("Cancelled by {}: {}", user(actor.user_id),
                                                              code(f"/projects {confirmation.command}"))))


def _typed_value(view: dict[str, Any]) -> str:
    values = (view.get("state") or {}).get("values") or {}
    typed = (values.get(TYPED_BLOCK) or {}).get("value") or {}
    return (typed.get("value") or "").strip() if isinstance(typed, dict) else ""


async def typed_submitted(services: Services, actor: Actor, view: dict[str, Any]) -> Step:
    """The typed name submitted: a field error, or close the modal and proceed — once per confirmation, however
    many views submit it."""
    try:
        meta = json.loads(view.get("private_metadata") or "{}")
    except (TypeError, ValueError):
        meta = {}
    meta = meta if isinstance(meta, dict) else {}
    confirmation = await load_confirmation(services, meta.get("confirmation"))
    parsed = parse_or_usage(services, confirmation.command) if confirmation else None
    if confirmation is None or confirmation.requester != actor.user_id or not isinstance(parsed, ParsedCommand):
        return Step(ack={"response_action": "errors",
                         "errors": {TYPED_BLOCK: "This confirmation is not yours to submit."}})
    expected = typed_confirmation(parsed) or ""
    if _typed_value(view) != expected:
        return Step(ack={"response_action": "errors",
                         "errors": {TYPED_BLOCK: f"That does not match. Type {expected} exactly, or cancel."}})
    requester = Actor(user_id=actor.user_id, team_id=confirmation.team, channel_id=confirmation.channel,
                      surface="modal")

    async def then() -> None:
        if not await asyncio.to_thread(services.store.confirmations.use, confirmation.id):
            return  # submitted again (another view, a retry): it already went ahead once
        await proceed(services, parsed, confirmation.command, requester,
                      Responder(response_url=reply_url(services, confirmation.response_url)))

    return after_ack(then)
