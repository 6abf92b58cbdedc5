"""What can be asked, read from the registry: each operation's object, act, fields and literal values.

`project.pause` on polaris is the object `project` and the act `pause`; `job.delete-data` is `job` +
`delete-data`; single-word operations (`audit`, `targets`, `whoami`, `help`) are objects with no act.
Field names, which of them are required or positional, and the values a `Literal` field allows come
straight from each operation's params model, so a new operation or a new allowed value is
understood without touching the assistant.
"""

from __future__ import annotations

import re
import types
import typing
import weakref
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from bot.operations.base import Operation
from bot.operations.parser import positional_fields
from bot.operations.registry import Registry

_WORD = re.compile(r"[a-z][a-z0-9-]+")


def _literals(annotation: Any) -> tuple[str, ...]:
    """The values a field's `Literal[...]` (possibly in a list or Optional) allows."""
    origin = typing.get_origin(annotation)
    if origin is typing.Literal:
        return tuple(str(a) for a in typing.get_args(annotation))
    if origin in (typing.Union, types.UnionType, list, tuple, set):
        return tuple(v for a in typing.get_args(annotation) for v in _literals(a))
    return ()


def _is_list(annotation: Any) -> bool:
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        return any(_is_list(a) for a in typing.get_args(annotation))
    return origin in (list, tuple, set)


def _is_bool(annotation: Any) -> bool:
    if annotation is bool:
        return True
    origin = typing.get_origin(annotation)
    return origin in (typing.Union, types.UnionType) and bool in typing.get_args(annotation)


@dataclass(frozen=True)
class Shape:
    """One operation as the assistant sees it."""

    op: Operation
    obj: str
    act: str
    fields: tuple[str, ...]
    required: frozenset[str]
    positional: tuple[str, ...]
    literals: dict[str, tuple[str, ...]]
    lists: frozenset[str]
    bools: frozenset[str]
    words: frozenset[str]  # words of its command, name and summary

    @property
    def kind(self) -> str | None:
        return self.op.kind

    @property
    def qualified(self) -> str:
        return self.op.qualified_name


def shape_of(op: Operation) -> Shape:
    parts = op.name.split(".")
    obj, act = (parts[0], "") if len(parts) == 1 else (parts[0], parts[1])
    model: type[BaseModel] = op.params
    fields = model.model_fields
    words = set(_WORD.findall(f"{op.command} {op.name.replace('.', ' ')} {op.summary.lower()}"))
    return Shape(
        op=op, obj=obj, act=act, fields=tuple(fields),
        required=frozenset(n for n, f in fields.items() if f.is_required()),
        positional=tuple(positional_fields(op)),
        literals={n: lits for n, f in fields.items() if (lits := _literals(f.annotation))},
        lists=frozenset(n for n, f in fields.items() if _is_list(f.annotation)),
        bools=frozenset(n for n, f in fields.items() if _is_bool(f.annotation)),
        words=frozenset(words),
    )


class Grammar:
    """The registry, indexed for understanding: by (object, act), by kind, with its vocabulary."""

    def __init__(self, registry: Registry) -> None:
        self.registry = registry
        self.shapes = [shape_of(op) for op in registry.all()]
        self.by_obj_act: dict[tuple[str, str], list[Shape]] = {}
        for s in self.shapes:
            self.by_obj_act.setdefault((s.obj, s.act), []).append(s)
        self.acts_of: dict[str, set[str]] = {}
        for s in self.shapes:
            self.acts_of.setdefault(s.obj, set()).add(s.act)
        self.commands = frozenset(op.command for op in registry.all())
        self.command_words = frozenset(w for c in self.commands for w in re.split(r"[\s-]+", c) if len(w) > 2)
        self.kinds = frozenset(s.kind for s in self.shapes if s.kind)
        #: Every act the registry names ("pause", "delete-data", a new "snapshot"): understood as a verb as is.
        self.act_words = frozenset(a for s in self.shapes for a in (s.act,) if a and "-" not in a)
        #: Every value a `Literal` field allows ("s3", "streaming", "aggregate"): words, not names.
        self.literal_words = frozenset(v for s in self.shapes for lits in s.literals.values() for v in lits)
        self.fingerprint = self._fingerprint(registry)

    @staticmethod
    def _fingerprint(registry: Registry) -> tuple[tuple[str, str, int], ...]:
        return tuple(sorted((op.name, op.kind or "", id(op)) for op in registry.all()))

    def find(self, obj: str, act: str, kind: str | None = None) -> list[Shape]:
        shapes = self.by_obj_act.get((obj, act), [])
        return [s for s in shapes if kind is None or s.kind == kind]

    def has(self, obj: str, act: str) -> bool:
        return (obj, act) in self.by_obj_act

    def kinds_for(self, obj: str, act: str) -> list[str]:
        return sorted({s.kind for s in self.by_obj_act.get((obj, act), []) if s.kind})

    def literal_owners(self, value: str) -> list[tuple[Shape, str]]:
        return [(s, f) for s in self.shapes for f, lits in s.literals.items() if value in lits]


_CACHE: weakref.WeakKeyDictionary[Registry, Grammar] = weakref.WeakKeyDictionary()


def grammar_for(registry: Registry) -> Grammar:
    """The Grammar of `registry`, rebuilt when its operations change (tests register extra ones)."""
    cached = _CACHE.get(registry)
    if cached is not None and cached.fingerprint == Grammar._fingerprint(registry):
        return cached
    grammar = Grammar(registry)
    _CACHE[registry] = grammar
    return grammar
