"""Field values → the exact `/projects …` command, proved by the same parser a typed command meets."""

from __future__ import annotations

import re
import shlex
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from bot.assistant.grammar import Shape
from bot.assistant.results import ResolvedRequest
from bot.errors import UsageError
from bot.operations.parser import parse_command
from bot.operations.registry import Registry
from bot.settings import AppConfig, Target

_PLAIN = re.compile(r"^[\w@%+=:,./#<>|*!-]+$")
_VALIDATION_URL = "http://assistant.invalid"  # never called: the config only tells the parser each target's kind


def quote(value: Any) -> str:
    text = str(value)
    if text and _PLAIN.match(text):
        return text
    if '"' not in text and "\\" not in text:
        return f'"{text}"'
    return shlex.quote(text)


def _flag(name: str) -> str:
    return "--" + name.replace("_", "-")


def _audit_args(values: Mapping[str, Any]) -> list[str]:
    args: list[str] = []
    user = values.get("user")
    if user:
        args.append("me" if user == "me" else f"<@{user}>")
    if values.get("target"):
        args.append(values["target"])
    if values.get("operation"):
        args += ["op", values["operation"]]
    if values.get("outcome"):
        args.append(values["outcome"])
    for key in ("since", "until", "last", "page"):
        if values.get(key):
            args += [key, str(values[key])]
    return args


def _digest_add_args(values: Mapping[str, Any]) -> list[str]:
    args = [values.get("kind", "all")]
    if values.get("channel"):
        args.append(values["channel"])
    args += list(values.get("targets", []))
    if values.get("tz"):
        args += ["--tz", values["tz"]]
    if values.get("threshold"):
        args += ["--threshold", str(values["threshold"])]
    return args + str(values.get("schedule", "")).split()


def command_text(shape: Shape, target: str | None, values: Mapping[str, Any]) -> str:
    """The command a person would type for `shape` on `target` with `values` (field name → value)."""
    op = shape.op
    words = ["/projects", op.command]
    if op.needs_target and target:
        words.append(target)
    if op.name in ("audit", "audit.export"):
        return " ".join(words + [quote(a) for a in _audit_args(values)])
    if op.name == "digest.add":
        return " ".join(words + [quote(a) for a in _digest_add_args(values)])
    if op.name == "help":
        return " ".join(words + ([str(values["command"])] if values.get("command") else []))
    args: list[str] = []
    done: set[str] = set()
    for name in shape.positional:
        if name not in values:
            break
        value = values[name]
        args += [quote(v) for v in value] if isinstance(value, list | tuple) else [quote(value)]
        done.add(name)
    for name in shape.fields:
        if name in done or name not in values:
            continue
        value = values[name]
        if name in shape.bools:
            args.append(_flag(name) if value else "--no-" + _flag(name)[2:])
        elif isinstance(value, list | tuple):
            for v in value:
                args += [_flag(name), quote(v)]
        else:
            args += [_flag(name), quote(value)]
    return " ".join(words + args)


@lru_cache(maxsize=32)
def _config(targets: tuple[tuple[str, str], ...]) -> AppConfig:
    return AppConfig(targets={name: Target(name=name, kind=kind, url=_VALIDATION_URL) for name, kind in targets})


def config_for(targets: Mapping[str, str]) -> AppConfig:
    return _config(tuple(sorted(targets.items())))


def check(shape: Shape, target: str | None, text: str, registry: Registry,
          targets: Mapping[str, str]) -> ResolvedRequest | UsageError:
    """Parse `text` exactly as a typed command; the request, or the parser's own complaint."""
    try:
        parsed = parse_command(text.removeprefix("/projects").strip(), registry, config_for(targets))
    except UsageError as exc:
        return exc
    op = parsed.operation
    parsed_target = parsed.target.name if parsed.target else None
    if op.name != shape.op.name or op.kind != shape.op.kind or parsed_target != target:
        return UsageError(f"`{text}` reads as `{op.qualified_name}`, not `{shape.qualified}`.")
    params = parsed.params.model_dump(mode="json", exclude_unset=True)
    return ResolvedRequest(op.name, op.kind, parsed_target, params, text, str(op.risk))
