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
        backend: str = "",
        status: int | None = None,
        code: str = "",
        request_id: str = "",
        retryable: bool = False,
        reason: Reason | str = "",
        resource: str = "",
        name: str = "",
    ) -> None:
        super().__init__(message, hint, backend=backend, status=status, code=code, request_id=request_id,
                         retryable=retryable, reason=reason, resource=resource, name=name)
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
        backend: str = "",
        status: int | None = None,
        code: str = "",
        request_id: str = "",
        retryable: bool = False,
        reason: Reason | str = "",
        resource: str = "",
        name: str = "",
    ) -> None:
        super().__init__(message, hint, backend=backend, status=status, code=code, request_id=request_id,
                         retryable=retryable, reason=reason, resource=resource, name=name)
        #: what stands in the way (e.g. the workspaces a project still holds)
        self.blockers = list(blockers or [])
