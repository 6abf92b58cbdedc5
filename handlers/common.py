"""Shared by the listeners: turn a parsed command into an executed operation and a Slack answer."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from bot import blocks as bk
from bot.audit import AuditEntry
from bot.errors import UsageError
from bot.operations.base import Actor, OpRequest, OpResult, Rendered, Risk
from bot.operations.context import OpContext, Services
from bot.operations.executor import execute
from bot.operations.parser import ParsedCommand, parse_command
from bot.redact import scrub

log = logging.getLogger("projectops.handlers")

Reply = Callable[[Rendered], Awaitable[Any]]


def render_result(services: Services, result: OpResult) -> Rendered:
    if result.error is not None:
        return bk.error_message(result.error, result.audit_id)
    ctx = OpContext(services=services, actor=result.request.actor)
    try:
        return result.request.operation.render(result.value, ctx)
    except Exception:
        log.exception("rendering %s failed (audit #%s)", result.request.operation.name, result.audit_id)
        return Rendered(
            text="The operation ran, but I could not show its result.",
            blocks=[bk.section(":warning: The operation ran (audit "
                               f"#{result.audit_id}), but I could not show its result.")],
        )


def parse_or_usage(services: Services, text: str) -> ParsedCommand | UsageError:
    try:
        return parse_command(text, services.registry, services.config)
    except UsageError as exc:
        return exc


async def record_bad_input(services: Services, actor: Actor, text: str, error: UsageError) -> int:
    """Bad input never reaches an operation, but it is still audited."""
    entry = AuditEntry(
        user=actor.user_id, team=actor.team_id, channel=actor.channel_id, surface=actor.surface,
        operation="parse", params={"text": scrub(text)[:500]}, risk="read",
    )
    return await asyncio.to_thread(services.audit.record, entry, "failed", str(error))


async def respond_bad_input(respond: Any, services: Services, actor: Actor, text: str, error: UsageError,
                            replace_original: bool = False) -> None:
    """A button whose command no longer parses: say why, and audit it like any bad input."""
    await respond(**response_payload(bk.error_message(error)), replace_original=replace_original)
    await record_bad_input(services, actor, text, error)


async def announce_change(services: Services, result: OpResult) -> None:
    """A change to a back end, answered privately, is also announced in its channel in one line."""
    op, actor = result.request.operation, result.request.actor
    if not result.ok or op.risk is Risk.READ or op.kind is None or not actor.channel_id or services.slack is None:
        return
    where = f" on `{result.request.target}`" if result.request.target else ""
    text = f":information_source: <@{actor.user_id}> did this{where}: {op.summary} (audit #{result.audit_id})."
    try:
        await services.pacer.turn(actor.channel_id)
        await services.slack.chat_postMessage(channel=actor.channel_id, text=text, blocks=[bk.context(text)])
    except Exception:  # the change is done and answered; a missing announcement is only logged
        log.warning("could not announce audit #%s in %s", result.audit_id, actor.channel_id)


async def run_parsed(services: Services, parsed: ParsedCommand, actor: Actor) -> Rendered:
    request = OpRequest(
        operation=parsed.operation,
        actor=actor,
        params=parsed.params,
        target=parsed.target.name if parsed.target else None,
    )
    result = await execute(services, request)
    await announce_change(services, result)
    return render_result(services, result)


async def run_text(services: Services, text: str, actor: Actor) -> Rendered:
    """Parse and run a `/projects`-style text (used by mentions and DMs)."""
    parsed = parse_or_usage(services, text)
    if isinstance(parsed, UsageError):
        audit_id = await record_bad_input(services, actor, text, parsed)
        return bk.error_message(parsed, audit_id)
    return await run_parsed(services, parsed, actor)


def response_payload(rendered: Rendered, response_type: str = "ephemeral") -> dict[str, Any]:
    return {
        "response_type": response_type,
        "text": bk.clip(rendered.text, 3000),
        "blocks": bk.fit_message(rendered.blocks),
    }
