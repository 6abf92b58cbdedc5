"""The registry of operations: every surface (slash command, modals, help, Home) reads it."""

from __future__ import annotations

import importlib
import logging
from collections.abc import Iterable

from bot.operations.base import Operation

log = logging.getLogger("projectops.operations")

#: Modules that register operations on import. Missing ones (not built yet) are skipped.
OPERATION_MODULES = (
    "bot.operations.core",
    "bot.operations.audit",
    "bot.operations.polaris",
    "bot.operations.phoenix",
    "bot.operations.terraform",
    "bot.operations.matillion",
    "bot.operations.multi",
    "bot.operations.digest",
    "bot.operations.edit",
)


class Registry:
    def __init__(self) -> None:
        self._ops: dict[tuple[str, str | None], Operation] = {}

    def register(self, op: Operation) -> Operation:
        key = (op.name, op.kind)
        if key in self._ops:
            raise ValueError(f"operation {op.name} for {op.kind} registered twice")
        self._ops[key] = op
        return op

    def unregister(self, op: Operation) -> None:
        self._ops.pop((op.name, op.kind), None)

    def all(self) -> list[Operation]:
        return list(self._ops.values())

    def get(self, name: str, kind: str | None = None) -> Operation | None:
        return self._ops.get((name, kind))

    def for_command(self, command: str) -> list[Operation]:
        return [op for op in self._ops.values() if op.command == command]

    def commands(self) -> list[str]:
        return sorted({op.command for op in self._ops.values()})

    def kinds_for(self, command: str) -> list[str]:
        return sorted({op.kind for op in self.for_command(command) if op.kind})


REGISTRY = Registry()


def register(op: Operation) -> Operation:
    """Add an operation to the default registry (modules call this at import time)."""
    return REGISTRY.register(op)


def load_operations(modules: Iterable[str] = OPERATION_MODULES) -> Registry:
    for name in modules:
        try:
            importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:
                raise
            log.debug("operations module %s not present", name)
    return REGISTRY
