"""Projects and workspaces as the bot uses them, read from JSON:API resource objects."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel


class TerraformProject(BaseModel):
    id: str
    name: str
    description: str | None = None
    created_at: str | None = None
    workspace_count: int | None = None
    team_count: int | None = None
    auto_destroy_activity_duration: str | None = None
    default_execution_mode: str | None = None
    can_destroy: bool | None = None

    @property
    def state(self) -> str:
        """No lifecycle state in HCP Terraform; the workspace count stands in for the common listing."""
        if self.workspace_count is None:
            return ""
        return f"{self.workspace_count} workspace{'s' if self.workspace_count != 1 else ''}"

    @classmethod
    def from_resource(cls, resource: dict[str, Any]) -> TerraformProject:
        attrs = resource.get("attributes") or {}
        perms = attrs.get("permissions") or {}
        return cls(
            id=resource["id"],
            name=attrs.get("name") or "",
            description=attrs.get("description"),
            created_at=attrs.get("created-at"),
            workspace_count=attrs.get("workspace-count"),
            team_count=attrs.get("team-count"),
            auto_destroy_activity_duration=attrs.get("auto-destroy-activity-duration"),
            default_execution_mode=attrs.get("default-execution-mode"),
            can_destroy=perms.get("can-destroy"),
        )


class TerraformWorkspace(BaseModel):
    id: str
    name: str
    project_id: str | None = None
    organization: str | None = None
    resource_count: int | None = None
    execution_mode: str | None = None
    terraform_version: str | None = None
    locked: bool | None = None
    updated_at: str | None = None

    @classmethod
    def from_resource(cls, resource: dict[str, Any]) -> TerraformWorkspace:
        attrs = resource.get("attributes") or {}
        relationships = resource.get("relationships") or {}
        project = (relationships.get("project") or {}).get("data") or {}
        organization = (relationships.get("organization") or {}).get("data") or {}
        return cls(
            id=resource["id"],
            name=attrs.get("name") or "",
            project_id=project.get("id"),
            organization=organization.get("id"),
            resource_count=attrs.get("resource-count"),
            execution_mode=attrs.get("execution-mode"),
            terraform_version=attrs.get("terraform-version"),
            locked=attrs.get("locked"),
            updated_at=attrs.get("updated-at"),
        )


@dataclass
class MovedWorkspaces:
    """The result of a move: the destination and each workspace with the project it came from."""

    project: TerraformProject
    workspaces: list[TerraformWorkspace]
    from_projects: dict[str, str] = field(default_factory=dict)  # workspace id -> source project id
