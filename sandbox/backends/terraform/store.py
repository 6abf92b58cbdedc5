"""In-memory state of the HCP Terraform emulator: organizations, projects and workspaces."""

from __future__ import annotations

import random
import string
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

_ALPHABET = string.ascii_letters + string.digits
EPOCH = datetime(2025, 3, 3, 9, 0, 0, tzinfo=UTC)


def timestamp(moment: datetime) -> str:
    """HCP Terraform's time format: ISO 8601, milliseconds, `Z`."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


@dataclass
class Organization:
    name: str
    external_id: str
    email: str
    created_at: datetime


@dataclass
class Project:
    id: str
    organization: str
    name: str
    created_at: datetime
    description: str | None = None
    auto_destroy_activity_duration: str | None = None
    default_execution_mode: str = "remote"
    stacks_default_execution_mode: str = "remote"
    default_agent_pool: str | None = None
    setting_overwrites: dict[str, bool] = field(default_factory=dict)
    tag_bindings: list[dict[str, str]] = field(default_factory=list)
    team_count: int = 1
    is_default: bool = False


@dataclass
class Workspace:
    id: str
    organization: str
    name: str
    project_id: str
    created_at: datetime
    updated_at: datetime
    description: str | None = None
    terraform_version: str = "1.9.8"
    resource_count: int = 0
    execution_mode: str | None = None  # None: inherits the project's default
    auto_apply: bool = False
    locked: bool = False
    tag_names: list[str] = field(default_factory=list)


class Store:
    """All emulator state behind one lock; ids come from a seeded generator (deterministic)."""

    def __init__(self, id_seed: str = "tfe") -> None:
        self.lock = threading.RLock()
        self.organizations: dict[str, Organization] = {}
        self.projects: dict[str, Project] = {}
        self.workspaces: dict[str, Workspace] = {}
        self._members: dict[str, dict[str, None]] = {}  # project id -> ordered set of workspace ids
        self._rng = random.Random(id_seed)
        self._clock = EPOCH + timedelta(days=120)

    # ---- ids and time -------------------------------------------------------------------------

    def new_id(self, prefix: str) -> str:
        while True:
            candidate = prefix + "".join(self._rng.choice(_ALPHABET) for _ in range(16))
            if candidate not in self.projects and candidate not in self.workspaces:
                return candidate

    def now(self) -> datetime:
        """Wall-clock time, never earlier than the seeded data."""
        return max(datetime.now(UTC), self._clock)

    # ---- writes -------------------------------------------------------------------------------

    def add_organization(self, org: Organization) -> Organization:
        with self.lock:
            self.organizations[org.name] = org
            return org

    def add_project(self, project: Project) -> Project:
        with self.lock:
            self.projects[project.id] = project
            self._members.setdefault(project.id, {})
            return project

    def add_workspace(self, workspace: Workspace) -> Workspace:
        with self.lock:
            self.workspaces[workspace.id] = workspace
            self._members.setdefault(workspace.project_id, {})[workspace.id] = None
            return workspace

    def delete_project(self, project_id: str) -> None:
        with self.lock:
            self.projects.pop(project_id, None)
            self._members.pop(project_id, None)

    def move_workspaces(self, workspace_ids: list[str], project_id: str) -> None:
        """Move every listed workspace; the caller has checked they all exist."""
        with self.lock:
            for ws_id in workspace_ids:
                workspace = self.workspaces[ws_id]
                self._members.get(workspace.project_id, {}).pop(ws_id, None)
                workspace.project_id = project_id
                workspace.updated_at = self.now()
                self._members.setdefault(project_id, {})[ws_id] = None

    # ---- reads --------------------------------------------------------------------------------

    def org_projects(self, organization: str) -> list[Project]:
        with self.lock:
            return [p for p in self.projects.values() if p.organization == organization]

    def org_workspaces(self, organization: str) -> list[Workspace]:
        with self.lock:
            return [w for w in self.workspaces.values() if w.organization == organization]

    def project_workspace_ids(self, project_id: str) -> list[str]:
        with self.lock:
            return list(self._members.get(project_id, {}))

    def workspace_count(self, project_id: str) -> int:
        with self.lock:
            return len(self._members.get(project_id, {}))

    def find_project_by_name(self, organization: str, name: str) -> Project | None:
        """Project names are unique per organization, compared case-insensitively."""
        folded = name.casefold()
        with self.lock:
            for project in self.projects.values():
                if project.organization == organization and project.name.casefold() == folded:
                    return project
        return None
