"""The one choke point every operation runs through: policy, audit before and after, the call."""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

from bot.errors import BackendError, OpError, RefusedError
from bot.operations.base import Actor, OpRequest, OpResult, Risk
from bot.operations.context import OpContext, Services
from bot.operations.suggest import suggest_project
from bot.redact import redact, scrub
from bot.settings import Target
from bot.store.audit import AuditEntry

log = logging.getLogger("projectops.executor")

#: Longest any single operation may run before it is reported as timed out.
OPERATION_TIMEOUT_SECONDS = 120.0
#: A create repeated with identical params within this window (a retry, a double submit) runs once.
IDEMPOTENCY_WINDOW_SECONDS = 600.0


def audit_entry(request: OpRequest) -> AuditEntry:
    actor = request.actor
    return AuditEntry(
        user=actor.user_id,
        team=actor.team_id,
        channel=actor.channel_id,
        surface=actor.surface,
        operation=request.operation.qualified_name,
        target=request.target or "",
        params=redact(request.params.model_dump(mode="json")),
        risk=str(request.operation.risk),
        confirmed_by=request.confirmed_by,
        approved_by=request.approved_by,
    )


async def record_event(
    services: Services,
    actor: Actor,
    event: str,
    outcome: str,
    detail: str = "",
    *,
    target: str = "",
    params: dict[str, Any] | None = None,
    risk: str = "read",
    surface: str = "",
    confirmed_by: str = "",
) -> int:
    """Audit what happens around operations but is not one (bad input, a cancelled confirmation, an approval
    requested, refused, rejected or expired): one row, written here beside the choke point, never by a surface."""
    entry = AuditEntry(
        user=actor.user_id, team=actor.team_id, channel=actor.channel_id, surface=surface or actor.surface,
        operation=event, target=target, params=redact(params or {}), risk=risk, confirmed_by=confirmed_by,
    )
    return await asyncio.to_thread(services.audit.record, entry, outcome, scrub(detail))


async def destructive_gate(services: Services, request: OpRequest, target: Target | None) -> RefusedError | None:
    """Destructive work runs only confirmed, in an allowed channel, and approved by someone else where required."""
    op, actor = request.operation, request.actor
    if op.risk is not Risk.DESTRUCTIVE:
        return None
    policy = services.policy
    if not policy.channel_allows(op, target, actor.channel_id):
        channels = ", ".join(f"<#{c}>" for c in target.policy.destructive_channels) if target else ""
        return RefusedError(f"`{op.command}` on `{target.name if target else ''}` is not allowed in this channel.",
                            f"Run it in {channels}.")
    if not (request.confirmed_by or request.approved_by):
        return RefusedError(f"`{op.command}` is destructive and was not confirmed.",
                            "Use the confirmation button it offers.")
    if await policy.needs_approval(actor.user_id, op, target):
        if not request.approved_by:
            return RefusedError(f"`{op.command}` needs a second person's approval.",
                                "Confirm it in Slack to send it for approval.")
        if request.approved_by == actor.user_id:
            return RefusedError("You cannot approve your own request.", "Ask another admin.")
        if not await policy.can_approve(request.approved_by, target):
            return RefusedError(f"<@{request.approved_by}> may not approve `{op.command}`.", "An admin must approve.")
    return None


async def execute(services: Services, request: OpRequest, timeout: float | None = None) -> OpResult:
    """Run one operation: check policy, audit, call, and return a result or a typed error.

    Never raises for an operation's own failure: the error is in `OpResult.error` and its audit
    row says `failed` or `refused`. Unexpected exceptions are logged, not shown.
    """
    op = request.operation
    target = services.config.target(request.target) if request.target else None
    entry = audit_entry(request)
    if op.needs_target and target is None:
        error = OpError(f"`{request.target}` is not a configured target.", "`/projects targets` lists them.")
        audit_id = await asyncio.to_thread(services.audit.record, entry, "failed", str(error))
        return OpResult(request, audit_id, error=error)

    decision = await services.policy.check(request.actor.user_id, op, target)
    if not decision.allowed:
        error = RefusedError(f"You may not run `{op.command}`" + (f" on `{target.name}`." if target else "."),
                             decision.reason)
        audit_id = await asyncio.to_thread(services.audit.record, entry, "refused", str(error))
        return OpResult(request, audit_id, error=error)
    error = await destructive_gate(services, request, target)
    if error is not None:
        audit_id = await asyncio.to_thread(services.audit.record, entry, "refused", str(error))
        return OpResult(request, audit_id, error=error)

    if op.idempotent:
        earlier = await asyncio.to_thread(services.audit.recent_same, entry, IDEMPOTENCY_WINDOW_SECONDS)
        if earlier is not None:
            state = "is still running" if earlier["outcome"] == "started" else "already succeeded"
            error = RefusedError(
                f"The same create {state} (audit #{earlier['id']}, {earlier['at'][11:19]} UTC); "
                "I did not send it again.",
                "If you really want a second one, change the name.",
            )
            audit_id = await asyncio.to_thread(services.audit.record, entry, "refused", str(error))
            return OpResult(request, audit_id, error=error)
    audit_id = await asyncio.to_thread(services.audit.start, entry)
    ctx = OpContext(services=services, actor=request.actor, target=target, progress=request.progress)
    started = time.monotonic()
    value, error = None, None
    try:
        value = await asyncio.wait_for(op.run(ctx, request.params), timeout or OPERATION_TIMEOUT_SECONDS)
    except TimeoutError:
        error = BackendError(
            f"`{op.command}` took longer than {timeout or OPERATION_TIMEOUT_SECONDS:.0f} s and was stopped.",
            "The back end may be slow; check its state before trying again.",
        )
    except BackendError as exc:  # not found, unreachable, not JSON…: suggest.py adds what to try
        error = exc
        error.message = scrub(error.message)
        await suggest_project(ctx, request.params, exc)
    except OpError as exc:
        error = exc
        error.message = scrub(error.message)
    except Exception:
        log.exception("operation %s failed unexpectedly (audit #%s)", op.name, audit_id)
        error = OpError(
            f"Something went wrong inside projectops while running `{op.command}`.",
            f"Nothing more was done. Quote audit #{audit_id} when you report it.",
        )
    duration_ms = int((time.monotonic() - started) * 1000)
    request_id = getattr(error, "request_id", "") or ""
    await asyncio.to_thread(
        services.audit.finish,
        audit_id,
        "failed" if error else "succeeded",
        error=scrub(str(error)) if error else "",
        duration_ms=duration_ms,
        request_id=request_id,
    )
    return OpResult(request, audit_id, value=value, error=error, duration_ms=duration_ms)
