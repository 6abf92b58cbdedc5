"""`/projects <verb> [<target>] [args]` parsing, built from the registry.

Arguments map onto the operation's params model: positionals fill the required fields in order
(or the operation's `positional` list), `--name value`, `--name=value` and `name=value` set any
field, `--flag` / `--no-flag` set booleans, and a repeated option builds a list.
"""

from __future__ import annotations

import shlex
import types
import typing
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ValidationError
from rapidfuzz import fuzz, process

from bot.errors import UsageError
from bot.operations import rules
from bot.operations.base import Operation
from bot.operations.registry import Registry
from bot.settings import AppConfig, Target


@dataclass
class ParsedCommand:
    operation: Operation
    target: Target | None
    params: BaseModel


def closest(word: str, choices: list[str], cutoff: float = 55) -> str | None:
    """The most similar choice to `word`, or None when nothing is close."""
    if not word or not choices:
        return None
    match = process.extractOne(word, choices, scorer=fuzz.WRatio, score_cutoff=cutoff)
    return match[0] if match else None


def _field_is_bool(annotation: Any) -> bool:
    if annotation is bool:
        return True
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        return bool in typing.get_args(annotation)
    return False


def _field_is_list(annotation: Any) -> bool:
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        return any(_field_is_list(a) for a in typing.get_args(annotation))
    return origin in (list, tuple, set)


def positional_fields(op: Operation) -> list[str]:
    if op.positional is not None:
        return list(op.positional)
    return [name for name, f in op.params.model_fields.items() if f.is_required()]


def usage(op: Operation) -> str:
    """One-line usage, e.g. `/projects show <target> <project> [--limit N]`."""
    if op.usage_text:
        return op.usage_text
    parts = ["/projects", op.command]
    if op.needs_target:
        parts.append("<target>")
    pos = positional_fields(op)
    for name in pos:
        required = op.params.model_fields[name].is_required()
        parts.append(f"<{name.replace('_', '-')}>" if required else f"[<{name.replace('_', '-')}>]")
    for name, f in op.params.model_fields.items():
        if name in pos:
            continue
        flag = f"--{name.replace('_', '-')}"
        parts.append(f"[{flag}]" if _field_is_bool(f.annotation) else f"[{flag} <value>]")
    return " ".join(parts)


def split_words(text: str) -> list[str]:
    try:
        return shlex.split(text)
    except ValueError:
        raise UsageError(
            "I could not read that command: a quote is not closed.", "Close the quote and try again."
        ) from None


def args_to_fields(op: Operation, args: list[str]) -> dict[str, Any]:
    """The generic argument grammar; raises UsageError naming the bad argument."""
    fields = op.params.model_fields
    pos_names = positional_fields(op)
    values: dict[str, Any] = {}
    positionals: list[str] = []
    i = 0
    while i < len(args):
        arg = args[i]
        key: str | None = None
        value: Any = None
        if arg.startswith("--") and len(arg) > 2:
            key, _, inline = arg[2:].partition("=")
            key = key.replace("-", "_")
            negated = key.startswith("no_") and key[3:] in fields and _field_is_bool(fields[key[3:]].annotation)
            if negated:
                key, value = key[3:], False
            elif key in fields and _field_is_bool(fields[key].annotation) and not inline:
                value = True
            elif inline:
                value = inline
            elif i + 1 < len(args):
                i += 1
                value = args[i]
            else:
                raise UsageError(f"`--{key.replace('_', '-')}` needs a value.", usage=usage(op))
        elif "=" in arg and arg.split("=", 1)[0].replace("-", "_") in fields:
            key, value = arg.split("=", 1)
            key = key.replace("-", "_")
        else:
            positionals.append(arg)
            i += 1
            continue
        if key not in fields:
            known = [f"--{n.replace('_', '-')}" for n in fields]
            near = closest(f"--{key.replace('_', '-')}", known)
            raise UsageError(
                f"`{op.command}` has no option `--{key.replace('_', '-')}`.",
                f"Did you mean `{near}`?" if near else "",
                usage=usage(op),
            )
        if _field_is_list(fields[key].annotation):
            values.setdefault(key, []).append(value)
        else:
            values[key] = value
        i += 1
    free = [n for n in pos_names if n not in values]
    if len(positionals) > len(free):
        extra = " ".join(positionals[len(free):])
        raise UsageError(f"I did not expect `{extra}` here.", usage=usage(op))
    for name, value in zip(free, positionals, strict=False):
        values[name] = [value] if _field_is_list(fields[name].annotation) else value
    return values


