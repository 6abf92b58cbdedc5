"""Two-person approval by button: the request message, Approve / Reject, expiry, and the result in thread."""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import UTC, datetime
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond

from bot import blocks as bk
from bot.approvals import APPROVED, DONE, EXPIRED, FAILED, PENDING, REJECTED, Approval
from bot.audit import AuditEntry
from bot.errors import UsageError
from bot.operations.base import Actor, OpRequest, Rendered
from bot.operations.context import Services
from bot.operations.executor import execute
from bot.operations.parser import ParsedCommand
from handlers.common import parse_or_usage, render_result

log = logging.getLogger("projectops.approvals")

APPROVE_ACTION = "projectops_approve"
REJECT_ACTION = "projectops_reject"
SWEEP_SECONDS = 30.0


def when(ts: float) -> str:
    return f"<!date^{int(ts)}^{{date_short_pretty}} {{time}}|{datetime.fromtimestamp(ts, UTC):%Y-%m-%d %H:%M} UTC>"


def approval_blocks(a: Approval, outcome: str = "") -> list[dict[str, Any]]:
    """The approval message: who asks for what and what it destroys; buttons while pending."""
    lines = [f":lock: *Approval needed* — <@{a.requester}> asks to run", f"`/projects {a.command}`"]
    blocks = [bk.section("\n".join(lines))]
    if a.impact:
        blocks.append(bk.section(a.impact))
    if a.status == PENDING and not outcome:
        blocks.append(bk.actions(
            bk.button("Approve", APPROVE_ACTION, value=a.id, style="primary"),
            bk.button("Reject", REJECT_ACTION, value=a.id, style="danger"),
            block_id=f"approval_{a.id}",
        ))
        blocks.append(bk.context(f"An admin other than <@{a.requester}> may decide. Expires {when(a.expires_at)}."))
    else:
        blocks.append(bk.context(outcome))
    return blocks


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
        channel=channel, text=f"Approval needed: /projects {approval.command}", blocks=approval_blocks(approval)
    )
    await asyncio.to_thread(services.approvals.set_message, approval.id, posted["ts"])
    entry = AuditEntry(user=actor.user_id, team=actor.team_id, channel=actor.channel_id, surface="button",
                       operation="approval.request", target=approval.target, risk="destructive",
                       params={"command": approval.command, "approval": approval.id},
                       confirmed_by=actor.user_id)
    await asyncio.to_thread(services.audit.record, entry, "succeeded")
    approvers = await services.policy.approvers(parsed.target)
    who = ", ".join(f"<@{u}>" for u in approvers if u != actor.user_id and u[:1] in "UW")[:500]
    return Rendered(
        text="Sent for approval.",
        blocks=[bk.section(f":hourglass_flowing_sand: `/projects {approval.command}` needs a second person. "
                           f"I posted the request in <#{channel}>" + (f" for {who}" if who else "") + "."),
                bk.context(f"It expires {when(approval.expires_at)}.")],
    )


async def run_approved(services: Services, approval: Approval, approver: str) -> tuple[bool, Rendered]:
    """Run the stored command as the requester, approved by `approver`."""
    parsed = parse_or_usage(services, approval.command)
    if isinstance(parsed, UsageError):
        return False, Rendered(text=parsed.message, blocks=[bk.section(f":x: {parsed.message}")])
    actor = Actor(user_id=approval.requester, team_id=approval.team, channel_id=approval.request_channel,
                  surface="button")
    request = OpRequest(operation=parsed.operation, actor=actor, params=parsed.params,
                        target=parsed.target.name if parsed.target else None,
                        confirmed_by=approval.requester, approved_by=approver)
    result = await execute(services, request)
    return result.ok, render_result(services, result)


async def update_message(services: Services, approval: Approval, outcome: str) -> None:
    if not approval.message_ts:
        return
    await services.slack.chat_update(channel=approval.channel, ts=approval.message_ts,
                                     text=f"/projects {approval.command}: {outcome}",
                                     blocks=approval_blocks(approval, outcome))


async def expire_due(services: Services) -> int:
    """Mark overdue requests expired and say so on their messages."""
    expired = await asyncio.to_thread(services.approvals.expire_due)
    for approval in expired:
        try:
            expired_at = when(approval.expires_at)
            await update_message(services, approval, f":alarm_clock: Expired {expired_at}; nothing was run.")
        except Exception:
            log.warning("could not mark approval %s expired in Slack", approval.id)
    return len(expired)


