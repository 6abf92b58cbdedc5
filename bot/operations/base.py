"""What an Operation is, who asks for it, and what comes back."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict

from bot.errors import OpError, OutcomeUnknown
from bot.risk import Risk
from bot.ui.blocks import Rendered

if TYPE_CHECKING:
    from bot.operations.context import OpContext

Surface = Literal["command", "modal", "button", "mention", "dm", "schedule", "home", "cli", "assistant"]


class NoParams(BaseModel):
    model_config = ConfigDict(extra="forbid")


Runner = Callable[["OpContext", Any], Awaitable[Any]]
Renderer = Callable[[Any, "OpContext"], Rendered]
ArgParser = Callable[[list[str]], dict[str, Any]]
Previewer = Callable[["OpContext", Any], Awaitable["Preview"]]


@dataclass(frozen=True)
class Preview:
    """What a destructive operation would touch, read live before the confirmation, and its verdict.

    `text` is the impact (size, rows, workspaces, running jobs). A preview that knows the change certainly cannot
    happen says why in `blocked` (a protection flag, the wrong kind of job, a workspace that is not there); one that
    knows confirming would change nothing says so in `nothing_to_do` (already stopped, already finished). Either way
    no Confirm is offered and no approval is asked for; `hint` says what to do instead (a command to type).
    A preview that cannot read the back end raises, and the confirmation goes ahead: the run itself checks.
    (A thing that is not there is raised as `NotFoundError`, as the run would.)
    """

    text: str = ""
    blocked: str = ""
    nothing_to_do: str = ""
    hint: str = ""

    @property
    def stops(self) -> bool:
        """No Confirm: the change cannot happen, or would change nothing."""
        return bool(self.blocked or self.nothing_to_do)


@dataclass
class Verified:
    """What a re-read of the back end found after a change whose answer did not come (`OutcomeUnknown`).

    `happened`: the change took effect; `value` is then what the operation would have returned (None: the note alone
    is the answer). `note` says it in words, e.g. "Polaris did not confirm within 10 s, but clickstream is gone: the
    delete happened." The audit row records it either way.
    """

    happened: bool
    note: str
    value: Any = None


Verifier = Callable[["OpContext", Any, OutcomeUnknown], Awaitable[Verified]]


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
    #: For destructive operations: reads live what would be lost, shown before the confirmation, and whether the
    #: change can happen at all (`Preview`).
    preview: Previewer | None = None
    #: For destructive operations that can be reversed: the command that undoes it (`resume` after a pause or a
    #: stop). None: it cannot be undone, and the confirmation says so.
    reversible_by: str | None = None
    #: So destructive that the requester types the thing's name (the first positional) before it runs.
    typed_confirmation: bool = False
    #: Reports progress through `ctx.progress`: surfaces show a channel message updated in place.
    live: bool = False
    #: The same request repeated within the idempotency window (a retry, a double submit) runs once.
    idempotent: bool = False
    #: The Slack form that collects this operation's params (`create`, `edit`, `provision`): typed with no
    #: arguments, the form opens instead of a usage error.
    form: str = ""
    #: The operation only feeds its form: its run reads the current values and surfaces open `form` with them.
    opens_form: bool = False
    #: The least role that may run it, when more than its risk asks (`admin` for what reads others' words).
    min_role: str = ""
    #: For changes: re-reads the back end when the change's answer did not say whether it happened (a timeout, a
    #: 5xx, a dropped connection), so the reply and the audit row say what is true (see `bot.operations.outcome`).
    verify: Verifier | None = None

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
    #: Said with the result: how it was established (a change confirmed by re-reading the back end)
    note: str = ""

    @property
    def ok(self) -> bool:
        return self.error is None
