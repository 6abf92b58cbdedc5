"""`/projects <verb> [<target>] [args]` parsing, built from the registry.

Arguments map onto the operation's params model: positionals fill the required fields in order
(or the operation's `positional` list), `--name value`, `--name=value` and `name=value` set any
field, `--flag` / `--no-flag` set booleans, and a repeated option builds a list.
"""

from __future__ import annotations

import shlex
import types
import typing
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ValidationError
from rapidfuzz import fuzz, process

from bot.errors import UsageError
from bot.operations.base import Operation
from bot.operations.params_words import (
    flag,
    params_error,
    positional_fields,
    shown,
    with_choices_matched,
)
from bot.operations.registry import Registry
from bot.risk import Risk
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


#: How alike a mistyped command must be to a command (rapidfuzz `ratio`, 0-100) to be suggested at all, and to a
#: destructive one: a weak guess never points at `table drop` or `delete`.
COMMAND_CUTOFF = 70
DESTRUCTIVE_CUTOFF = 85


def closest_command(typed: str, ops: Iterable[Operation], *, groups: bool = False) -> str | None:
    """The command (or, with `groups`, the command family such as `job`) most like `typed`, or None when nothing
    is close. A destructive command is suggested only when the match is strong; otherwise the closest other one."""
    typed = typed.strip().lower()
    destructive: dict[str, bool] = {}
    for op in ops:
        destructive[op.command] = destructive.get(op.command, True) and op.risk is Risk.DESTRUCTIVE
    choices = set(destructive)
    if groups:
        choices |= set(command_groups(destructive))
    if not typed or not choices:
        return None
    ranked = process.extract(typed, sorted(choices), scorer=fuzz.ratio, score_cutoff=COMMAND_CUTOFF, limit=None)
    for choice, score, _ in ranked:  # best first
        if destructive.get(choice) and score < DESTRUCTIVE_CUTOFF:
            continue
        return str(choice)
    return None


def command_groups(commands: Iterable[str]) -> list[str]:
    """The family words of two-word commands (`job`, `table`, `digest`, …), sorted."""
    return sorted({c.split()[0] for c in commands if " " in c})


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


def option_names(op: Operation) -> list[str]:
    """The `--options` of an operation as its usage line shows them: every field that is not positional."""
    pos = positional_fields(op)
    return [flag(name) for name in op.params.model_fields if name not in pos]


def unknown_option(op: Operation, key: str) -> UsageError:
    """`--bogus` for an operation that has no such option: what its options are, and the closest one."""
    typed = flag(key)
    options = option_names(op)
    near = closest(typed, [flag(n) for n in op.params.model_fields])
    if options:
        listed = ", ".join(f"`{o}`" for o in options)
        message = f"There is no option `{shown(typed)}` for `{op.command}`; its options are {listed}."
    else:
        message = f"There is no option `{shown(typed)}` for `{op.command}`: it takes no options."
    return UsageError(message, f"Did you mean `{near}`?" if near else "", usage=usage(op))


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
            if not negated and key not in fields:
                raise unknown_option(op, key)
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
            raise unknown_option(op, key)
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
        return op.params.model_validate(with_choices_matched(op, fields))
    except ValidationError as exc:
        raise params_error(op, exc, usage(op)) from None


def unknown_subcommand(group: str, typed: str, commands: Iterable[str], near: str | None,
                       prefix: str = "") -> UsageError:
    """`job` alone, or `table dorp`: the family's commands, and the closest one when it is of the family.
    `prefix` is put before a suggested command (`help ` when help was asked)."""
    names = ", ".join(f"`{c}`" for c in sorted(set(commands)) if c.startswith(group + " "))
    said = f"`{group}` has no subcommand `{shown(typed)}`." if typed else f"`{group}` needs a subcommand."
    near = near if typed and near and near.startswith(group + " ") else None
    return UsageError(
        f"{said} Its commands: {names}.",
        (f"Did you mean `/projects {prefix}{near}`? " if near else "")
        + f"Type `/projects help {group}` for what each does.",
        suggestion=f"{prefix}{near}" if near else "",
    )


def _match_command(words: list[str], registry: Registry) -> tuple[str, list[str]]:
    commands = set(registry.commands())
    for size in (3, 2, 1):
        head = " ".join(words[:size]).lower()
        if len(words) >= size and head in commands:
            return head, words[size:]
    ops = registry.all()
    near = (closest_command(" ".join(words[:2]), ops) if len(words) > 1 else None) or closest_command(words[0], ops)
    group = words[0].lower()
    if group in command_groups(commands):  # `job`, `table dorp`: a family word without one of its subcommands
        raise unknown_subcommand(group, words[1] if len(words) > 1 else "", commands, near)
    raise UsageError(
        f"I don't know the command `{words[0]}`.",
        (f"Did you mean `/projects {near}`? " if near else "") + "Type `/projects help` for the list.",
        suggestion=near or "",
    )


def target_named(word: str, config: AppConfig) -> Target | None:
    """The configured target `word` names, whatever its case (`Polaris`, `POLARIS`), like commands."""
    return config.targets.get(word) or config.targets.get(word.lower())


def _pick_target(
    command: str, candidates: list[Operation], rest: list[str], config: AppConfig
) -> tuple[Operation, Target | None, list[str]]:
    targeted = [op for op in candidates if op.needs_target]
    untargeted = [op for op in candidates if not op.needs_target]
    kinds = sorted({op.kind for op in targeted if op.kind})
    named = target_named(rest[0], config) if rest else None
    if named is not None:
        target = named
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