async def sweep_forever(services: Services) -> None:
    while True:
        await asyncio.sleep(SWEEP_SECONDS)
        try:
            await expire_due(services)
        except Exception:
            log.exception("approval expiry sweep failed")


def register(app: AsyncApp, services: Services) -> None:
    async def refuse(respond: AsyncRespond, approval: Approval | None, user: str, text: str) -> None:
        await respond(response_type="ephemeral", replace_original=False, text=text)
        if approval is not None:
            entry = AuditEntry(user=user, surface="button", operation="approval.decide", target=approval.target,
                               params={"approval": approval.id, "command": approval.command},
                               channel=approval.channel, risk="destructive")
            await asyncio.to_thread(services.audit.record, entry, "refused", text)

    async def load(action: dict[str, Any]) -> Approval | None:
        return await asyncio.to_thread(services.approvals.get, action.get("value", ""))

    @app.action(APPROVE_ACTION)
    async def on_approve(ack: AsyncAck, body: dict[str, Any], action: dict[str, Any], respond: AsyncRespond) -> None:
        await ack()
        user = (body.get("user") or {}).get("id", "")
        approval = await load(action)
        if approval is None:
            await respond(response_type="ephemeral", replace_original=False, text="I have no record of that request.")
            return
        if approval.status != PENDING or approval.expired:
            await tell_decided(respond, approval)
            return
        if user == approval.requester:
            await refuse(respond, approval, user, "You cannot approve your own request; another admin must.")
            return
        target = services.config.target(approval.target) if approval.target else None
        if not await services.policy.can_approve(user, target):
            await refuse(respond, approval, user, "Only an admin may approve this request.")
            return
        if not await asyncio.to_thread(services.approvals.decide, approval.id, APPROVED, user):
            await tell_decided(respond, await load(action) or approval)
            return
        approval.status, approval.decided_by = APPROVED, user
        approved = f":white_check_mark: Approved by <@{user}> {when(time.time())}"
        await update_message(services, approval, f"{approved} — running…")
        ok, rendered = await run_approved(services, approval, user)
        await services.pacer.turn(approval.channel)
        await services.slack.chat_postMessage(channel=approval.channel, thread_ts=approval.message_ts,
                                              text=rendered.text, blocks=rendered.blocks)
        mark = ":white_check_mark: done" if ok else ":x: failed (see thread)"
        await asyncio.to_thread(services.approvals.finish, approval.id, DONE if ok else FAILED, rendered.text[:500])
        await update_message(services, approval, f"Approved by <@{user}> {when(time.time())} — {mark}")

    @app.action(REJECT_ACTION)
    async def on_reject(ack: AsyncAck, body: dict[str, Any], action: dict[str, Any], respond: AsyncRespond) -> None:
        await ack()
        user = (body.get("user") or {}).get("id", "")
        approval = await load(action)
        if approval is None or approval.status != PENDING or approval.expired:
            if approval is not None:
                await tell_decided(respond, approval)
            return
        target = services.config.target(approval.target) if approval.target else None
        if user != approval.requester and not await services.policy.can_approve(user, target):
            await refuse(respond, approval, user, "Only an admin (or the requester, to withdraw it) may reject this.")
            return
        if not await asyncio.to_thread(services.approvals.decide, approval.id, REJECTED, user):
            await tell_decided(respond, await load(action) or approval)
            return
        entry = AuditEntry(user=approval.requester, team=approval.team, channel=approval.request_channel,
                           surface="button", operation=approval.operation, target=approval.target,
                           params={"command": approval.command, "approval": approval.id}, risk="destructive",
                           confirmed_by=approval.requester, approved_by="")
        await asyncio.to_thread(services.audit.record, entry, "refused", f"rejected by {user}")
        approval.status = REJECTED
        rejected = f":no_entry: Rejected by <@{user}> {when(time.time())}"
        await update_message(services, approval, f"{rejected}; nothing was run.")

    async def tell_decided(respond: AsyncRespond, approval: Approval) -> None:
        if approval.expired or approval.status == EXPIRED:
            await expire_due(services)
            text = "This request expired; nothing was run. Ask again if it is still needed."
        else:
            who = f" by <@{approval.decided_by}>" if approval.decided_by else ""
            text = f"This request was already decided{who} ({approval.status})."
        await respond(response_type="ephemeral", replace_original=False, text=text)
