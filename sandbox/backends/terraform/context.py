"""The emulator object shared by all handlers, and per-request helpers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from starlette.requests import Request

from ..faults import FaultState
from . import seeds
from .access import PRINCIPAL_KEY, Principal, RateLimiter
from .jsonapi import not_found
from .store import Organization, Project, Store, Workspace


@dataclass
class Emulator:
    store: Store
    limiter: RateLimiter
    faults: FaultState
    tokens: dict[str, dict[str, Any]] | None
    seed: str
    default_rate_limit: int

    def reset(self, seed_name: str) -> None:
        """Replace all data with `seed_name`; restore the rate limit, clear its windows and injected faults."""
        store = Store(id_seed=seed_name)
        seeds.load(store, seed_name)
        self.store = store
        self.seed = seed_name
        self.limiter.per_second = self.default_rate_limit
        self.limiter.reset()
        self.faults.clear()


def emulator(request: Request) -> Emulator:
    return request.app.state.emulator


def principal(request: Request) -> Principal:
    return request.scope[PRINCIPAL_KEY]


def prefix(request: Request) -> str:
    """The path the emulator is mounted at (`/terraform`), for links."""
    return request.scope.get("root_path", "").rstrip("/")


def readable_org(request: Request) -> Organization:
    """The path's organization, or 404 when it does not exist or the caller may not read it."""
    name = request.path_params["organization_name"]
    org = emulator(request).store.organizations.get(name)
    if org is None or not principal(request).read_projects:
        raise not_found("Organization not found, or user unauthorized to perform action")
    return org


def readable_project(request: Request, *, manage: bool = False) -> Project:
    """The path's project; 404 when missing or not readable (or not manageable, for writes)."""
    who = principal(request)
    project = emulator(request).store.projects.get(request.path_params["project_id"])
    allowed = who.manage_projects if manage else who.read_projects
    if project is None or not allowed:
        raise not_found("Project not found, or user unauthorized to perform action")
    return project


def readable_workspace(request: Request, workspace: Workspace | None) -> Workspace:
    if workspace is None or not principal(request).read_projects:
        raise not_found("Workspace not found, or user unauthorized to perform action")
    return workspace
