"""Two-person approval: the request message, approve / reject, expiry, and the result in its thread.

The states (pending → approved → done | failed; pending → rejected | expired) live in the store; each
decision is one atomic transition there, so a double click, fifty approvers or a retry decide once.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

from bot.errors import UsageError
from bot.operations.base import Actor, OpRequest, Rendered
from bot.operations.context import Services
from bot.operations.executor import execute, record_event
from bot.operations.parser import ParsedCommand
from bot.slack.progress import Waiting, waiting_for
from bot.slack.replies import deliver, render_result
from bot.slack.runner import parse_or_usage
from bot.store.approvals import APPROVED, DONE, EXPIRED, FAILED, PENDING, REJECTED, Approval
from bot.ui import blocks as bk
from bot.ui.ids import APPROVE_ACTION, REJECT_ACTION
from bot.ui.mrkdwn import Mrkdwn, code, date, md
from bot.ui.mrkdwn import channel as mention_channel
from bot.ui.mrkdwn import user as mention

log = logging.getLogger("projectops.approvals")

SWEEP_SECONDS = 30.0


def when(ts: float) -> Mrkdwn:
    return date(ts)


def approval_blocks(a: Approval, outcome: str = "") -> list[dict[str, Any]]:
    """The approval message: who asks for what and what it destroys; buttons while pending."""
    blocks = [bk.section(md(":lock: *Approval needed* — {} asks to run\n{}", mention(a.requester),
                            code(f"/projects {a.command}")))]
    if a.impact:
        blocks.append(bk.section(a.impact))
    if a.status == PENDING and not outcome:
        blocks.append(bk.actions(
            bk.button("Approve", APPROVE_ACTION, value=a.id, style="primary"),
            bk.button("Reject", REJECT_ACTION, value=a.id, style="danger"),
            block_id=f"approval_{a.id}",
        ))
        blocks.append(bk.context(md("An admin other than {} may decide. Expires {}.", mention(a.requester),
                                    when(a.expires_at))))
    else:
        blocks.append(bk.context(outcome))
    return blocks


def _event_params(approval: Approval) -> dict[str, Any]:
    return {"command": approval.command, "approval": approval.id}


async def request_approval(
    services: Services, parsed: ParsedCommand, text: str, actor: Actor, impact: str
) -> Rendered:
    """Store the request, post the approval message, and say where it went."""
    config = services.config.approvals
    channel = config.channel or actor.channel_id
    approval = await asyncio.to_thread(
        services.approvals.create, operation=parsed.operation.qualified_name, command=text.strip(),
        target=parsed.target.name if parsed.target else "", requester=actor.user_id, team=actor.team_id,
        channel=channel, request_channel=actor.channel_id, impact=impact, ttl_seconds=config.expire_minutes * 60,
    )
    await services.pacer.turn(channel)
    posted = await services.slack.chat_postMessage(
        channel=channel, text=bk.fallback(f"Approval needed: /projects {approval.command}"),
        blocks=approval_blocks(approval)
    )
    await asyncio.to_thread(services.approvals.set_message, approval.id, posted["ts"])
    await record_event(services, actor, "approval.request", "succeeded", target=approval.target,
                       params=_event_params(approval), risk="destructive", surface="button",
                       confirmed_by=actor.user_id)
    approvers = await services.policy.approvers(parsed.target)
    who = Mrkdwn(", ").join(mention(u) for u in approvers if u != actor.user_id and u[:1] in "UW")
    return Rendered(
        text="Sent for approval.",
        blocks=[bk.section(md(":hourglass_flowing_sand: {} needs a second person. I posted the request in {}{}.",
                              code(f"/projects {approval.command}"), mention_channel(channel),
                              md(" for {}", bk.clip(who, 500)) if who else "")),
                bk.context(md("It expires {}.", when(approval.expires_at)))],
    )


def requester_of(approval: Approval) -> Actor:
    return Actor(user_id=approval.requester, team_id=approval.team, channel_id=approval.request_channel,
                 surface="button")


async def run_approved(services: Services, approval: Approval, approver: str) -> tuple[bool, Rendered]:
    """Run the stored command as the requester, approved by `approver`."""
    parsed = parse_or_usage(services, approval.command)
    if isinstance(parsed, UsageError):
        return False, Rendered(text=parsed.message, blocks=[bk.section(f":x: {parsed.message}")])
    request = OpRequest(operation=parsed.operation, actor=requester_of(approval), params=parsed.params,
                        target=parsed.target.name if parsed.target else None,
                        confirmed_by=approval.requester, approved_by=approver)
    result = await execute(services, request)
    return result.ok, render_result(services, result)


async def update_message(services: Services, approval: Approval, outcome: str) -> None:
    if not approval.message_ts:
        return
    await services.slack.chat_update(channel=approval.channel, ts=approval.message_ts,
                                     text=bk.fallback(md("{}: {}", f"/projects {approval.command}", outcome)),
                                     blocks=approval_blocks(approval, outcome))


async def expire_due(services: Services) -> int:
    """Mark overdue requests expired and say so on their messages."""
    expired = await asyncio.to_thread(services.approvals.expire_due)
    services.metrics.approval_decided("expired", len(expired))
    for approval in expired:
        try:
            await update_message(services, approval, md(":alarm_clock: Expired {}; nothing was run.",
                                                         when(approval.expires_at)))
        except Exception:
            log.warning("could not mark approval %s expired in Slack", approval.id)
        await tell_expired(services, approval)
    return len(expired)


async def sweep_forever(services: Services) -> None:
    """Expire overdue requests every `SWEEP_SECONDS` (a background duty of the running app)."""
    while True:
        await asyncio.sleep(SWEEP_SECONDS)
        try:
            await expire_due(services)
        except Exception:
            log.exception("approval expiry sweep failed")


def _ephemeral(text: str) -> dict[str, Any]:
    return {"response_type": "ephemeral", "replace_original": False, "text": bk.fallback(text)}


async def _already_decided(services: Services, approval: Approval) -> dict[str, Any]:
    if approval.expired or approval.status == EXPIRED:
        await expire_due(services)
        return _ephemeral("This request expired; nothing was run. Ask again if it is still needed.")
    who = md(" by {}", mention(approval.decided_by)) if approval.decided_by else ""
    return _ephemeral(md("This request was already decided{} ({}).", who, approval.status))


async def _refuse(services: Services, approval: Approval, actor: Actor, text: str) -> dict[str, Any]:
    await record_event(services, Actor(user_id=actor.user_id, channel_id=approval.channel, surface="button"),
                       "approval.decide", "refused", text, target=approval.target, params=_event_params(approval),
                       risk="destructive")
    return _ephemeral(text)


async def _unknown(services: Services, actor: Actor, approval_id: Any) -> dict[str, Any]:
    """A decision on a request projectops has no record of (a stale or edited button): audited, and said."""
    shown = approval_id[:64] if isinstance(approval_id, str) else ""
    await record_event(services, Actor(user_id=actor.user_id, channel_id=actor.channel_id, surface="button"),
                       "approval.decide", "refused", "no such approval request", params={"approval": shown},
                       risk="destructive")
    return _ephemeral("I have no record of that request; nothing was run.")


async def _load(services: Services, approval_id: Any, message_ts: str = "") -> Approval | None:
    """The request a button names; a click that races the message's own bookkeeping supplies its ts."""
    if not isinstance(approval_id, str) or not approval_id:
        return None
    approval = await asyncio.to_thread(services.approvals.get, approval_id)
    if approval is not None and not approval.message_ts and message_ts:
        await asyncio.to_thread(services.approvals.set_message, approval.id, message_ts)
        approval.message_ts = message_ts
    return approval


