"""How a person types a params field (`--status`, `<project>`) and what is wrong with a value they gave, in words:
choices matched regardless of case, and a params model's refusal as one sentence that names the field as typed,
never pydantic's wording or the model's internal names. The parser and the forms' rules use it."""

from __future__ import annotations

import enum
import types
import typing
from typing import Any

from pydantic import ValidationError

from bot.errors import UsageError
from bot.operations import rules
from bot.operations.base import Operation


def positional_fields(op: Operation) -> list[str]:
    if op.positional is not None:
        return list(op.positional)
    return [name for name, f in op.params.model_fields.items() if f.is_required()]


def flag(name: str) -> str:
    return f"--{name.replace('_', '-')}"


def shown(value: Any, limit: int = 40) -> str:
    """Typed text echoed inside a code span: clipped, and a backtick cannot end the span."""
    text = str(value).replace("`", "\u02cb")
    return text if len(text) <= limit else text[: limit - 1] + "…"


def choices_of(annotation: Any) -> list[str]:
    """The values a field takes when it is a `Literal` of strings or an `Enum` (also inside `list[...]` or
    `... | None`); [] for any other field."""
    origin = typing.get_origin(annotation)
    if origin is typing.Literal:
        args = typing.get_args(annotation)
        return [a for a in args if isinstance(a, str)] if all(isinstance(a, str) for a in args) else []
    if isinstance(annotation, type) and issubclass(annotation, enum.Enum):
        return [str(m.value) for m in annotation]
    if origin is typing.Annotated:
        return choices_of(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType, list, tuple, set):
        found: list[str] = []
        for arg in typing.get_args(annotation):
            found += [c for c in choices_of(arg) if c not in found]
        return found
    return []


def _match_choice(value: Any, choices: list[str]) -> Any:
    """`RUNNING` -> `running` when the field takes `running`: choices are matched regardless of case (each
    part of a comma-separated value too); anything else is left for the params model to refuse."""
    if not isinstance(value, str) or value in choices:
        return value
    by_case = {c.lower(): c for c in choices}
    if value.strip().lower() in by_case:
        return by_case[value.strip().lower()]
    if "," in value:
        return ",".join(str(_match_choice(part.strip(), choices)) for part in value.split(","))
    return value


def with_choices_matched(op: Operation, fields: dict[str, Any]) -> dict[str, Any]:
    matched = dict(fields)
    for name, value in fields.items():
        info = op.params.model_fields.get(name)
        choices = choices_of(info.annotation) if info is not None else []
        if not choices:
            continue
        matched[name] = [_match_choice(v, choices) for v in value] if isinstance(value, list) else \
            _match_choice(value, choices)
    return matched


def field_label(op: Operation, name: str) -> str:
    """How a person types the field: `--status` for an option, `<project>` for a positional."""
    if name not in op.params.model_fields:
        return name.replace("_", "-")
    return f"<{name.replace('_', '-')}>" if name in positional_fields(op) else flag(name)


def _one_of(choices: list[str]) -> str:
    return choices[0] if len(choices) == 1 else ", ".join(choices[:-1]) + " or " + choices[-1]


def _value_problem(op: Operation, name: str, err: Any) -> str:
    """What is wrong with one field's value, in words (never pydantic's wording where a plainer one exists)."""
    kind, ctx = err["type"], err.get("ctx") or {}
    info = op.params.model_fields.get(name)
    if kind in ("literal_error", "enum"):
        choices = choices_of(info.annotation) if info is not None else []
        expected = _one_of(choices) if choices else str(ctx.get("expected", "")).replace("'", "")
        return f"must be one of {expected}"
    if kind in ("int_parsing", "int_type", "int_from_float"):
        return "must be a whole number"
    if kind in ("float_parsing", "float_type", "decimal_parsing", "decimal_type"):
        return "must be a number"
    if kind in ("bool_parsing", "bool_type"):
        return "must be true or false"
    bounds = {"greater_than_equal": ("at least", "ge"), "greater_than": ("more than", "gt"),
              "less_than_equal": ("at most", "le"), "less_than": ("less than", "lt")}
    if kind in bounds:
        words, key = bounds[kind]
        return f"must be {words} {ctx.get(key)}"
    if kind == "string_too_short":
        least = ctx.get("min_length", 1)
        return "must not be empty" if least == 1 else f"must be at least {least} characters"
    if kind == "string_too_long":
        return f"must be at most {ctx.get('max_length')} characters"
    if kind == "too_short":
        return f"needs at least {ctx.get('min_length')}"
    if kind == "too_long":
        return f"takes at most {ctx.get('max_length')}"
    if kind.startswith(("datetime_", "date_")):
        return "must be a date like 2024-01-31 (or 2024-01-31T09:00)"
    if kind.startswith("url_"):
        return "must be a URL like https://example.com"
    if kind == "string_pattern_mismatch":
        return "is not in the form it takes"
    return ""


def _sentence(text: str) -> str:
    text = text.strip()
    if not text:
        return text
    text = text[0].upper() + text[1:]
    return text if text[-1] in ".!?" else text + "."


def params_error(op: Operation, exc: ValidationError, usage_text: str = "") -> UsageError:
    """A params model's refusal as one sentence a person can act on, naming the field as it is typed (`--status`,
    `<project>`), never pydantic's wording or the model's internal names."""
    err = exc.errors()[0]
    name = rules.field_of(err)
    label = field_label(op, name) if name else ""
    if err["type"] == "missing":
        message = f"`{op.command}` needs `{name.replace('_', '-')}`."
    elif err["type"] == "extra_forbidden":
        message = f"`{op.command}` does not take `{name.replace('_', '-')}`."
    elif rules.is_rule(err):  # a params-model rule's own sentence, word for word as the forms show it
        message = rules.message(err)
    elif not name:  # the model as a whole (a model validator): its own sentence
        message = _sentence(rules.message(err))
    else:
        problem = _value_problem(op, name, err)
        given = err.get("input")
        if problem and isinstance(given, str | int | float) and not isinstance(given, bool) and str(given) != "":
            message = f"`{label}` {problem}, not `{shown(given)}`."
        elif problem:
            message = f"`{label}` {problem}."
        else:
            said = rules.message(err).strip()  # a field validator's own words, after the field as it is typed
            message = f"`{label}`: {said}" + ("" if said.endswith((".", "!", "?")) else ".")
    return UsageError(message, usage=usage_text)
