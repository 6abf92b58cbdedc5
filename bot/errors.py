"""Typed errors. Each carries a message a person can act on: what happened, what to do.

Back-end errors also carry data, httpx-style, so the layers above can word the next step without parsing
text: which back end, the HTTP status, what kind of thing (`resource`) and which one (`name`), and projectops'
own word for why (`reason`, one of `Reason`). A `NotFoundError` adds the names that do exist when the back end
already read them (`candidates`) and the container it looked in (`within`); a `ConflictError` adds what stands
in the way (`blockers`). Back ends say what happened; `bot.operations.suggest` and the operations modules,
which know the `/projects` grammar, write the hints that name commands.
"""

from __future__ import annotations

from enum import StrEnum
from typing import TypedDict

from typing_extensions import Unpack


class OpError(Exception):
    """Base for every error that reaches a person. `message` says what happened, `hint` what to do."""

    kind = "error"

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message} {self.hint}".strip()


class UsageError(OpError):
    """Bad input: an unknown command, a missing argument, a value that does not validate."""

    kind = "usage"

    def __init__(self, message: str, hint: str = "", usage: str = "", suggestion: str = "") -> None:
        super().__init__(message, hint)
        self.usage = usage
        self.suggestion = suggestion


class RefusedError(OpError):
    """Policy said no: the caller lacks the role, or the channel does not allow it."""

    kind = "refused"


class Reason(StrEnum):
    """Why a back end said no, in projectops' words (the API's own code stays in `BackendError.code`)."""

    UNREACHABLE = "unreachable"  # no connection to the back end at its configured URL
    TIMEOUT = "timeout"  # it did not answer in time
    NOT_JSON = "not_json"  # it answered with something that is not the API (wrong URL?)
    STOP_PROTECTION = "stop_protection"  # the project may not be paused or stopped while this is on
    DELETION_PROTECTION = "deletion_protection"  # the project may not be deleted while this is on
    NOT_EMPTY = "not_empty"  # it still holds things (`blockers`) that must go first
    EXISTS = "exists"  # something with that name already exists
    MAYBE_EXISTS = "maybe_exists"  # a create failed in a way that often means the name is taken
    ID_REUSED = "id_reused"  # the id now belongs to another thing (ids are reused after deletes)
    GONE = "gone"  # it existed a moment ago and does not any more
    NO_ID = "no_id"  # a create succeeded but the answer did not say the new thing's id
    CONNECTION_LOST = "connection_lost"  # the connection broke after the request went out, before an answer
    OUTCOME_UNKNOWN = "outcome_unknown"  # a change was sent and the answer did not say whether it happened


class BackendDetails(TypedDict, total=False):
    """The data every `BackendError` carries; its subclasses take it as keywords and pass it on."""

    backend: str
    status: int | None
    code: str
    request_id: str
    retryable: bool
    reason: Reason | str
    resource: str
    name: str


class BackendError(OpError):
    """A back end answered with an error, or did not answer in time."""

    kind = "backend"

    def __init__(
        self,
        message: str,
        hint: str = "",
        *,
        backend: str = "",
        status: int | None = None,
        code: str = "",
        request_id: str = "",
        retryable: bool = False,
        reason: Reason | str = "",
        resource: str = "",
        name: str = "",
    ) -> None:
        super().__init__(message, hint)
        self.backend = backend
        self.status = status
        self.code = code
        self.request_id = request_id
        self.retryable = retryable
        #: projectops' word for why (a `Reason`), "" when the message is all there is
        self.reason = reason
        #: what kind of thing: "project", "table", "job", "connection", "workspace", … ("" when unknown)
        self.resource = resource
        #: the name or id that was asked for
        self.name = name


class NotFoundError(BackendError):
    """The thing asked for does not exist (or the credentials may not see it)."""

    def __init__(
        self,
        message: str,
        hint: str = "",
        *,
        candidates: list[str] | None = None,
        within: str = "",
        **details: Unpack[BackendDetails],
    ) -> None:
        super().__init__(message, hint, **details)
        #: the names that do exist, when the back end already read them; None when it did not look
        self.candidates = candidates
        #: the id of what was searched (a Polaris project's uid for its tables and connections), "" for the target
        self.within = within


class ConflictError(BackendError):
    """The back end refused because of the thing's current state (protection, version, workspaces)."""

    def __init__(
        self,
        message: str,
        hint: str = "",
        *,
        blockers: list[str] | None = None,
        **details: Unpack[BackendDetails],
    ) -> None:
        super().__init__(message, hint, **details)
        #: what stands in the way (e.g. the workspaces a project still holds)
        self.blockers = list(blockers or [])


class OutcomeUnknown(BackendError):
    """A change was sent, and its answer did not say whether it happened: no answer in time, a 5xx, the connection
    lost once the request was out, or an answer that is not JSON.

    `cause` is that failure as an ordinary `BackendError`; `what` says it in words that follow the back end's name
    ("did not confirm within 10 s", "answered HTTP 500"), so the operation that re-reads the back end can say what
    is true: "Polaris did not confirm within 10 s, but clickstream is gone: the delete happened." `method` and `path`
    are the request whose outcome is open.
    """

    def __init__(self, cause: BackendError, *, what: str, method: str = "", path: str = "") -> None:
        super().__init__(
            f"{cause.message} I cannot tell whether the change happened.",
            "Check its current state before trying again.",
            backend=cause.backend, status=cause.status, code=cause.code, request_id=cause.request_id,
            retryable=False, reason=Reason.OUTCOME_UNKNOWN, resource=cause.resource, name=cause.name,
        )
        self.cause = cause
        self.what = what
        self.method = method
        self.path = path


#: What a person is told when the database cannot be reached (readiness says so too: GET /readyz answers 503).
DATABASE_DOWN = "projectops cannot reach its database right now; nothing was changed, try again in a minute."


class DatabaseUnavailable(OpError):
    """The database (the audit log's home) cannot be reached: the request was refused before anything ran."""

    kind = "unavailable"

    def __init__(self, message: str = DATABASE_DOWN, hint: str = "") -> None:
        super().__init__(message, hint)