async def _pending(services: Services, actor: Actor, approval_id: Any, respond: Any,
                   message_ts: str) -> Approval | None:
    """The request a click names while it can still be decided; otherwise the clicker is told why not."""
    approval = await _load(services, approval_id, message_ts)
    if approval is None:
        await respond(**await _unknown(services, actor, approval_id))
        return None
    if approval.status != PENDING or approval.expired:
        await respond(**await _already_decided(services, approval))
        return None
    return approval


async def approve(services: Services, actor: Actor, approval_id: Any, respond: Any, message_ts: str = "") -> None:
    """An Approve click: only another admin, only while pending, once; then run it and post the result."""
    user = actor.user_id
    approval = await _pending(services, actor, approval_id, respond, message_ts)
    if approval is None:
        return
    if user == approval.requester:
        await respond(**await _refuse(services, approval, actor,
                                      "You cannot approve your own request; another admin must."))
        return
    target = services.config.target(approval.target) if approval.target else None
    if not await services.policy.can_approve(user, target):
        await respond(**await _refuse(services, approval, actor, "Only an admin may approve this request."))
        return
    if not await asyncio.to_thread(services.approvals.decide, approval.id, APPROVED, user):
        await respond(**await _already_decided(services, await _load(services, approval.id) or approval))
        return
    approval.status, approval.decided_by = APPROVED, user
    services.metrics.approval_decided("approved")
    await update_message(services, approval, md(":white_check_mark: Approved by {} {} — running…", mention(user),
                                                when(time.time())))
    approved_at = time.time()

    async def still_waiting(line: str, first: bool) -> None:  # the request message says the run still waits
        await update_message(services, approval, md(":white_check_mark: Approved by {} {} — running… {}",
                                                    mention(user), when(approved_at), line))

    async with Waiting(still_waiting, waiting_for(approval.target or None), services.config.backends.progress_seconds,
                       most=20):
        ok, rendered = await run_approved(services, approval, user)
    await services.pacer.turn(approval.channel)
    await services.slack.chat_postMessage(channel=approval.channel, thread_ts=approval.message_ts,
                                          text=bk.fallback(rendered.text), blocks=bk.fit_message(rendered.blocks))
    mark = ":white_check_mark: done" if ok else ":x: failed (see thread)"
    await asyncio.to_thread(services.approvals.finish, approval.id, DONE if ok else FAILED, rendered.text[:500])
    await update_message(services, approval, md("Approved by {} {} — {}", mention(user), when(time.time()), mark))


