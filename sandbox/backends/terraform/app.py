"""Assemble the emulator: routes, JSON:API error rendering, auth, rate limit and fault injection."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import ASGIApp

from ..faults import FaultMiddleware, FaultState
from . import admin, projects, seeds, workspaces
from .access import AccessMiddleware, RateLimiter
from .context import Emulator
from .jsonapi import ApiError, error_body, fail
from .store import Store

API = "/api/v2"

Endpoint = Callable[[Request], Awaitable[Response]]


def _route(path: str, **handlers: Endpoint) -> Route:
    """One route per path, dispatching on the method, so a 405 lists every allowed method."""

    async def endpoint(request: Request) -> Response:
        return await handlers["get" if request.method == "HEAD" else request.method.lower()](request)

    return Route(path, endpoint, methods=[method.upper() for method in handlers], name=path)


ROUTES = [
    _route(f"{API}/organizations/{{organization_name}}", get=workspaces.show_organization),
    _route(
        f"{API}/organizations/{{organization_name}}/projects", get=projects.list_projects, post=projects.create_project
    ),
    _route(
        f"{API}/projects/{{project_id}}",
        get=projects.show_project,
        patch=projects.update_project,
        delete=projects.delete_project,
    ),
    _route(f"{API}/projects/{{project_id}}/relationships/workspaces", post=projects.move_workspaces),
    _route(f"{API}/projects/{{project_id}}/tag-bindings", get=projects.list_tag_bindings),
    _route(f"{API}/projects/{{project_id}}/effective-tag-bindings", get=projects.list_tag_bindings),
    _route(f"{API}/organizations/{{organization_name}}/workspaces", get=workspaces.list_workspaces),
    _route(
        f"{API}/organizations/{{organization_name}}/workspaces/{{workspace_name}}",
        get=workspaces.show_workspace_by_name,
    ),
    _route(f"{API}/workspaces/{{workspace_id}}", get=workspaces.show_workspace),
    _route("/_admin/reset", post=admin.reset),
    _route("/_admin/config", get=admin.config, post=admin.config),
    _route("/_admin/bulk", post=admin.bulk),
]


async def _api_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError)
    return exc.response()


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    titles = {404: "not found", 405: "method not allowed"}
    error = fail(exc.status_code, titles.get(exc.status_code, "error"), exc.detail)
    error.headers.update(exc.headers or {})
    return error.response()


def create_app(
    seed: str = "demo",
    *,
    tokens: dict[str, dict[str, Any]] | None = None,
    rate_limit_per_second: int = 30,
) -> ASGIApp:
    """The HCP Terraform API emulator as an ASGI app; clients call `/api/v2/...` below its mount path.

    `tokens` restricts which bearer tokens are valid (see `access.principal_for`); by default any
    non-empty token is, and `noperm-...` tokens are valid but see nothing.
    """
    store = Store(id_seed=seed)
    seeds.load(store, seed)
    faults = FaultState()
    limiter = RateLimiter(rate_limit_per_second)
    app = Starlette(
        routes=ROUTES,
        exception_handlers={ApiError: _api_error, HTTPException: _http_error},
    )
    app.state.emulator = Emulator(store, limiter, faults, tokens, seed, rate_limit_per_second)
    return FaultMiddleware(AccessMiddleware(app, tokens, limiter), error_body=error_body, state=faults)
