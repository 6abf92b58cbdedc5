"""The one choke point every operation runs through: policy, audit before and after, the call."""

from __future__ import annotations

import asyncio
import functools
import logging
import time
from collections.abc import Awaitable
from typing import Any, Protocol

from pydantic import ValidationError

from bot import logs
from bot.backends.http import budget
from bot.errors import BackendError, DatabaseUnavailable, OpError, OutcomeUnknown, Reason, RefusedError
from bot.metrics import metrics_of
from bot.operations.base import Actor, Operation, OpRequest, OpResult, Risk
from bot.operations.context import OpContext, Services
from bot.operations.outcome import BACKEND_NAMES, settle
from bot.operations.suggest import suggest_project
from bot.redact import redact, scrub
from bot.settings import Target
from bot.store.audit import AuditEntry
from bot.store.errors import StoreError
from bot.ui.mrkdwn import Mrkdwn, channel, code, md, user

log = logging.getLogger("projectops.executor")

#: How long past its budget's deadline an operation may take to turn a cut-off request into its own error, before
#: it is stopped from outside (every back-end request inside is already cut at the deadline).
CUTOFF_GRACE_SECONDS = 0.5
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
        channels = Mrkdwn(", ").join(channel(c) for c in target.policy.destructive_channels) if target else ""
        return RefusedError(f"`{op.command}` on `{target.name if target else ''}` is not allowed in this channel.",
                            md("Run it in {}.", channels))
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
            return RefusedError(md("{} may not approve {}.", user(request.approved_by), code(op.command)),
                                "An admin must approve.")
    return None


class Execute(Protocol):
    def __call__(self, services: Services, request: OpRequest, timeout: float | None = None) -> Awaitable[OpResult]:
        ...


def observed(run: Execute) -> Execute:
    """Count each operation by name, target and outcome, time the ones that ran, and keep its audit id in the
    log context (`bot.logs.audit_id`) while it runs."""

    @functools.wraps(run)
    async def execute(services: Services, request: OpRequest, timeout: float | None = None) -> OpResult:
        token = logs.audit_id.set(None)
        started = time.monotonic()
        try:
            result = await run(services, request, timeout)
        finally:
            logs.audit_id.reset(token)
        outcome = ("succeeded" if result.error is None
                   else "refused" if isinstance(result.error, RefusedError) else "failed")
        metrics_of(services).operation(request.operation.qualified_name, request.target or "", outcome,
                                       None if outcome == "refused" else time.monotonic() - started)
        return result

    return execute


def refused_without_database(run: Execute) -> Execute:
    """The audit row comes first: when the database cannot take it, nothing runs, and the person is told so in one
    clear sentence (`DatabaseUnavailable`). Only the writes before the call can fail this way: an outcome the
    database cannot take after the call is kept until it is back (`services.audit_backlog`)."""

    @functools.wraps(run)
    async def execute(services: Services, request: OpRequest, timeout: float | None = None) -> OpResult:
        try:
            return await run(services, request, timeout)
        except StoreError as exc:
            log.warning("%s not run: the database is unreachable (%s)", request.operation.qualified_name, exc)
            return OpResult(request, 0, error=DatabaseUnavailable())

    return execute


