"""The model's tools, generated from the registry, and the way back from a tool call to a request.

    tools = tools_for(registry, allowed, config)      # one function tool per operation the caller may run
    toolset = build_tools(registry, allowed, config)  # the same tools plus the map back to operations
    request = toolset.request(call_name, arguments, registry, config, resolver="model:gpt-4o-mini")

Tool names are the operation's qualified name with `.` written `__`: `polaris__project__pause`,
`polaris__job__delete-data`, `digest__add`, `whoami` (core operations have no kind prefix). A name
that would break `^[a-zA-Z0-9_-]{1,64}$` or collide with another is shortened and given a hash
suffix; either way the `ToolSet` maps each name back to exactly one operation, and a tool call is
only accepted for a tool that was offered to this caller.

What a tool carries: the operation's summary, its risk, one example, and its params model's JSON
schema plus a `target` enum (configured target names of the operation's kind that the caller may
use). Nothing else of the config — no URL, credential, option or policy — ever goes into a tool.

The way back is strict: arguments are re-validated by the params model, the target must be one that
was offered, and the `/projects …` command built from the validated params must parse (with
`bot.operations.parser.parse_command`) to the same operation, target and params. Anything else raises
`ToolCallError`, and the model's answer is not used.
"""

from __future__ import annotations

import contextlib
import copy
import hashlib
import json
import re
import shlex
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ValidationError

from bot.assistant.commands import command_text
from bot.assistant.grammar import shape_of
from bot.assistant.results import ResolvedRequest
from bot.errors import UsageError
from bot.operations.base import Operation
from bot.operations.parser import parse_command, positional_fields
from bot.operations.registry import Registry
from bot.risk import Risk
from bot.settings import AppConfig

if TYPE_CHECKING:
    from bot.policy import Policy

TOOL_NAME = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")
TOOL_NAME_MAX = 64
TARGET_ARG = "target"
DESCRIPTION_MAX = 1000

#: Allowed operations: qualified name → the target names the caller may use it on (None: every configured
#: target of its kind, or no target needed), or simply the allowed Operations (every target).
AllowedOps = Mapping[str, Collection[str] | None] | Iterable[Operation]

_RISK_WORDS = {
    Risk.READ: "read: runs at once and answers",
    Risk.WRITE: "write: changes something; shown to the person as a command first, runs only when they confirm",
    Risk.DESTRUCTIVE: "destructive: loses data or stops work; needs the person's confirmation and often a second "
    "person's approval",
}


class ToolCallError(Exception):
    """A tool call that cannot become a request: unknown tool, bad arguments, or a command that does not parse."""

    def __init__(self, reason: str, detail: str = "") -> None:
        self.reason = reason
        self.detail = detail
        super().__init__(f"{reason}: {detail}" if detail else reason)


@dataclass(frozen=True)
class ToolEntry:
    """One offered tool: its operation, the targets offered in its enum, and the argument naming the target."""

    name: str
    operation: Operation
    targets: tuple[str, ...]
    target_arg: str | None


def tool_name(op: Operation) -> str:
    """`polaris.project.pause` → `polaris__project__pause` (before collision handling, see `build_tools`)."""
    return op.qualified_name.replace(".", "__")


def _safe_name(base: str, key: str) -> str:
    """`base` made valid for the API, with a short hash of `key` when it had to change or collides."""
    cleaned = re.sub(r"[^a-zA-Z0-9_-]", "_", base)
    digest = hashlib.sha1(key.encode()).hexdigest()[:8]
    return f"{cleaned[: TOOL_NAME_MAX - 10]}__{digest}"


def _allowed_map(allowed_ops: AllowedOps) -> dict[str, frozenset[str] | None]:
    if isinstance(allowed_ops, Mapping):
        return {str(k): (frozenset(v) if v is not None else None) for k, v in allowed_ops.items()}
    return {op.qualified_name: None for op in allowed_ops}


def _targets_of(config: AppConfig | Mapping[str, str]) -> dict[str, str]:
    """Target name → kind; nothing else of a target is read here."""
    if isinstance(config, AppConfig):
        return {name: target.kind for name, target in config.targets.items()}
    return dict(config)


