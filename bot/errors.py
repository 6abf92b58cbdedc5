"""Typed errors. Each carries a message a person can act on: what happened, what to do."""

from __future__ import annotations


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
    ) -> None:
        super().__init__(message, hint)
        self.backend = backend
        self.status = status
        self.code = code
        self.request_id = request_id
        self.retryable = retryable


class NotFoundError(BackendError):
    """The thing asked for does not exist (or the credentials may not see it)."""


class ConflictError(BackendError):
    """The back end refused because of the thing's current state (protection, version, workspaces)."""
