"""One way to run a request from any surface: text → request → choke point → answer."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel

from bot.errors import UsageError
from bot.operations.base import Actor, Operation, OpRequest, OpResult, Rendered
from bot.operations.context import Services
from bot.operations.executor import execute, record_event
from bot.operations.parser import ParsedCommand, parse_command, split_words
from bot.settings import Target
from bot.slack.replies import announce_change, render_result
from bot.ui import blocks as bk


@dataclass
class Step:
    """What a listener does with a payload: ack with `ack`, then await `then` (the slow part, after the ack)."""

    ack: dict[str, Any] = field(default_factory=dict)
    then: Callable[[], Awaitable[Any]] | None = None

    async def run(self, ack: Callable[..., Awaitable[Any]]) -> None:
        await ack(**self.ack)
        if self.then is not None:
            await self.then()


def after_ack(then: Callable[[], Awaitable[Any]] | None = None) -> Step:
    return Step(then=then)


@dataclass
class OpenForm:
    """A command typed without its arguments whose operation has a form: open the form instead."""

    operation: Operation
    target: Target | None = None
    params: BaseModel | None = None


def parse_or_usage(services: Services, text: str) -> ParsedCommand | UsageError:
    try:
        return parse_command(text, services.registry, services.config)
    except UsageError as exc:
        return exc


#: Words people type for a form's command (`/projects new` opens the create form).
FORM_ALIASES = {"new": "create"}


def _bare_form(services: Services, words: list[str]) -> OpenForm | None:
    """`create`, `edit`, `provision [<target>]`: the command's words alone (and at most a target of its kind)."""
    if len(words) == 1:
        words = [FORM_ALIASES.get(words[0].lower(), words[0])]
    for size in (2, 1):
        command, rest = " ".join(words[:size]).lower(), words[size:]
        ops = [op for op in services.registry.for_command(command) if op.form]
        if not ops or len(words) < size:
            continue
        if not rest:
            return OpenForm(operation=ops[0])
        target = services.config.target(rest[0]) if len(rest) == 1 else None
        op = next((o for o in ops if target is not None and o.kind == target.kind), None)
        if op is not None and op.form == "provision":  # `provision <target>` opens the form on that target
            return OpenForm(operation=op, target=target)
    return None


def route(services: Services, text: str) -> ParsedCommand | OpenForm | UsageError:
    """What a typed `/projects` text asks for, before any back-end call."""
    try:
        words = split_words(text)
    except UsageError:
        words = text.split()
    form = _bare_form(services, words)
    if form is not None:
        return form
    parsed = parse_or_usage(services, text)
    if isinstance(parsed, ParsedCommand) and parsed.operation.opens_form:
        return OpenForm(operation=parsed.operation, target=parsed.target, params=parsed.params)
    return parsed


def request_for(parsed: ParsedCommand, actor: Actor, **kwargs: Any) -> OpRequest:
    return OpRequest(operation=parsed.operation, actor=actor, params=parsed.params,
                     target=parsed.target.name if parsed.target else None, **kwargs)


async def record_bad_input(services: Services, actor: Actor, text: str, error: UsageError) -> int:
    """Bad input never reaches an operation, but it is still audited."""
    return await record_event(services, actor, "parse", "failed", str(error), params={"text": text[:500]})


async def bad_input(services: Services, actor: Actor, text: str, error: UsageError) -> Rendered:
    audit_id = await record_bad_input(services, actor, text, error)
    return bk.error_message(error, audit_id)


async def run_request(services: Services, request: OpRequest) -> tuple[OpResult, Rendered]:
    """Through the choke point; a change is announced in its channel; the answer rendered."""
    result = await execute(services, request)
    await announce_change(services, result)
    return result, render_result(services, result)


async def read_value(services: Services, actor: Actor, name: str, kind: str | None, target: str | None,
                     params: dict[str, Any] | None = None, timeout: float | None = None) -> Any:
    """One READ operation's value through the choke point (dashboards, pickers); None when missing or failed."""
    op = services.registry.get(name, kind)
    if op is None:
        return None
    request = OpRequest(operation=op, actor=actor, params=op.params.model_validate(params or {}), target=target)
    result = await execute(services, request, timeout=timeout)
    return result.value if result.ok else None
