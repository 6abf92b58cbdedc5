"""What understanding a message gives back: requests to run, a question to ask, or a polite no."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

#: Who resolved a message when no model was involved (the audit row's "resolved by").
OFFLINE = "offline"


@dataclass(frozen=True)
class ResolvedRequest:
    """One operation request, exactly as the typed `/projects …` command would make it.

    `operation_name` is the registry name (`project.pause`) and `kind` its back-end kind, so
    `registry.get(operation_name, kind)` finds the Operation. `command_text` parses with
    `bot.operations.parser.parse_command` (after removing the leading `/projects`) to the same
    operation and target; `params` are the fields it sets, already validated by the params model
    (JSON-friendly: datetimes as ISO strings).
    """

    operation_name: str
    kind: str | None
    target: str | None
    params: dict[str, Any]
    command_text: str
    risk: str = "read"

    @property
    def qualified_name(self) -> str:
        """`polaris.project.pause`, as the audit log names operations."""
        return f"{self.kind}.{self.operation_name}" if self.kind else self.operation_name

    @property
    def command_args(self) -> str:
        """The command without `/projects `: what `parse_command` takes."""
        return self.command_text.removeprefix("/projects").strip()


@dataclass(frozen=True)
class Understood:
    """The message asks for these requests, in order (reads run; changes wait for a button)."""

    requests: list[ResolvedRequest]
    resolver: str = OFFLINE
    #: What was read loosely, for the reply ("`clikstream` read as `clickstream`").
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Clarify:
    """Two readings are close, or something required is missing: ask, a button per candidate.

    Each choice is `(label, command_text)`; every command_text parses like a typed command.
    `choices` may be empty when the missing thing is free text (a new project's name).
    """

    question: str
    choices: list[tuple[str, str]] = field(default_factory=list)
    resolver: str = OFFLINE


@dataclass(frozen=True)
class CannotHelp:
    """Out of scope, bulk, or impossible: why, and `/projects …` commands worth trying instead."""

    reason: str
    suggestions: list[str] = field(default_factory=list)
    resolver: str = OFFLINE


Understanding = Understood | Clarify | CannotHelp
