"""Async HCP Terraform projects client on `HttpBackend`.

Base `target.url + "/api/v2"`, `Authorization: Bearer <token>`, `application/vnd.api+json`. Lists
follow `meta.pagination` to the end, fetching the remaining pages concurrently once `total-pages` is
known. Every request first passes a client-side budget of 30 requests per second; a 429 that still
happens is retried by `HttpBackend`, honouring `Retry-After`.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence
from typing import Any
from urllib.parse import quote

import httpx

from bot.backends.http import HttpBackend, RetryPolicy
from bot.backends.terraform.errors import parse_error
from bot.backends.terraform.models import MovedWorkspaces, TerraformProject, TerraformWorkspace
from bot.backends.terraform.ratelimit import SlidingWindowLimiter
from bot.errors import BackendError, ConflictError, NotFoundError, Reason, UsageError
from bot.settings import Target

BACKEND = "HCP Terraform"
JSONAPI = "application/vnd.api+json"
PAGE_SIZE = 100  # the documented maximum
REQUESTS_PER_SECOND = 30
#: A little over one second, so network jitter cannot squeeze 31 requests into the server's window.
BUDGET_PERIOD = 1.05  # the server's one-second window, and a little headroom for its clock
MAX_PAGES = 1000
SHOWN_NAMES = 10


class _Unset:
    def __repr__(self) -> str:
        return "UNSET"


UNSET: Any = _Unset()


def _pagination(document: dict[str, Any]) -> dict[str, Any]:
    return ((document.get("meta") or {}).get("pagination")) or {}


def _names(items: Sequence[Any], limit: int = SHOWN_NAMES) -> str:
    shown = ", ".join(f"`{i.name}`" for i in items[:limit])
    return shown + (f" and {len(items) - limit} more" if len(items) > limit else "")


class TerraformClient:
    """One HCP Terraform organization (`target.options["organization"]`)."""

    kind = "terraform"

    def __init__(
        self,
        target: Target,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        requests_per_second: int = REQUESTS_PER_SECOND,
        retry: RetryPolicy | None = None,
    ) -> None:
        self.target = target
        token = target.secret("token")
        organization = str(target.options.get("organization") or "")
        if not token:
            raise BackendError(
                f"Target `{target.name}` has no HCP Terraform API token.",
                "Ask an admin to add a `token` credential (a team or organization token) to the target.",
                backend=BACKEND,
            )
        if not organization:
            raise BackendError(
                f"Target `{target.name}` does not name its HCP Terraform organization.",
                "Ask an admin to set `options: {organization: <name>}` on the target.",
                backend=BACKEND,
            )
        self.organization = organization
        self.limiter = SlidingWindowLimiter(requests_per_second, BUDGET_PERIOD)
        self.http = HttpBackend(
            BACKEND,
            target.url + "/api/v2",
            parse_error=lambda response: parse_error(response, organization),
            headers={"Authorization": f"Bearer {token}", "Accept": JSONAPI, "Content-Type": JSONAPI},
            timeout=target.timeout_seconds,
            retry=retry,
            transport=transport,
            attempt_slot=self.limiter.slot,
        )

    @property
    def _org_path(self) -> str:
        return f"/organizations/{quote(self.organization, safe='')}"

    async def aclose(self) -> None:
        await self.http.aclose()

    async def _request(self, method: str, path: str, body: Any = None, **kwargs: Any) -> httpx.Response:
        if body is not None:
            kwargs["content"] = json.dumps(body)
        return await self.http.request(method, path, **kwargs)

    async def _get(self, path: str, **kwargs: Any) -> dict[str, Any]:
        return (await self._request("GET", path, **kwargs)).json()

    # ---------------------------------------------------------------- paging

    async def _page(self, path: str, params: dict[str, Any], number: int, size: int) -> dict[str, Any]:
        return await self._get(path, params={**params, "page[number]": number, "page[size]": size})

    async def _list_all(self, path: str, params: dict[str, Any], page_size: int = PAGE_SIZE) -> list[dict]:
        """Every resource of a paginated list: page 1, then the rest concurrently, then any newer pages."""
        first = await self._page(path, params, 1, page_size)
        documents = [first]
        total_pages = int(_pagination(first).get("total-pages") or 1)
        if total_pages > 1:
            documents += await asyncio.gather(
                *(self._page(path, params, n, page_size) for n in range(2, min(total_pages, MAX_PAGES) + 1))
            )
        next_page = _pagination(documents[-1]).get("next-page")
        while next_page and len(documents) < MAX_PAGES:  # the list grew while we read it
            documents.append(await self._page(path, params, int(next_page), page_size))
            next_page = _pagination(documents[-1]).get("next-page")
        seen: set[str] = set()
        resources = []
        for document in documents:
            for resource in document.get("data") or []:
                if resource.get("id") not in seen:
                    seen.add(resource.get("id"))
                    resources.append(resource)
        return resources

    # ---------------------------------------------------------------- projects

    async def ping(self) -> str:
        count = await self.count_projects()
        return f"{count} project{'s' if count != 1 else ''} in {self.organization}"

    async def count_projects(self) -> int:
        """How many projects the organization has: one request, read from `meta.pagination.total-count`."""
        document = await self._get(f"{self._org_path}/projects", params={"page[size]": 1})
        count = _pagination(document).get("total-count")
        if count is None:
            return len(await self.list_projects())
        return int(count)

    async def list_projects(
        self,
        search: str | None = None,
        names: Sequence[str] = (),
        sort: str | None = None,
        *,
        page_size: int = PAGE_SIZE,
    ) -> list[TerraformProject]:
        """All projects of the organization; `search` is `q`, `names` is `filter[names]`, `sort` `name`/`-name`."""
        params: dict[str, Any] = {}
        if names:
            params["filter[names]"] = ",".join(names)
        if search:
            params["q"] = search
        if sort:
            params["sort"] = sort
        resources = await self._list_all(f"{self._org_path}/projects", params, page_size)
        return [TerraformProject.from_resource(r) for r in resources]

    async def get_project(self, ref: str) -> TerraformProject:
        """A project by id (`prj-…`) or by name (case-insensitive, as HCP Terraform compares names)."""
        ref = ref.strip()
        if not ref:
            raise UsageError("Name the project, or give its id (`prj-…`).")
        if ref.startswith("prj-"):
            try:
                document = await self._get(f"/projects/{quote(ref, safe='')}")
            except NotFoundError as exc:
                raise NotFoundError(
                    f"Project `{ref}` was not found in HCP Terraform, or your token may not see it.",
                    exc.hint, status=404, request_id=exc.request_id, backend=BACKEND, resource="project", name=ref,
                ) from None
            return TerraformProject.from_resource(document["data"])
        matches = [p for p in await self.list_projects(names=[ref]) if p.name.casefold() == ref.casefold()]
        if not matches:
            raise NotFoundError(
                f"No project named `{ref}` in `{self.organization}`, or your token may not see it.",
                status=404, backend=BACKEND, resource="project", name=ref,
            )
        return matches[0]

    async def create_project(
        self, name: str, description: str | None = None, auto_destroy_activity_duration: str | None = None
    ) -> TerraformProject:
        attributes: dict[str, Any] = {"name": name}
        if description is not None:
            attributes["description"] = description
        if auto_destroy_activity_duration is not None:
            attributes["auto-destroy-activity-duration"] = auto_destroy_activity_duration
        body = {"data": {"type": "projects", "attributes": attributes}}
        response = await self._request("POST", f"{self._org_path}/projects", body)
        return TerraformProject.from_resource(response.json()["data"])

    async def update_project(
        self,
        ref: str,
        *,
        name: str = UNSET,
        description: str | None = UNSET,
        auto_destroy_activity_duration: str | None = UNSET,
    ) -> TerraformProject:
        """Change only the given attributes; `None` clears the description or the auto-destroy duration."""
        attributes: dict[str, Any] = {}
        if name is not UNSET:
            attributes["name"] = name
        if description is not UNSET:
            attributes["description"] = description
        if auto_destroy_activity_duration is not UNSET:
            attributes["auto-destroy-activity-duration"] = auto_destroy_activity_duration
        if not attributes:
            raise UsageError("Nothing to change: give a new name, description or auto-destroy duration.")
        project = await self.get_project(ref)
        body = {"data": {"type": "projects", "attributes": attributes}}
        response = await self._request("PATCH", f"/projects/{quote(project.id, safe='')}", body)
        return TerraformProject.from_resource(response.json()["data"])

    async def delete_project(self, ref: str) -> TerraformProject:
        """Delete an empty project; refuse (ConflictError, naming them) while it holds workspaces."""
        project = await self.get_project(ref)
        workspaces = await self.list_workspaces(project.id)
        if workspaces:
            count = len(workspaces)
            raise ConflictError(
                f"Project `{project.name}` holds {count} workspace{'s' if count != 1 else ''}: "
                f"{_names(workspaces)}. HCP Terraform does not delete a project that holds workspaces; "
                "nothing was deleted.",
                backend=BACKEND, reason=Reason.NOT_EMPTY, resource="project", name=project.name,
                blockers=[w.name for w in workspaces],
            )
        await self._request("DELETE", f"/projects/{quote(project.id, safe='')}")
        return project

    # ---------------------------------------------------------------- workspaces

    async def list_workspaces(self, project_ref: str | None = None) -> list[TerraformWorkspace]:
        """Workspaces of the organization, or of one project (by id or name)."""
        params: dict[str, Any] = {}
        if project_ref:
            project_id = project_ref if project_ref.startswith("prj-") else (await self.get_project(project_ref)).id
            params["filter[project][id]"] = project_id
        resources = await self._list_all(f"{self._org_path}/workspaces", params)
        return [TerraformWorkspace.from_resource(r) for r in resources]

    async def get_workspace(self, ref: str) -> TerraformWorkspace:
        """A workspace by id (`ws-…`) or by name within the organization."""
        if ref.startswith("ws-"):
            path = f"/workspaces/{quote(ref, safe='')}"
        else:
            path = f"{self._org_path}/workspaces/{quote(ref, safe='')}"
        try:
            workspace = TerraformWorkspace.from_resource((await self._get(path))["data"])
        except NotFoundError as exc:
            raise NotFoundError(
                f"Workspace `{ref}` was not found in `{self.organization}`, or your token may not see it.",
                exc.hint, status=404, request_id=exc.request_id, backend=BACKEND, resource="workspace", name=ref,
            ) from None
        if workspace.organization and workspace.organization != self.organization:
            raise NotFoundError(
                f"Workspace `{ref}` belongs to organization `{workspace.organization}`, not `{self.organization}`.",
                "Only workspaces of the target's organization can move into its projects.",
                status=404, backend=BACKEND, resource="workspace", name=ref,
            )
        return workspace

    async def move_workspaces(self, project_ref: str, workspace_refs: Sequence[str]) -> MovedWorkspaces:
        """Move workspaces into a project, all or nothing: every workspace is checked to exist first."""
        if not workspace_refs:
            raise UsageError("Name at least one workspace to move.")
        destination = await self.get_project(project_ref)
        found = await asyncio.gather(*(self.get_workspace(ref) for ref in workspace_refs), return_exceptions=True)
        missing = [ref for ref, item in zip(workspace_refs, found, strict=True) if isinstance(item, NotFoundError)]
        for item in found:
            if isinstance(item, BaseException) and not isinstance(item, NotFoundError):
                raise item
        if missing:
            raise NotFoundError(
                f"{len(missing)} of {len(workspace_refs)} workspaces were not found in `{self.organization}` "
                f"(or your token may not see them): {', '.join(f'`{m}`' for m in missing)}. Nothing was moved.",
                status=404, backend=BACKEND, resource="workspace", name=missing[0] if len(missing) == 1 else "",
            )
        workspaces: list[TerraformWorkspace] = []
        for item in found:
            assert isinstance(item, TerraformWorkspace)
            if all(w.id != item.id for w in workspaces):
                workspaces.append(item)
        body = {"data": [{"type": "workspaces", "id": w.id} for w in workspaces]}
        await self._request("POST", f"/projects/{quote(destination.id, safe='')}/relationships/workspaces", body)
        return MovedWorkspaces(destination, workspaces, {w.id: w.project_id or "" for w in workspaces})
