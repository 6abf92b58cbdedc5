"""Async client for the Imply Polaris v1 API: projects here, each project's tables, jobs and connections in
`resources.py`.

Auth is HTTP Basic with the API key as user name and an empty password (what `polaris-sdk` sends).
Retries, timeouts and error mapping come from `HttpBackend`; Polaris' own rules live here: merge-patch
updates that carry only the fields asked for, and following a project's `status.state` until it settles.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import json
import time
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

import httpx

from bot.backends.http import HttpBackend, RetryPolicy
from bot.backends.polaris.errors import BACKEND, parse_error
from bot.backends.polaris.models import Project
from bot.backends.polaris.resources import ProjectResources, quote_segment
from bot.errors import BackendError, ConflictError, NotFoundError, Reason, UsageError
from bot.redact import register_secret
from bot.settings import Target

MERGE_PATCH = "application/merge-patch+json"
StateCallback = Callable[[Project], Awaitable[None] | None]


class PolarisClient(ProjectResources):
    """One Polaris organisation (regional or global base URL), as configured in a `Target`."""

    kind = "polaris"

    def __init__(
        self,
        target: Target,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        retry: RetryPolicy | None = None,
    ) -> None:
        self.target = target
        api_key = target.secret("api_key")
        if not api_key:
            raise BackendError(
                f"Target `{target.name}` has no `api_key` credential.",
                "An admin sets `credentials: {api_key: ${POLARIS_API_KEY}}` for it in the projectops config.",
                backend=BACKEND,
            )
        register_secret(api_key)
        self.http = HttpBackend(
            BACKEND,
            target.url,
            parse_error=parse_error,
            headers={"Accept": "application/json"},
            auth=httpx.BasicAuth(api_key, ""),
            timeout=target.timeout_seconds,
            retry=retry,
            transport=transport,
        )
        #: Longest a state-changing operation follows the project before reporting (seconds).
        self.follow_seconds = float(target.options.get("follow_seconds", 20.0))
        self.poll_seconds = float(target.options.get("poll_seconds", 1.0))

    async def aclose(self) -> None:
        await self.http.aclose()

    async def ping(self) -> str:
        projects = await self.list_projects()
        return f"{len(projects)} project{'s' if len(projects) != 1 else ''}"

    # ------------------------------------------------------------ projects

    async def list_projects(self) -> list[Project]:
        data = await self._json("GET", "/v1/projects")
        if isinstance(data, dict):  # tolerate a `{"values": [...]}` wrapper
            data = data.get("values", [])
        return [Project.model_validate(p) for p in data]

    async def get_project(self, project_id: str) -> Project:
        try:
            return Project.model_validate(await self._json("GET", f"/v1/projects/{quote_segment(project_id)}"))
        except NotFoundError as exc:
            exc.message = f"Project {project_id} was not found."
            exc.resource, exc.name = "project", project_id
            raise

    async def resolve_project(self, name_or_id: str) -> Project:
        """The project whose uid, or else exact name (then case-insensitive name), is `name_or_id`."""
        projects = await self.list_projects()
        for match in (
            [p for p in projects if p.uid == name_or_id],
            [p for p in projects if p.name == name_or_id],
            [p for p in projects if p.name.lower() == name_or_id.lower()],
        ):
            if len(match) == 1:
                return match[0]
            if len(match) > 1:
                ids = ", ".join(f"`{p.uid}`" for p in match)
                raise UsageError(f"More than one project is called `{name_or_id}` on `{self.target.name}`.",
                                 f"Use its id instead: {ids}.")
        raise NotFoundError(
            f"There is no project `{name_or_id}` on `{self.target.name}`.",
            backend=BACKEND,
            status=404,
            resource="project",
            name=name_or_id,
            candidates=[p.name for p in projects],
        )

    async def create_project(
        self,
        name: str,
        plan: str,
        region: str | None = None,
        *,
        deletion_protection: bool | None = None,
        stop_protection: bool | None = None,
    ) -> Project:
        spec: dict[str, Any] = {"plan": plan}
        if region:
            spec["region"] = region
        if deletion_protection is not None:
            spec["deletionProtection"] = deletion_protection
        if stop_protection is not None:
            spec["stopProtection"] = stop_protection
        body = {"metadata": {"name": name}, "spec": spec}
        return Project.model_validate(await self._json("POST", "/v1/projects", json=body))

    async def update_project(
        self,
        project_id: str,
        *,
        plan: str | None = None,
        desired_state: str | None = None,
        deletion_protection: bool | None = None,
        stop_protection: bool | None = None,
        name: str | None = None,
    ) -> Project:
        """Merge-patch only the fields given: an unset field is left exactly as it is on the server."""
        spec: dict[str, Any] = {}
        if plan is not None:
            spec["plan"] = plan
        if desired_state is not None:
            spec["desiredState"] = desired_state
        if deletion_protection is not None:
            spec["deletionProtection"] = deletion_protection
        if stop_protection is not None:
            spec["stopProtection"] = stop_protection
        patch: dict[str, Any] = {}
        if spec:
            patch["spec"] = spec
        if name is not None:
            patch["metadata"] = {"name": name}
        if not patch:
            raise UsageError("Nothing to change: name at least one of plan, state or a protection flag.")
        try:
            data = await self._json(
                "PATCH",
                f"/v1/projects/{quote_segment(project_id)}",
                content=httpx_json(patch),
                headers={"Content-Type": MERGE_PATCH},
            )
        except BackendError as exc:
            if desired_state in ("paused", "stopped") and "stop protection" in exc.message.lower():
                await self._explain_stop_protection(project_id, desired_state, exc)
            raise
        return Project.model_validate(data)

    async def _explain_stop_protection(self, project_id: str, desired: str, exc: BackendError) -> None:
        name = project_id
        with contextlib.suppress(BackendError):
            name = (await self.get_project(project_id)).name
        verb = "paused" if desired == "paused" else "stopped"
        exc.message = f"Project {name} has stop protection on, so it can't be {verb}."
        exc.reason, exc.resource, exc.name = Reason.STOP_PROTECTION, "project", name

    async def delete_project(self, project_id: str) -> None:
        """Ask Polaris to delete the project (202); a protected project gives a ConflictError that says so."""
        try:
            await self.http.request("DELETE", f"/v1/projects/{quote_segment(project_id)}")
        except ConflictError as exc:
            try:
                project = await self.get_project(project_id)
            except BackendError:
                raise exc from None
            exc.resource, exc.name = "project", project.name
            if project.spec.deletion_protection:
                exc.message = f"Project {project.name} has deletion protection on."
                exc.reason = Reason.DELETION_PROTECTION
            else:
                exc.message = f"Polaris refused to delete project {project.name}: {exc.message}"
            raise

    async def wait_for_state(
        self,
        project_id: str,
        until: Iterable[str] | None = None,
        timeout: float | None = None,
        on_change: StateCallback | None = None,
        interval: float | None = None,
        initial: Project | None = None,
    ) -> Project:
        """Follow `status.state` until it is in `until` (or, with no `until`, no longer transitional).

        Stops early on `failed`. A project that disappears while `deleted` is awaited comes back with state
        `deleted`. On timeout the last project seen is returned (check `.state`); `on_change` (sync or
        async) is called with each new state, the first one included. `initial` is the project as last known
        (so a project deleted before the first poll still comes back as `deleted`).
        """
        wanted = set(until) if until else None
        deadline = time.monotonic() + (self.follow_seconds if timeout is None else timeout)
        ceiling = self.poll_seconds if interval is None else interval
        delay = min(0.2, ceiling)
        last_state: str | None = None
        project: Project | None = initial
        while True:
            try:
                project = await self.get_project(project_id)
            except NotFoundError:
                if project is not None and wanted and "deleted" in wanted:
                    gone = project.model_copy(deep=True)
                    gone.status.state = "deleted"
                    await _call(on_change, gone)
                    return gone
                raise
            if project.state != last_state:
                last_state = project.state
                await _call(on_change, project)
            done = project.state in wanted if wanted else project.settled
            if done or project.state == "failed":
                return project
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return project
            await asyncio.sleep(min(delay, remaining))
            delay = min(ceiling, delay * 1.5)

def httpx_json(body: Any) -> bytes:
    """JSON bytes for bodies sent with a content type other than application/json."""
    return json.dumps(body, separators=(",", ":")).encode()


async def _call(callback: StateCallback | None, project: Project) -> None:
    if callback is None:
        return
    result = callback(project)
    if inspect.isawaitable(result):
        await result