def _inline_refs(schema: dict[str, Any]) -> dict[str, Any]:
    """The schema with local `#/$defs/…` references replaced by their definitions (kept when recursive)."""
    defs = schema.get("$defs") or {}
    if not defs:
        return schema
    recursive = False

    def walk(node: Any, depth: int) -> Any:
        nonlocal recursive
        if isinstance(node, list):
            return [walk(item, depth) for item in node]
        if not isinstance(node, dict):
            return node
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/$defs/") and ref[8:] in defs:
            if depth > 16:
                recursive = True
                return node
            rest = {k: walk(v, depth) for k, v in node.items() if k != "$ref"}
            return {**walk(defs[ref[8:]], depth + 1), **rest}
        return {k: walk(v, depth) for k, v in node.items() if k != "$defs"}

    inlined = walk(schema, 0)
    if recursive:
        return schema
    return inlined


def parameters_schema(op: Operation, targets: Collection[str]) -> tuple[dict[str, Any], str | None]:
    """The params model's JSON schema, plus the target enum when the operation needs one; and that argument's name."""
    schema = _inline_refs(copy.deepcopy(op.params.model_json_schema()))
    schema.pop("title", None)
    schema.setdefault("type", "object")
    properties: dict[str, Any] = schema.setdefault("properties", {})
    if not op.needs_target:
        return schema, None
    target_arg = TARGET_ARG if TARGET_ARG not in properties else "backend_target"
    properties[target_arg] = {
        "type": "string",
        "enum": sorted(targets),
        "description": f"which configured {op.kind} target to run on",
    }
    schema["required"] = [target_arg, *[r for r in schema.get("required", []) if r != target_arg]]
    return schema, target_arg


def description_of(op: Operation) -> str:
    text = op.summary.rstrip(".")
    text = text[:1].upper() + text[1:] + "."
    text += f" Risk: {_RISK_WORDS.get(op.risk, str(op.risk))}."
    if op.examples:
        text += f" Typed as: `{op.examples[0]}`."
    return text[:DESCRIPTION_MAX]


@dataclass(frozen=True)
class ToolSet:
    """The tools offered to one caller and the map from each tool name back to its operation."""

    tools: list[dict[str, Any]]
    entries: dict[str, ToolEntry]

    def __bool__(self) -> bool:
        return bool(self.entries)

    def entry(self, name: str) -> ToolEntry:
        found = self.entries.get(name)
        if found is None:
            raise ToolCallError("unknown tool", name[:80])
        return found

    def request(self, name: str, arguments: str | Mapping[str, Any], registry: Registry,
                config: AppConfig, resolver: str) -> ResolvedRequest:
        """The request a tool call proposes, proved by the parser; `ToolCallError` when it is not usable."""
        entry = self.entry(name)
        if isinstance(arguments, str):
            try:
                loaded = json.loads(arguments) if arguments.strip() else {}
            except ValueError:
                raise ToolCallError("malformed arguments", name) from None
        else:
            loaded = dict(arguments)
        if not isinstance(loaded, dict):
            raise ToolCallError("malformed arguments", name)
        return request_for(entry, loaded, registry, config, resolver)


def build_tools(registry: Registry, allowed_ops: AllowedOps, config: AppConfig | Mapping[str, str]) -> ToolSet:
    """One tool per registry operation the caller may run (and that has a target it may use, if it needs one)."""
    allowed = _allowed_map(allowed_ops)
    targets = _targets_of(config)
    entries: dict[str, ToolEntry] = {}
    tools: list[dict[str, Any]] = []
    for op in registry.all():
        if op.qualified_name not in allowed:
            continue
        permitted = allowed[op.qualified_name]
        offered: tuple[str, ...] = ()
        if op.needs_target:
            offered = tuple(sorted(n for n, kind in targets.items()
                                   if kind == op.kind and (permitted is None or n in permitted)))
            if not offered:
                continue
        name = tool_name(op)
        if not TOOL_NAME.match(name) or name in entries:
            name = _safe_name(name, op.qualified_name)
        parameters, target_arg = parameters_schema(op, offered)
        entries[name] = ToolEntry(name=name, operation=op, targets=offered, target_arg=target_arg)
        tools.append({
            "type": "function",
            "function": {"name": name, "description": description_of(op), "parameters": parameters},
        })
    return ToolSet(tools=tools, entries=entries)


def tools_for(registry: Registry, allowed_ops: AllowedOps,
              config: AppConfig | Mapping[str, str]) -> list[dict[str, Any]]:
    """The OpenAI `tools` list for a caller: one function tool per operation in `allowed_ops`."""
    return build_tools(registry, allowed_ops, config).tools


