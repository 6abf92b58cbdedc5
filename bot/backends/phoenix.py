"""Arize Phoenix `/v1/projects` client: cursor paging, get by id or name, create, update, guarded delete.

Phoenix's error bodies are mixed: hand-raised errors are text/plain, request validation errors are
FastAPI JSON `{"detail": [...]}`. A duplicate name surfaces as a bare 500, the default project and
member keys both give 403 (told apart by text), a full database gives 507. Project ids are SQLite
rowids and come back after a delete, so `delete_project` re-reads and compares before acting; `create_project`
looks the name up first, so a 500 to the create itself is an open outcome, not a taken name.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import httpx
from pydantic import BaseModel

from bot.backends.http import HttpBackend, body_text
from bot.errors import BackendError, ConflictError, NotFoundError, OutcomeUnknown, Reason, UsageError
from bot.settings import Target

BACKEND = "Phoenix"
DEFAULT_PROJECT = "default"
PAGE_SIZE = 100
COUNT_PAGE_SIZE = 1000  # pages for counting: fewer round trips, still a modest answer
#: Characters Phoenix cannot take in a project name used as a path identifier (the params models of the Phoenix
#: operations refuse them in words; `_identifier_path` keeps a guard on the same characters).
UNSAFE_NAME_CHARS = "/?#"
MAX_PAGES = 1000


class PhoenixProject(BaseModel):
    """One Phoenix project as `/v1/projects` returns it."""

    id: str
    name: str
    description: str | None = None

    @property
    def state(self) -> str:
        """Phoenix projects have no lifecycle state; kept for the common listing shape."""
        return ""


def _identifier_path(identifier: str) -> str:
    """The project's path; a guard against identifiers Phoenix cannot address (the params models say it first)."""
    if not identifier or not identifier.strip():
        raise UsageError("Name the Phoenix project, or give its id.")
    if any(c in UNSAFE_NAME_CHARS for c in identifier):
        raise UsageError(f"`{identifier}` cannot be used to address a Phoenix project: `/`, `?` and `#` break "
                         "its URL.", "Use the project's id instead.")
    return "/v1/projects/" + quote(identifier, safe="")


def _validation_text(detail: Any) -> str:
    """FastAPI `{"detail": [...]}` as one readable line."""
    if isinstance(detail, str):
        return detail
    if not isinstance(detail, list):
        return str(detail)
    parts = []
    for item in detail[:5]:
        if not isinstance(item, dict):
            parts.append(str(item))
            continue
        loc = [str(p) for p in item.get("loc") or [] if p not in ("body", "query", "path")]
        where = ".".join(loc)
        msg = str(item.get("msg") or item.get("type") or "invalid")
        parts.append(f"{where}: {msg}" if where else msg)
    return "; ".join(parts)


def error_text(response: httpx.Response) -> str:
    """The error body as text, read by content type (JSON `detail`, else plain text)."""
    content_type = response.headers.get("content-type", "")
    if "json" in content_type:
        try:
            payload = response.json()
        except ValueError:
            return body_text(response)
        if isinstance(payload, dict) and "detail" in payload:
            return _validation_text(payload["detail"])
        return body_text(response)
    return body_text(response)


class PhoenixErrors:
    """Turns a Phoenix error response into a `BackendError` a person can act on."""

    def __init__(self, target: Target, has_key: bool) -> None:
        self.target = target
        self.has_key = has_key

    def __call__(self, response: httpx.Response) -> BackendError:
        status = response.status_code
        text = error_text(response)
        name = self.target.name
        if status == 401:
            if self.has_key:
                return BackendError(
                    f"Phoenix on `{name}` rejected the API key ({text or 'Invalid token'}).",
                    "The key may have been deleted or expired: ask an admin to set a valid `api_key` "
                    "for the target.",
                )
            return BackendError(
                f"Phoenix on `{name}` has authentication turned on, and the target has no API key.",
                "Ask an admin to add an `api_key` credential (a Phoenix system key) to the target.",
            )
        if status == 403:
            if "default project" in text.lower():
                return ConflictError(
                    "Phoenix never deletes its `default` project.",
                    "Delete another project, or clear old traces from `default` in Phoenix instead.",
                )
            if "admin" in text.lower():
                return BackendError(
                    f"Phoenix on `{name}` lets only admin or system users change or delete projects, "
                    "and this target's API key belongs to a member.",
                    "Ask a Phoenix admin to give the target a system API key (Settings > API keys), "
                    "or make the change in Phoenix yourself.",
                )
            return BackendError(f"Phoenix refused: {text or 'forbidden'}.", "Check the target's API key.")
        if status == 404:
            return NotFoundError(text or "Phoenix could not find that project.", resource="project")
        if status == 507:
            return BackendError(
                f"Phoenix on `{name}` is out of storage and refuses to create or change projects (507).",
                "Delete old projects or traces (deletes still work), or ask the Phoenix admin to raise "
                "the storage capacity.",
            )
        if status == 422:
            return BackendError(f"Phoenix rejected the request: {text}.", "Check the values and try again.")
        return BackendError(f"Phoenix answered {status}: {(text or response.reason_phrase).rstrip('.')}.")


