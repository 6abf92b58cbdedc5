"""What an Operation is, who asks for it, and what comes back."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict

from bot.errors import OpError

if TYPE_CHECKING:
    from bot.operations.context import OpContext

Surface = Literal["command", "modal", "button", "mention", "dm", "schedule", "home", "cli"]


class Risk(StrEnum):
    READ = "read"
    WRITE = "write"
    DESTRUCTIVE = "destructive"


class NoParams(BaseModel):
    model_config = ConfigDict(extra="forbid")


@dataclass
class Rendered:
    """A Slack answer: fallback text plus Block Kit blocks."""

    text: str
    blocks: list[dict[str, Any]] = field(default_factory=list)


Runner = Callable[["OpContext", Any], Awaitable[Any]]
Renderer = Callable[[Any, "OpContext"], Rendered]
ArgParser = Callable[[list[str]], dict[str, Any]]
Previewer = Callable[["OpContext", Any], Awaitable[str]]


@dataclass(frozen=True)
class Operation:
    """One thing projectops can do, declared once and read by every surface.

    `name` is dotted (`project.list`, `table.drop`); `kind` is the back-end kind it runs against
    (None for core operations that need no target); `verb` is how it is typed after `/projects`.
    """

    name: str
    summary: str
    params: type[BaseModel]
    risk: Risk
    run: Runner
    render: Renderer
    kind: str | None = None
    verb: str = ""
    examples: tuple[str, ...] = ()
    parse_args: ArgParser | None = None
    positional: tuple[str, ...] | None = None
    usage_text: str = ""
    #: For destructive operations: reads live what would be lost, shown before the confirmation.
    preview: Previewer | None = None

    @property
    def qualified_name(self) -> str:
        """Unique name across kinds, as the audit log shows it: `polaris.project.list`."""
        return f"{self.kind}.{self.name}" if self.kind else self.name

    @property
    def command(self) -> str:
        return self.verb or default_verb(self.name)

    @property
    def needs_target(self) -> bool:
        return self.kind is not None


def default_verb(name: str) -> str:
    """`project.list` -> `list`, `table.show` -> `table show`."""
    return name.removeprefix("project.").replace(".", " ")


@dataclass
class Actor:
    """Who asked, from where."""

    user_id: str
    team_id: str = ""
    channel_id: str = ""
    surface: Surface = "command"
    user_name: str = ""


@dataclass
class OpRequest:
    operation: Operation
    actor: Actor
    params: BaseModel
    target: str | None = None
    confirmed_by: str = ""
    approved_by: str = ""
    #: Optional live-progress hook handed to the operation's context (see OpContext.progress).
    progress: Any = None


@dataclass
class OpResult:
    request: OpRequest
    audit_id: int | None
    value: Any = None
    error: OpError | None = None
    duration_ms: int = 0

    @property
    def ok(self) -> bool:
        return self.error is None
