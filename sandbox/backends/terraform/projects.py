"""Project endpoints: list, create, show, update, delete, move workspaces, tag bindings."""

from __future__ import annotations

import re
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from .context import emulator, prefix, principal, readable_org, readable_project
from .jsonapi import (
    ApiError,
    document,
    fail,
    invalid,
    no_content,
    not_found,
    page_params,
    paginate,
    read_document,
)
from .resources import project_resource
from .store import Project, timestamp
from .validation import project_changes, project_document

_TAG_FILTER = re.compile(r"filter\[tagged\]\[(\d+)\]\[(key|value)\]")


def _sorted(items: list[Any], sort: str | None) -> list[Any]:
    if not sort:
        return items
    if sort not in ("name", "-name"):
        raise fail(
            400, "invalid sort", f'Unsupported sort "{sort}"; use "name" or "-name".', source={"parameter": "sort"}
        )
    return sorted(items, key=lambda item: (item.name.casefold(), item.name), reverse=sort.startswith("-"))


def _tag_filters(request: Request) -> list[tuple[str, str | None]]:
    found: dict[int, dict[str, str]] = {}
    for key, value in request.query_params.multi_items():
        match = _TAG_FILTER.fullmatch(key)
        if match:
            found.setdefault(int(match.group(1)), {})[match.group(2)] = value
    return [(f["key"], f.get("value")) for _, f in sorted(found.items()) if "key" in f]


def _matches_tags(project: Project, filters: list[tuple[str, str | None]]) -> bool:
    tags = {t["key"]: t["value"] for t in project.tag_bindings}
    return all(key in tags and (value is None or tags[key] == value) for key, value in filters)


async def list_projects(request: Request) -> Response:
    store = emulator(request).store
    who = principal(request)
    org = readable_org(request)
    params = request.query_params
    items = store.org_projects(org.name)
    total = len(items)
    names = params.get("filter[names]")
    query = params.get("q")
    if names:
        wanted = {name.strip().casefold() for name in names.split(",") if name.strip()}
        items = [p for p in items if p.name.casefold() in wanted]
    elif query:
        items = [p for p in items if query.casefold() in p.name.casefold()]
    if "filter[permissions][update]" in params and not who.manage_projects:
        items = []
    if "filter[permissions][create-workspace]" in params and not (who.manage_projects or who.manage_workspaces):
        items = []
    tag_filters = _tag_filters(request)
    if tag_filters:
        items = [p for p in items if _matches_tags(p, tag_filters)]
    items = _sorted(items, params.get("sort"))
    chunk, links, pagination = paginate(request, items, page_params(request))
    mount = prefix(request)
    return document(
        {
            "data": [project_resource(store, p, who, mount) for p in chunk],
            "links": links,
            "meta": {"status-counts": {"total": total, "matching": len(items)}, "pagination": pagination},
        }
    )


def _tags_with_ids(request: Request, tags: list[dict[str, str]]) -> list[dict[str, str]]:
    store = emulator(request).store
    return [{"id": store.new_id("tb-"), **tag} for tag in tags]


async def create_project(request: Request) -> Response:
    store = emulator(request).store
    who = principal(request)
    org = readable_org(request)
    if not who.manage_projects:
        raise not_found("Organization not found, or user unauthorized to perform action")
    attributes, relationships = project_document(await read_document(request))
    with store.lock:
        changes = project_changes(
            attributes,
            relationships,
            creating=True,
            is_taken=lambda name: store.find_project_by_name(org.name, name) is not None,
        )
        if "tag_bindings" in changes:
            changes["tag_bindings"] = _tags_with_ids(request, changes["tag_bindings"])
        changes.setdefault("default_execution_mode", "remote")
        project = store.add_project(
            Project(id=store.new_id("prj-"), organization=org.name, created_at=store.now(), team_count=0, **changes)
        )
    return document({"data": project_resource(store, project, who, prefix(request))}, status=201)


async def show_project(request: Request) -> Response:
    project = readable_project(request)
    store = emulator(request).store
    return document({"data": project_resource(store, project, principal(request), prefix(request))})


async def update_project(request: Request) -> Response:
    store = emulator(request).store
    project = readable_project(request, manage=True)
    attributes, relationships = project_document(await read_document(request))

    def is_taken(name: str) -> bool:
        other = store.find_project_by_name(project.organization, name)
        return other is not None and other.id != project.id

    with store.lock:
        changes = project_changes(attributes, relationships, creating=False, is_taken=is_taken)
        if "tag_bindings" in changes:
            changes["tag_bindings"] = _tags_with_ids(request, changes["tag_bindings"])
        for field_name, value in changes.items():
            setattr(project, field_name, value)
    return document({"data": project_resource(store, project, principal(request), prefix(request))})


async def delete_project(request: Request) -> Response:
    store = emulator(request).store
    project = readable_project(request, manage=True)
    with store.lock:
        if project.is_default:
            raise fail(409, "conflict", "The default project cannot be deleted.")
        count = store.workspace_count(project.id)
        if count:
            noun = "workspace" if count == 1 else "workspaces"
            raise fail(
                409,
                "conflict",
                f"Project {project.name} cannot be deleted because it contains {count} {noun}. "
                "Move or delete them first.",
                meta={"workspace-count": count},
            )
        store.delete_project(project.id)
    return no_content()


def _workspace_ids(body: Any) -> list[str]:
    data = body.get("data") if isinstance(body, dict) else None
    if not isinstance(data, list) or not data:
        raise ApiError(422, [invalid("`data` must be a non-empty list of workspace identifiers.", "/data")])
    errors, ids = [], []
    for index, item in enumerate(data):
        if not isinstance(item, dict) or item.get("type") != "workspaces":
            errors.append(invalid('Each item must have `type` "workspaces".', f"/data/{index}/type"))
        elif not isinstance(item.get("id"), str) or not item["id"]:
            errors.append(invalid("Each item must have a workspace `id`.", f"/data/{index}/id"))
        elif item["id"] not in ids:
            ids.append(item["id"])
    if errors:
        raise ApiError(422, errors)
    return ids


async def move_workspaces(request: Request) -> Response:
    """All or nothing: if any workspace is unknown or not movable, none moves (403)."""
    store = emulator(request).store
    who = principal(request)
    project = readable_project(request, manage=True)
    ids = _workspace_ids(await read_document(request))
    with store.lock:
        bad = [
            ws_id
            for ws_id in ids
            if ws_id not in store.workspaces or store.workspaces[ws_id].organization != project.organization
        ]
        if bad or not who.manage_workspaces:
            shown = ", ".join(bad or ids)
            raise fail(403, "forbidden", f"Workspace(s) not found, or you are not authorized to move them: {shown}")
        store.move_workspaces(ids, project.id)
    return no_content()


async def list_tag_bindings(request: Request) -> Response:
    project = readable_project(request)
    data = [
        {
            "id": tag.get("id"),
            "type": "tag-bindings",
            "attributes": {"key": tag["key"], "value": tag["value"], "created-at": timestamp(project.created_at)},
        }
        for tag in project.tag_bindings
    ]
    return document({"data": data})