@observed
@refused_without_database
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

    if op.idempotent:  # one atomic claim in the store: the same create, whoever and wherever, runs once
        claimed, earlier = await asyncio.to_thread(services.audit.start_once, entry, IDEMPOTENCY_WINDOW_SECONDS)
        if claimed is None:
            earlier = earlier or {}
            state = "is still running" if earlier.get("outcome") == "started" else "already succeeded"
            who = earlier.get("user") or ""
            by = md(", asked by {}", user(who)) if who and who != request.actor.user_id else ""
            error = RefusedError(
                md("The same create {}{} (audit #{}, {} UTC); I did not send it again.", state, by,
                   earlier.get("id"), str(earlier.get("at", ""))[11:19]),
                "If you really want a second one, change the name.",
            )
            audit_id = await asyncio.to_thread(services.audit.record, entry, "refused", str(error))
            return OpResult(request, audit_id, error=error)
        audit_id = claimed
    else:
        audit_id = await asyncio.to_thread(services.audit.start, entry)
    logs.audit_id.set(audit_id)
    ctx = OpContext(services=services, actor=request.actor, target=target, progress=request.progress)
    started = time.monotonic()
    limit = timeout or services.config.backends.timeout_seconds
    value, error, note = None, None, ""
    try:
        value = await run_bounded(ctx, op, request.params, limit)
    except OutcomeUnknown as exc:  # a change was sent and its answer did not come: re-read what is true
        left = max(0.5, limit - (time.monotonic() - started))
        value, error, note = await settle(ctx, op, request.params, exc, left)
    except TimeoutError:
        stopped = " before it changed anything" if op.risk is not Risk.READ else ""
        error = BackendError(
            f"`{op.command}` took longer than {limit:g} s and was stopped{stopped}.",
            "The back end may be slow; `/projects targets` shows whether it answers.",
            reason=Reason.TIMEOUT,
        )
    except BackendError as exc:  # not found, unreachable, not JSON…: suggest.py adds what to try
        error = exc
        error.message = scrub(error.message)
        with budget(max(0.5, limit - (time.monotonic() - started))):
            await suggest_project(ctx, request.params, exc)
    except OpError as exc:
        error = exc
        error.message = scrub(error.message)
    except StoreError as exc:  # the operation's own records (digests, provisioning) could not be read or written
        log.warning("operation %s lost the database (audit #%s): %s", op.name, audit_id, exc)
        error = OpError(f"projectops lost its database while running `{op.command}`.",
                        "Check the result before trying again in a minute.")
    except asyncio.CancelledError:  # the app is stopping: the row must not stay "started"
        try:
            services.audit.finish(audit_id, "failed", error="projectops stopped while this ran; check the result",
                                  duration_ms=int((time.monotonic() - started) * 1000))
        except Exception:  # the cancellation goes on whatever happens here
            log.exception("could not complete audit #%s of a cancelled %s", audit_id, op.name)
        raise
    except ValidationError:  # a back end's answer of a shape its client does not know
        log.exception("operation %s could not read a back end's answer (audit #%s)", op.name, audit_id)
        error = unreadable(target, audit_id)
    except Exception:
        log.exception("operation %s failed unexpectedly (audit #%s)", op.name, audit_id)
        error = OpError(
            f"Something went wrong inside projectops while running `{op.command}`.",
            f"Nothing more was done. Quote audit #{audit_id} when you report it.",
        )
    duration_ms = int((time.monotonic() - started) * 1000)
    request_id = getattr(error, "request_id", "") or ""
    outcome = {"error": scrub(str(error)) if error else scrub(note), "duration_ms": duration_ms,
               "request_id": request_id}
    try:
        await asyncio.to_thread(services.audit.finish, audit_id, "failed" if error else "succeeded", **outcome)
    except StoreError:  # the work is done and cannot be undone: its outcome is written once the database is back
        services.audit_backlog.keep(services.audit, audit_id, "failed" if error else "succeeded", **outcome)
    return OpResult(request, audit_id, value=value, error=error, duration_ms=duration_ms, note=note)


async def run_bounded(ctx: OpContext, op: Operation, params: Any, seconds: float) -> Any:
    """`op.run` within `seconds` (a change keeps a little of it back, to re-read the back end if its answer does
    not come). Every back-end request inside is cut at the deadline (`bot.backends.http.budget`); a change cut short
    after it sent something raises `OutcomeUnknown`, one that sent nothing a plain TimeoutError."""
    reserve = 0.0 if op.risk is Risk.READ else min(ctx.config.backends.verify_seconds, seconds / 4)
    work = seconds - reserve
    with budget(work) as spent:
        try:
            return await asyncio.wait_for(op.run(ctx, params), work + min(CUTOFF_GRACE_SECONDS, work / 4))
        except TimeoutError:
            if op.risk is Risk.READ or not spent.sent:
                raise
            name = BACKEND_NAMES.get(ctx.target.kind, ctx.target.kind) if ctx.target else "The back end"
            cause = BackendError(f"{name} did not answer within {work:g} s.", backend=name, reason=Reason.TIMEOUT)
            raise OutcomeUnknown(cause, what=f"did not confirm within {work:g} s") from None


def unreadable(target: Target | None, audit_id: int) -> BackendError:
    name = BACKEND_NAMES.get(target.kind, target.kind) if target else "A back end"
    where = f" on `{target.name}`" if target else ""
    return BackendError(f"{name}{where} answered with data projectops cannot read.",
                        f"Its API may have changed. Quote audit #{audit_id} when you report it.",
                        backend=name, reason=Reason.NOT_JSON)