async def reject(services: Services, actor: Actor, approval_id: Any, respond: Any, message_ts: str = "") -> None:
    """A Reject click: an admin, or the requester withdrawing it; nothing runs."""
    user = actor.user_id
    approval = await _pending(services, actor, approval_id, respond, message_ts)
    if approval is None:
        return
    target = services.config.target(approval.target) if approval.target else None
    if user != approval.requester and not await services.policy.can_approve(user, target):
        await respond(**await _refuse(services, approval, actor,
                                      "Only an admin (or the requester, to withdraw it) may reject this."))
        return
    if not await asyncio.to_thread(services.approvals.decide, approval.id, REJECTED, user):
        await respond(**await _already_decided(services, await _load(services, approval.id) or approval))
        return
    services.metrics.approval_decided("rejected")
    await record_event(services, requester_of(approval), approval.operation, "refused", f"rejected by {user}",
                       target=approval.target, params=_event_params(approval), risk="destructive",
                       confirmed_by=approval.requester)
    approval.status = REJECTED
    await update_message(services, approval, md(":no_entry: Rejected by {} {}; nothing was run.", mention(user),
                                                when(time.time())))
    await tell_rejected(services, approval, user)


async def tell_rejected(services: Services, approval: Approval, rejecter: str) -> None:
    """The requester hears of a rejection (or their own withdrawal, said in the thread only)."""
    command = code(f"/projects {bk.clip(approval.command, 200)}")
    if rejecter == approval.requester:
        text = md(":no_entry: {} withdrew {}; nothing was run.", mention(rejecter), command)
    else:
        text = md(":no_entry: {}, {} rejected {}; nothing was run.", mention(approval.requester), mention(rejecter),
                  command)
    await tell_requester(services, approval, text, privately=rejecter != approval.requester)


async def tell_expired(services: Services, approval: Approval) -> None:
    command = code(f"/projects {bk.clip(approval.command, 200)}")
    await tell_requester(services, approval, md(
        ":alarm_clock: {}, no admin decided on {} in time; it expired and nothing was run. Ask again if it is still "
        "needed.", mention(approval.requester), command))


async def tell_requester(services: Services, approval: Approval, text: Mrkdwn, privately: bool = True) -> None:
    """Where an approved request posts its result: in the request's thread, mentioning the requester; when they
    asked from another channel, also privately there (or by DM). Slack errors are logged, never raised."""
    rendered = Rendered(text=text, blocks=[bk.section(text)])
    try:
        await services.pacer.turn(approval.channel)
        await services.slack.chat_postMessage(channel=approval.channel, text=bk.fallback(rendered.text),
                                              blocks=rendered.blocks,
                                              **({"thread_ts": approval.message_ts} if approval.message_ts else {}))
    except Exception:
        log.warning("could not post on approval %s in its thread", approval.id)
    if not privately or approval.request_channel == approval.channel:
        return
    try:
        await deliver(services, services.slack, approval.requester, approval.request_channel, rendered)
    except Exception:
        log.warning("could not tell %s about approval %s", approval.requester, approval.id)
