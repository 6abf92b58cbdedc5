"""HCP Terraform `{"errors": [...]}` bodies mapped to errors a person can act on.

Input rules (name, description, auto-destroy duration) live in the params models of `bot.operations.terraform`,
checked before any call; the API checks them again and answers 422, mapped below.
"""

from __future__ import annotations

from typing import Any

import httpx

from bot.backends.http import body_text
from bot.errors import BackendError, ConflictError, NotFoundError


def error_objects(response: httpx.Response) -> list[dict[str, Any]]:
    """The JSON:API error objects of a response, or [] when the body has another shape."""
    try:
        payload = response.json()
    except ValueError:
        return []
    errors = payload.get("errors") if isinstance(payload, dict) else None
    if not isinstance(errors, list):
        return []
    return [e if isinstance(e, dict) else {"detail": str(e)} for e in errors]


def field_of(error: dict[str, Any]) -> str:
    """`/data/attributes/auto-destroy-activity-duration` -> `auto-destroy-activity-duration`."""
    source = error.get("source") or {}
    pointer = str(source.get("pointer") or source.get("parameter") or "")
    parts = [p for p in pointer.split("/") if p and p not in ("data", "attributes", "relationships")]
    return parts[-1] if parts else ""


def _describe(errors: list[dict[str, Any]]) -> str:
    texts = []
    for error in errors[:5]:
        text = str(error.get("detail") or error.get("title") or "error").rstrip(".")
        where = field_of(error)
        texts.append(f"{where}: {text}" if where and where.lower() not in text.lower() else text)
    return "; ".join(texts)


def parse_error(response: httpx.Response, organization: str = "") -> BackendError:
    status = response.status_code
    errors = error_objects(response)
    text = _describe(errors) if errors else body_text(response)
    if status == 401:
        return BackendError(
            "HCP Terraform rejected the API token (401).",
            "The token may be missing, expired or revoked: ask an admin to set a valid `token` for the target.",
        )
    if status == 404:
        return NotFoundError(
            f"Not found in HCP Terraform, or your token may not see it ({text or 'no detail'}).",
            "HCP Terraform answers 404 when the token lacks permission too: check the name or id, and that "
            f"the token may manage projects in `{organization}`.",
        )
    if status == 409:
        return ConflictError(f"HCP Terraform refused: {text}.", "")
    if status == 422:
        return BackendError(f"HCP Terraform rejected the values: {text}.", "Fix them and try again.")
    if status == 403:
        return BackendError(
            f"HCP Terraform refused: {text}.",
            "The token may lack permission for this (Owners or the Manage projects permission).",
        )
    if status == 429:
        return BackendError("HCP Terraform is rate limiting requests (30 per second).")
    return BackendError(f"HCP Terraform answered {status}: {(text or response.reason_phrase).rstrip('.')}.")
