"""Checks the assistant's understanding tests share: the one request understood, its command texts, and that a
command text is what a person could type."""

from __future__ import annotations

from bench.assistant import TARGETS
from bot.assistant import ResolvedRequest, Understanding, Understood
from bot.assistant.commands import config_for
from bot.operations.parser import parse_command
from bot.operations.registry import Registry


def only(result: Understanding) -> ResolvedRequest:
    assert isinstance(result, Understood), result
    assert len(result.requests) == 1, result.requests
    return result.requests[0]


def texts(result: Understanding) -> list[str]:
    assert isinstance(result, Understood), result
    return [r.command_text for r in result.requests]


def assert_parses(request: ResolvedRequest, registry: Registry, targets: dict[str, str] = TARGETS) -> None:
    """The command text is what a person could type: same operation, same target, params that validate."""
    parsed = parse_command(request.command_args, registry, config_for(targets))
    assert (parsed.operation.name, parsed.operation.kind) == (request.operation_name, request.kind)
    assert (parsed.target.name if parsed.target else None) == request.target
    assert parsed.operation.params.model_validate(request.params) is not None
    assert registry.get(request.operation_name, request.kind) is parsed.operation