async def allowed_operations(policy: Policy, user_id: str, registry: Registry,
                             config: AppConfig) -> dict[str, frozenset[str] | None]:
    """What `user_id` may run, per `Policy.check`: qualified name → allowed target names (None: no target)."""
    allowed: dict[str, frozenset[str] | None] = {}
    for op in registry.all():
        if not op.needs_target:
            if (await policy.check(user_id, op, None)).allowed:
                allowed[op.qualified_name] = None
            continue
        names = frozenset([
            target.name for target in config.targets.values()
            if target.kind == op.kind and (await policy.check(user_id, op, target)).allowed
        ])
        if names:
            allowed[op.qualified_name] = names
    return allowed


# --- a tool call → the typed command ------------------------------------------------------------


def _word(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        raise ToolCallError("invalid arguments", "a value the command line cannot carry")
    return shlex.quote(str(value))


def _flag(name: str) -> str:
    return "--" + name.replace("_", "-")


def generic_args(op: Operation, params: BaseModel) -> list[str]:
    """The `/projects` grammar for `params`: positional fields in order, then `--flag value` (booleans
    `--flag` / `--no-flag`, lists repeated); fields left unset or None are left out."""
    values = params.model_dump(mode="json")
    given = [n for n in params.model_fields_set if values.get(n) is not None]
    args: list[str] = []
    done: set[str] = set()
    for name in positional_fields(op):
        if name not in given:
            break
        value = values[name]
        args += [_word(v) for v in value] if isinstance(value, list) else [_word(value)]
        done.add(name)
    for name in op.params.model_fields:
        if name in done or name not in given:
            continue
        value = values[name]
        if isinstance(value, bool):
            args.append(_flag(name) if value else "--no-" + _flag(name)[2:])
        elif isinstance(value, list):
            for item in value:
                args += [_flag(name), _word(item)]
        else:
            args += [_flag(name), _word(value)]
    return args


def _candidates(op: Operation, target: str | None, params: BaseModel) -> list[str]:
    head = ["/projects", op.command, *([target] if target else [])]
    texts: list[str] = []
    with contextlib.suppress(ToolCallError):
        texts.append(" ".join(head + generic_args(op, params)))
    if op.parse_args is not None:  # its own grammar (audit, digest add, help): the offline writer knows it
        try:
            values = {k: v for k, v in params.model_dump(mode="json", exclude_unset=True).items() if v is not None}
            texts.append(command_text(shape_of(op), target, values))
        except Exception:  # a writer that cannot say it leaves only the generic text
            pass
    return texts


def request_for(entry: ToolEntry, arguments: dict[str, Any], registry: Registry, config: AppConfig,
                resolver: str) -> ResolvedRequest:
    """Validate `arguments` with the params model, write the command, and prove it parses back the same."""
    op = entry.operation
    arguments = dict(arguments)
    target: str | None = None
    if entry.target_arg is not None:
        raw = arguments.pop(entry.target_arg, None)
        if raw is None and len(entry.targets) == 1:
            raw = entry.targets[0]
        if not isinstance(raw, str) or raw not in entry.targets:
            raise ToolCallError("invalid arguments", f"{entry.name}: target not offered")
        target = raw
    fields = op.params.model_fields
    # A null for an optional field means "not given" (servers differ in how they send optional fields).
    arguments = {k: v for k, v in arguments.items() if not (v is None and k in fields and not fields[k].is_required())}
    try:
        params = op.params.model_validate(arguments)
    except ValidationError as exc:
        raise ToolCallError("invalid arguments", f"{entry.name}: {exc.error_count()} error(s)") from None
    expected = params.model_dump(mode="json")
    for text in _candidates(op, target, params):
        try:
            parsed = parse_command(text.removeprefix("/projects").strip(), registry, config)
        except UsageError:
            continue
        parsed_target = parsed.target.name if parsed.target else None
        if (parsed.operation.name, parsed.operation.kind) != (op.name, op.kind) or parsed_target != target:
            continue
        if parsed.params.model_dump(mode="json") != expected:
            continue
        dumped = parsed.params.model_dump(mode="json", exclude_unset=True)
        return ResolvedRequest(op.name, op.kind, target, dumped, text, str(op.risk))
    raise ToolCallError("no command", f"{entry.name}: the arguments do not read back as a typed command")
