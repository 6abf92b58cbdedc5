"""Changes whose answer did not come: re-read the back end and say what is true.

A back-end client raises `OutcomeUnknown` (bot.errors) when a change was sent and its answer does not say whether it
happened: no answer in time, a 5xx, the connection lost once the request was out, an answer that is not JSON. The
executor then calls the operation's `verify` hook, declared once on the Operation, and reports what the re-read found
("Polaris did not confirm within 10 s, but `clickstream` is gone: the delete happened."); the audit row records it.
An operation without a hook says plainly that it cannot tell, and which command shows the state.

The hooks are built from one read of the thing the change was about:

    verify=gone(read)                 a delete happened when the read finds nothing (or the thing is going)
    verify=exists(read)               a create happened when the read finds the thing
    verify=holds(read, check)         an update or state change happened when `check(thing, params)` says so
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from bot.backends.http import budget
from bot.errors import BackendError, NotFoundError, OpError, OutcomeUnknown
from bot.operations.base import Operation, Risk, Verified, Verifier
from bot.operations.context import OpContext
from bot.operations.suggest import command_word, typed_name

log = logging.getLogger("projectops.outcome")

#: How each back-end kind is named in sentences (the clients' own `BACKEND` names).
BACKEND_NAMES = {"polaris": "Polaris", "phoenix": "Phoenix", "terraform": "HCP Terraform", "matillion": "Matillion"}

Read = Callable[[OpContext, Any], Awaitable[Any]]
#: (thing, params) -> (whether the change shows in it, what it is now: "is pausing", "has description …")
Check = Callable[[Any, Any], tuple[bool, str]]
Name = Callable[[Any], str]


def subject_of(params: Any) -> str:
    return typed_name(params) or "it"


def said(error: OutcomeUnknown) -> str:
    """`Polaris did not confirm within 10 s`: the back end and what went wrong with the change's answer."""
    return f"{error.backend or 'The back end'} {error.what}"


def gone(read: Read, *, action: str = "delete", name: Name = subject_of,
         going: Callable[[Any], bool] | None = None) -> Verifier:
    """A delete happened when `read` raises NotFoundError, or `going(thing)` says it is on its way out."""

    async def verify(ctx: OpContext, params: Any, error: OutcomeUnknown) -> Verified:
        subject = name(params)
        try:
            thing = await read(ctx, params)
        except NotFoundError:
            return Verified(True, f"{said(error)}, but `{subject}` is gone: the {action} happened.")
        if going is not None and going(thing):
            return Verified(True, f"{said(error)}, but `{subject}` is being deleted: the {action} happened.")
        return Verified(False, f"{said(error)}, and `{subject}` is still there: the {action} did not happen.")

    return verify


def exists(read: Read, *, action: str = "create", name: Name = subject_of) -> Verifier:
    """A create happened when `read` finds the thing (its name was free before: the operation or the back end
    refuses a taken name first)."""

    async def verify(ctx: OpContext, params: Any, error: OutcomeUnknown) -> Verified:
        subject = name(params)
        try:
            await read(ctx, params)
        except NotFoundError:
            return Verified(False, f"{said(error)}, and there is no `{subject}`: the {action} did not happen.")
        return Verified(True, f"{said(error)}, but `{subject}` exists now: the {action} happened.")

    return verify


def holds(read: Read, check: Check, *, action: str = "change", name: Name = subject_of) -> Verifier:
    """An update or state change happened when `check(thing, params)` finds it in the thing read now."""

    async def verify(ctx: OpContext, params: Any, error: OutcomeUnknown) -> Verified:
        subject = name(params)
        done, now = check(await read(ctx, params), params)
        if done:
            return Verified(True, f"{said(error)}, but `{subject}` {now}: the {action} happened.")
        return Verified(False, f"{said(error)}, and `{subject}` {now}: the {action} did not happen.")

    return verify


def check_command(ctx: OpContext, params: Any) -> str:
    """The command that shows what is there now: the thing itself when the request named one."""
    target = ctx.target.name if ctx.target else "<target>"
    name = typed_name(params)
    return f"`/projects show {target} {command_word(name)}`" if name else f"`/projects list {target}`"


def cannot_tell(ctx: OpContext, op: Operation, params: Any, error: OutcomeUnknown, why: str = "") -> BackendError:
    """The error for a change whose outcome stays open: what went wrong, and where to look before trying again."""
    reread = f" and {why}" if why else ""
    return BackendError(
        f"{said(error)}{reread}, so I cannot tell whether the {op.command} happened.",
        f"Check with {check_command(ctx, params)} before trying again.",
        backend=error.backend, status=error.status, request_id=error.request_id, reason=error.reason,
        resource=error.resource, name=error.name,
    )


async def settle(ctx: OpContext, op: Operation, params: Any, error: OutcomeUnknown,
                 seconds: float) -> tuple[Any, OpError | None, str]:
    """(value, error, note) to report after `error`: the operation's `verify` hook re-reads the back end, within
    `seconds`. A read changes nothing, so its failure is simply the cause."""
    if op.risk is Risk.READ:
        return None, error.cause, ""
    if op.verify is None:
        return None, cannot_tell(ctx, op, params, error), ""
    try:
        with budget(seconds):
            found = await asyncio.wait_for(op.verify(ctx, params, error), seconds + 0.5)
    except TimeoutError:
        return None, cannot_tell(ctx, op, params, error, "reading it again took too long"), ""
    except OpError as exc:
        reason = f"reading it again failed too ({exc.message.rstrip('.')})" if exc.message else ""
        return None, cannot_tell(ctx, op, params, error, reason), ""
    except Exception:
        log.exception("checking the outcome of %s failed", op.name)
        return None, cannot_tell(ctx, op, params, error), ""
    if found.happened:
        return found.value, None, found.note
    return None, BackendError(found.note, "Nothing was changed: try again once it answers.", backend=error.backend,
                              status=error.status, request_id=error.request_id), ""
