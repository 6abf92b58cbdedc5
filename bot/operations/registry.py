"""The registry of operations: every surface (slash command, modals, help, Home) reads it.

Operations modules declare their operations at import time with `register(op)`. That only records the
declaration; nothing global is read at run time. `bot.operations.loader.load_operations()` imports every
operations module and returns a new `Registry` holding all declared operations, one per built app, so a test
can add stand-in operations to its app's registry without touching any other app in the process.
"""

from __future__ import annotations

from collections.abc import Iterable

from bot.operations.base import Operation

#: Every operation declared so far, in import order (see `register`).
_DECLARED: list[Operation] = []


class Registry:
    def __init__(self, operations: Iterable[Operation] = ()) -> None:
        self._ops: dict[tuple[str, str | None], Operation] = {}
        for op in operations:
            self.register(op)

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


def register(op: Operation) -> Operation:
    """Declare an operation (operations modules call this at import time); returns it unchanged."""
    _DECLARED.append(op)
    return op


def declared() -> list[Operation]:
    """The operations declared by the modules imported so far, in import order."""
    return list(_DECLARED)
