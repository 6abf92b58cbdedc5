"""JSON:API resource objects for organizations, projects and workspaces."""

from __future__ import annotations

from typing import Any

from .access import Principal
from .store import Organization, Project, Store, Workspace, timestamp
from .validation import SETTING_OVERWRITES


def _org_relationship(prefix: str, organization: str) -> dict[str, Any]:
    return {
        "data": {"id": organization, "type": "organizations"},
        "links": {"related": f"{prefix}/api/v2/organizations/{organization}"},
    }


def project_resource(store: Store, project: Project, who: Principal, prefix: str) -> dict[str, Any]:
    """A `projects` resource; `prefix` is the mount path, so relative links resolve."""
    manage = who.manage_projects
    self_link = f"{prefix}/api/v2/projects/{project.id}"
    pool = {"id": project.default_agent_pool, "type": "agent-pools"} if project.default_agent_pool else None
    return {
        "id": project.id,
        "type": "projects",
        "attributes": {
            "name": project.name,
            "description": project.description,
            "created-at": timestamp(project.created_at),
            "workspace-count": store.workspace_count(project.id),
            "team-count": project.team_count,
            "auto-destroy-activity-duration": project.auto_destroy_activity_duration,
            "default-execution-mode": project.default_execution_mode,
            "stacks-default-execution-mode": project.stacks_default_execution_mode,
            "setting-overwrites": {key: project.setting_overwrites.get(key, False) for key in SETTING_OVERWRITES},
            "permissions": {
                "can-read": True,
                "can-update": manage,
                "can-destroy": manage and not project.is_default,
                "can-create-workspace": manage or who.manage_workspaces,
                "can-move-workspace": manage,
                "can-move-stack": manage,
                "can-manage-stacks": manage,
                "can-view-stacks": True,
                "can-update-stacks": manage,
                "can-deploy-no-code-modules": manage,
                "can-read-teams": True,
                "can-manage-tags": manage,
                "can-manage-teams": manage,
                "can-manage-in-hcp": manage,
                "can-manage-varsets": manage,
                "can-manage-ephemeral-workspace-for-projects": manage,
            },
        },
        "relationships": {
            "organization": _org_relationship(prefix, project.organization),
            "default-agent-pool": {"data": pool},
            "stacks-default-agent-pool": {"data": None},
            "tag-bindings": {"links": {"related": f"{self_link}/tag-bindings"}},
            "effective-tag-bindings": {"links": {"related": f"{self_link}/effective-tag-bindings"}},
        },
        "links": {"self": self_link},
    }


def workspace_resource(store: Store, workspace: Workspace, who: Principal, prefix: str) -> dict[str, Any]:
    """A `workspaces` resource with the attributes a projects client needs."""
    project = store.projects.get(workspace.project_id)
    inherited = workspace.execution_mode is None
    mode = project.default_execution_mode if (inherited and project) else (workspace.execution_mode or "remote")
    manage = who.manage_workspaces
    self_link = f"{prefix}/api/v2/organizations/{workspace.organization}/workspaces/{workspace.name}"
    return {
        "id": workspace.id,
        "type": "workspaces",
        "attributes": {
            "name": workspace.name,
            "description": workspace.description,
            "created-at": timestamp(workspace.created_at),
            "updated-at": timestamp(workspace.updated_at),
            "environment": "default",
            "execution-mode": mode,
            "auto-apply": workspace.auto_apply,
            "locked": workspace.locked,
            "resource-count": workspace.resource_count,
            "terraform-version": workspace.terraform_version,
            "working-directory": "",
            "tag-names": list(workspace.tag_names),
            "source": "tfe-api",
            "inherits-project-auto-destroy": True,
            "auto-destroy-activity-duration": project.auto_destroy_activity_duration if project else None,
            "setting-overwrites": {"execution-mode": not inherited, "agent-pool": False},
            "actions": {"is-destroyable": manage},
            "permissions": {
                "can-update": manage,
                "can-destroy": manage,
                "can-queue-run": manage,
                "can-read-settings": True,
                "can-lock": manage,
                "can-unlock": manage,
                "can-force-unlock": manage,
                "can-read-state-versions": True,
            },
        },
        "relationships": {
            "organization": {"data": {"id": workspace.organization, "type": "organizations"}},
            "project": {
                "data": {"id": workspace.project_id, "type": "projects"},
                "links": {"related": f"{prefix}/api/v2/projects/{workspace.project_id}"},
            },
        },
        "links": {"self": self_link, "self-html": f"/app/{workspace.organization}/workspaces/{workspace.name}"},
    }


def organization_resource(org: Organization, who: Principal, prefix: str) -> dict[str, Any]:
    """A minimal `organizations` resource."""
    return {
        "id": org.name,
        "type": "organizations",
        "attributes": {
            "name": org.name,
            "external-id": org.external_id,
            "email": org.email,
            "created-at": timestamp(org.created_at),
            "default-execution-mode": "remote",
            "permissions": {
                "can-create-project": who.manage_projects,
                "can-create-workspace": who.manage_workspaces,
                "can-update": who.manage_projects,
                "can-destroy": False,
            },
        },
        "links": {"self": f"{prefix}/api/v2/organizations/{org.name}"},
    }
