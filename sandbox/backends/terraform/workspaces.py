"""Workspace endpoints (list, show by id or name) and organization show."""

from __future__ import annotations

import fnmatch

from starlette.requests import Request
from starlette.responses import Response

from .context import emulator, prefix, principal, readable_org, readable_workspace
from .jsonapi import document, fail, page_params, paginate
from .resources import organization_resource, workspace_resource
from .store import Workspace

_WORKSPACE_SORTS = ("name", "-name", "current-run.created-at", "-current-run.created-at")


def _sorted(items: list[Workspace], sort: str | None) -> list[Workspace]:
    if not sort:
        return items
    if sort not in _WORKSPACE_SORTS:
        raise fail(
            400,
            "invalid sort",
            f'Unsupported sort "{sort}"; use one of {", ".join(_WORKSPACE_SORTS)}.',
            source={"parameter": "sort"},
        )
    descending = sort.startswith("-")
    if sort.lstrip("-") == "name":
        return sorted(items, key=lambda w: (w.name.casefold(), w.name), reverse=descending)
    return sorted(items, key=lambda w: w.updated_at, reverse=descending)


async def list_workspaces(request: Request) -> Response:
    store = emulator(request).store
    who = principal(request)
    org = readable_org(request)
    params = request.query_params
    items = store.org_workspaces(org.name)
    project_id = params.get("filter[project][id]")
    if project_id:
        items = [w for w in items if w.project_id == project_id]
    search = params.get("search[name]")
    if search:
        items = [w for w in items if search.casefold() in w.name.casefold()]
    wildcard = params.get("search[wildcard-name]")
    if wildcard:
        items = [w for w in items if fnmatch.fnmatchcase(w.name.casefold(), wildcard.casefold())]
    items = _sorted(items, params.get("sort"))
    chunk, links, pagination = paginate(request, items, page_params(request))
    mount = prefix(request)
    return document(
        {
            "data": [workspace_resource(store, w, who, mount) for w in chunk],
            "links": links,
            "meta": {"pagination": pagination},
        }
    )


async def show_workspace(request: Request) -> Response:
    store = emulator(request).store
    workspace = readable_workspace(request, store.workspaces.get(request.path_params["workspace_id"]))
    return document({"data": workspace_resource(store, workspace, principal(request), prefix(request))})


async def show_workspace_by_name(request: Request) -> Response:
    store = emulator(request).store
    org = readable_org(request)
    name = request.path_params["workspace_name"]
    found = next((w for w in store.org_workspaces(org.name) if w.name == name), None)
    workspace = readable_workspace(request, found)
    return document({"data": workspace_resource(store, workspace, principal(request), prefix(request))})


async def show_organization(request: Request) -> Response:
    org = readable_org(request)
    return document({"data": organization_resource(org, principal(request), prefix(request))})