def build_params(op: Operation, fields: dict[str, Any]) -> BaseModel:
    try:
        return op.params.model_validate(fields)
    except ValidationError as exc:
        err = exc.errors()[0]
        name = str(err["loc"][0]).replace("_", "-") if err["loc"] else "input"
        if err["type"] == "missing":
            message = f"`{op.command}` needs `{name}`."
        elif err["type"] == "extra_forbidden":
            message = f"`{op.command}` does not take `{name}`."
        elif rules.is_rule(err):  # a params-model rule's own sentence, word for word as the forms show it
            message = rules.message(err)
        else:
            message = f"`{name}`: {rules.message(err)}."
        raise UsageError(message, usage=usage(op)) from None


def _match_command(words: list[str], registry: Registry) -> tuple[str, list[str]]:
    commands = set(registry.commands())
    for size in (3, 2, 1):
        head = " ".join(words[:size]).lower()
        if len(words) >= size and head in commands:
            return head, words[size:]
    typed = " ".join(words[:2]).lower()
    near = closest(typed, sorted(commands)) or closest(words[0].lower(), sorted(commands))
    raise UsageError(
        f"I don't know the command `{words[0]}`.",
        (f"Did you mean `/projects {near}`? " if near else "") + "Type `/projects help` for the list.",
        suggestion=near or "",
    )


def _pick_target(
    command: str, candidates: list[Operation], rest: list[str], config: AppConfig
) -> tuple[Operation, Target | None, list[str]]:
    targeted = [op for op in candidates if op.needs_target]
    untargeted = [op for op in candidates if not op.needs_target]
    kinds = sorted({op.kind for op in targeted if op.kind})
    if rest and rest[0] in config.targets:
        target = config.targets[rest[0]]
        for op in targeted:
            if op.kind == target.kind:
                return op, target, rest[1:]
        if not targeted:
            return untargeted[0], None, rest
        raise UsageError(
            f"`{command}` works on {', '.join(kinds)} targets, and `{target.name}` is a {target.kind} target.",
            "Type `/projects targets` to see which target is which.",
        )
    if untargeted:
        return untargeted[0], None, rest
    eligible = [t for t in config.targets.values() if t.kind in kinds]
    if len(eligible) == 1:
        target = eligible[0]
        return next(op for op in targeted if op.kind == target.kind), target, rest
    names = ", ".join(f"`{t.name}`" for t in eligible)
    if rest:
        near = closest(rest[0], [t.name for t in eligible])
        hint = f"Did you mean `{near}`? " if near else ""
        raise UsageError(
            f"`{rest[0]}` is not a configured target.",
            hint + (f"Targets for `{command}`: {names}." if names else "No target of that kind is configured."),
            usage=usage(targeted[0]),
            suggestion=near or "",
        )
    if not eligible:
        raise UsageError(
            f"`{command}` needs a {' or '.join(kinds)} target, and none is configured.",
            "An admin adds targets to the projectops config file.",
        )
    raise UsageError(f"Which target? `{command}` can run on {names}.", usage=usage(targeted[0]))


def parse_command(text: str, registry: Registry, config: AppConfig) -> ParsedCommand:
    words = split_words(text.strip())
    if not words:
        words = ["help"]
    command, rest = _match_command(words, registry)
    op, target, rest = _pick_target(command, registry.for_command(command), rest, config)
    fields = op.parse_args(rest) if op.parse_args else args_to_fields(op, rest)
    return ParsedCommand(operation=op, target=target, params=build_params(op, fields))
