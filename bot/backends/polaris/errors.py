"""Turning Polaris' `{code, message, target, details}` error body into errors a person can act on."""

from __future__ import annotations

from typing import Any

import httpx

from bot.backends.http import body_text
from bot.errors import BackendError, ConflictError, NotFoundError

BACKEND = "Polaris"


def _error_fields(response: httpx.Response) -> tuple[str, str, str, list[str]]:
    """(code, message, target, detail messages) from the body, tolerating bodies of other shapes."""
    try:
        data: Any = response.json()
    except ValueError:
        return "", body_text(response), "", []
    if isinstance(data, dict) and isinstance(data.get("error"), dict):  # OData-style wrapper
        data = data["error"]
    if not isinstance(data, dict):
        return "", body_text(response), "", []
    details = [
        str(d.get("message"))
        for d in data.get("details") or []
        if isinstance(d, dict) and d.get("message")
    ]
    return str(data.get("code") or ""), str(data.get("message") or ""), str(data.get("target") or ""), details


def parse_error(response: httpx.Response) -> BackendError:
    """The `BackendError` for a Polaris 4xx/5xx response (HttpBackend fills status and request id)."""
    status = response.status_code
    code, message, target, details = _error_fields(response)
    message = message.strip() or f"Polaris answered HTTP {status}."
    if details:
        message = f"{message} ({'; '.join(details[:3])})"
    if target and target not in message:
        message = f"{message} [field `{target}`]"
    if status == 401:
        return BackendError(
            f"Polaris rejected our credentials: {message}",
            "Check the target's `api_key` credential (an admin can update the projectops config).",
            backend=BACKEND, code=code,
        )
    if status == 403:
        return BackendError(
            f"Polaris refused: {message}",
            "The target's API key lacks the permission for this (e.g. AdministerProjects or ManageProjects).",
            backend=BACKEND, code=code,
        )
    if status == 404:
        return NotFoundError(message, backend=BACKEND, code=code)
    if status == 409:
        return ConflictError(message, backend=BACKEND, code=code)
    if status in (400, 415, 422):
        return BackendError(f"Polaris did not accept the request: {message}", backend=BACKEND, code=code)
    return BackendError(f"Polaris answered HTTP {status}: {message}", backend=BACKEND, code=code)