class PhoenixClient:
    """Async client for one Phoenix server (`target.url` is the server root, e.g. http://host:6006)."""

    kind = "phoenix"

    def __init__(self, target: Target, *, transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.target = target
        key = target.secret("api_key")
        headers = {"Accept": "application/json"}
        if key:
            headers["Authorization"] = f"Bearer {key}"
        self.http = HttpBackend(
            BACKEND,
            target.url,
            parse_error=PhoenixErrors(target, bool(key)),
            headers=headers,
            timeout=target.timeout_seconds,
            transport=transport,
        )

    async def aclose(self) -> None:
        await self.http.aclose()

    async def ping(self) -> str:
        """One page only, so a server with thousands of projects still answers quickly."""
        payload = await self.http.get_json("/v1/projects", params={"limit": PAGE_SIZE})
        count = len(payload.get("data") or [])
        more = "+" if payload.get("next_cursor") else ""
        return f"{count}{more} project{'s' if count != 1 or more else ''}"

    async def count_projects(self) -> int:
        """How many projects there are, read in pages of `COUNT_PAGE_SIZE` (Phoenix sets no maximum)."""
        return len(await self.list_projects(page_size=COUNT_PAGE_SIZE))

    async def list_projects(self, name_contains: str | None = None, *, page_size: int = PAGE_SIZE,
                            limit: int | None = None) -> list[PhoenixProject]:
        """Every project (newest first, as Phoenix orders them), following `next_cursor` to the end."""
        params: dict[str, Any] = {"limit": page_size}
        if name_contains:
            params["name_contains"] = name_contains
        projects: list[PhoenixProject] = []
        seen_cursors: set[str] = set()
        for _ in range(MAX_PAGES):
            payload = await self.http.get_json("/v1/projects", params=params)
            projects += [PhoenixProject.model_validate(p) for p in payload.get("data") or []]
            cursor = payload.get("next_cursor")
            if not cursor or cursor in seen_cursors or (limit is not None and len(projects) >= limit):
                break
            seen_cursors.add(cursor)
            params["cursor"] = cursor
        return projects[:limit] if limit is not None else projects

    async def get_project(self, identifier: str) -> PhoenixProject:
        """A project by its id (`UHJvamVjdDoy`) or its name."""
        try:
            payload = await self.http.get_json(_identifier_path(identifier))
        except NotFoundError as exc:
            exc.name = identifier
            raise
        return PhoenixProject.model_validate(payload["data"])

    async def create_project(self, name: str, description: str | None = None) -> PhoenixProject:
        """Create a project. Phoenix answers a taken name with a bare 500, so the name is looked up first: a 500
        after that leaves the outcome open (`OutcomeUnknown`: the operation re-reads), never "already exists"."""
        await self._refuse_taken(name)
        body: dict[str, Any] = {"name": name}
        if description is not None:
            body["description"] = description
        try:
            response = await self.http.request("POST", "/v1/projects", json=body)
        except OutcomeUnknown as exc:
            exc.resource, exc.name = "project", name
            raise
        return PhoenixProject.model_validate(response.json()["data"])

    async def _refuse_taken(self, name: str) -> None:
        """A ConflictError naming the project that already holds `name` (Phoenix names are unique)."""
        try:
            existing = await self.get_project(name)
        except NotFoundError:
            return
        if existing.name != name:  # `name` is another project's id, not a name in use
            return
        raise ConflictError(
            f"A project named `{name}` already exists on Phoenix (id `{existing.id}`).",
            "Project names are unique: pick another name, or update that project's description.",
            backend=BACKEND, reason=Reason.EXISTS, resource="project", name=name,
        )

    async def update_project(self, identifier: str, description: str) -> PhoenixProject:
        """Set the description (Phoenix names cannot change)."""
        try:
            response = await self.http.request("PUT", _identifier_path(identifier), json={"description": description})
        except NotFoundError as exc:
            exc.name = identifier
            raise
        return PhoenixProject.model_validate(response.json()["data"])

    async def delete_project(self, expected_id: str, expected_name: str) -> PhoenixProject:
        """Delete the project only if `expected_id` still names `expected_name`.

        Phoenix reuses ids after deletes, so an id remembered from a listing or a confirmation can
        point at another project by now: re-read it and compare both before deleting.
        """
        if expected_name == DEFAULT_PROJECT:
            raise ConflictError("Phoenix never deletes its `default` project.",
                                "Delete another project, or clear old traces from `default` in Phoenix.",
                                backend=BACKEND, resource="project", name=expected_name)
        try:
            current = await self.get_project(expected_id)
        except NotFoundError as exc:
            raise NotFoundError(
                f"Phoenix project `{expected_name}` (id `{expected_id}`) no longer exists; nothing was deleted.",
                backend=BACKEND, status=exc.status, request_id=exc.request_id,
                reason=Reason.GONE, resource="project", name=expected_name,
            ) from None
        if current.id != expected_id or current.name != expected_name:
            raise ConflictError(
                f"Id `{expected_id}` now belongs to project `{current.name}`, not `{expected_name}` "
                "(Phoenix reuses ids after deletes). Nothing was deleted.",
                backend=BACKEND, reason=Reason.ID_REUSED, resource="project", name=expected_name,
            )
        await self.http.request("DELETE", _identifier_path(current.id))
        return current
