"""In-memory state of the Matillion DPC emulator: projects and what provisioning attached to them.

Secrets (warehouse passwords, private keys, passphrases, the Git PAT) are kept apart from everything
that is rendered: `*.to_json()` never contains them, and `state_json()` (for `/_admin/state`) only
says which secrets arrived, with a short SHA-256 fingerprint so a test can check the right value came.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

SEEDS = ("demo", "empty")
# Keys whose values are secrets wherever they appear in an environment's connection overrides.
SECRET_KEYS = frozenset(
    {"password", "privatekey", "passphrase", "privatekeypassphrase", "secret", "secretvalue", "clientsecret"}
)


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def fingerprint(value: str) -> dict[str, Any]:
    """What `/_admin/state` shows instead of a secret."""
    return {"received": bool(value), "sha256": hashlib.sha256(value.encode()).hexdigest()[:12]}


def split_secrets(value: Any, path: str = "") -> tuple[Any, dict[str, str]]:
    """(value without secret keys, {dotted path: secret}) for a JSON value."""
    if isinstance(value, dict):
        public: dict[str, Any] = {}
        secrets: dict[str, str] = {}
        for key, item in value.items():
            where = f"{path}.{key}" if path else str(key)
            if str(key).lower() in SECRET_KEYS:
                secrets[where] = item if isinstance(item, str) else str(item)
                continue
            public[key], inner = split_secrets(item, where)
            secrets.update(inner)
        return public, secrets
    if isinstance(value, list):
        items, secrets = [], {}
        for i, item in enumerate(value):
            public_item, inner = split_secrets(item, f"{path}[{i}]")
            items.append(public_item)
            secrets.update(inner)
        return items, secrets
    return value, {}


@dataclass
class Connection:
    project_id: str
    name: str
    platform_connection_type: str
    auth_provider: str
    auth_type: str
    created_by: str
    id: str = field(default_factory=lambda: str(uuid.uuid4()))
    created_at: str = field(default_factory=now_iso)

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "platformConnectionType": self.platform_connection_type,
            "authProvider": self.auth_provider,
            "authType": self.auth_type,
            "projectId": self.project_id,
            "createdBy": self.created_by,
            "createdAt": self.created_at,
        }


@dataclass
class Environment:
    project_id: str
    name: str
    description: str | None
    default_agent_id: str
    default_user_access_level: str
    default_connections: list[str]
    connection_overrides: dict[str, Any]  # secrets removed
    secrets: dict[str, dict[str, str]]  # connection name -> {path inside the override: secret}
    created_at: str = field(default_factory=now_iso)

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "description": self.description,
            "defaultAgentId": self.default_agent_id,
            "defaultUserAccessLevel": self.default_user_access_level,
            "defaultConnections": list(self.default_connections),
            "connectionOverrides": self.connection_overrides,
            "projectId": self.project_id,
            "createdAt": self.created_at,
        }

    def state_json(self) -> dict[str, Any]:
        secrets = {
            conn: {path: fingerprint(value) for path, value in paths.items()} for conn, paths in self.secrets.items()
        }
        return self.to_json() | {"secrets": secrets}


@dataclass
class Repository:
    project_id: str
    provider: str
    repository_name: str
    provider_parameters: dict[str, Any]
    access_token: str | None
    created_at: str = field(default_factory=now_iso)

    def to_json(self) -> dict[str, Any]:
        return {
            "projectId": self.project_id,
            "provider": self.provider,
            "repositoryName": self.repository_name,
            "providerParameters": self.provider_parameters,
            "createdAt": self.created_at,
        }

    def state_json(self) -> dict[str, Any]:
        token = fingerprint(self.access_token) if self.access_token else {"received": False}
        return self.to_json() | {"accessToken": token}


@dataclass
class Project:
    name: str
    description: str | None
    warehouse: str
    agent_deployment_type: str
    id: str = field(default_factory=lambda: str(uuid.uuid4()))
    created_at: str = field(default_factory=now_iso)
    connections: dict[str, Connection] = field(default_factory=dict)
    environments: dict[str, Environment] = field(default_factory=dict)
    repository: Repository | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "description": self.description,
            "warehouse": self.warehouse,
            "agentDeploymentType": self.agent_deployment_type,
            "createdAt": self.created_at,
        }

    def state_json(self) -> dict[str, Any]:
        return self.to_json() | {
            "dataPlatformConnections": [c.to_json() for c in self.connections.values()],
            "environments": [e.state_json() for e in self.environments.values()],
            "repository": self.repository.state_json() if self.repository else None,
        }


@dataclass
class Store:
    """All projects, by id, in creation order."""

    projects: dict[str, Project] = field(default_factory=dict)

    def reset(self, seed: str) -> None:
        if seed not in SEEDS:
            raise ValueError(f"unknown seed {seed!r}; expected one of {', '.join(SEEDS)}")
        self.projects.clear()
        if seed == "demo":
            for project in demo_projects():
                self.projects[project.id] = project

    def by_name(self, name: str) -> Project | None:
        folded = name.casefold()
        return next((p for p in self.projects.values() if p.name.casefold() == folded), None)


def demo_projects() -> list[Project]:
    """One fully provisioned Snowflake project and one Redshift project stopped after its connection."""
    full = Project(
        id="4c6d3f5e-2b1a-4e8f-9a7b-0c1d2e3f4a5b",
        name="analytics-dwh",
        description="Analytics warehouse pipelines",
        warehouse="SNOWFLAKE",
        agent_deployment_type="HYBRID",
    )
    full.connections["snowflake-main"] = Connection(
        project_id=full.id,
        name="snowflake-main",
        platform_connection_type="DWH",
        auth_provider="SNOWFLAKE",
        auth_type="KEY_PAIR",
        created_by="demo-client",
        id="0f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0",
    )
    full.environments["analytics-dev"] = Environment(
        project_id=full.id,
        name="analytics-dev",
        description="Development",
        default_agent_id="7a8b9c0d-1e2f-4a3b-9c4d-5e6f7a8b9c0d",
        default_user_access_level="default",
        default_connections=["snowflake-main"],
        connection_overrides={
            "snowflake-main": {
                "connectionProperties": {"account": "acme-xy12345", "username": "MATILLION_SVC"},
                "defaults": {"role": "TRANSFORMER", "warehouse": "COMPUTE_WH", "database": "ANALYTICS"},
            }
        },
        secrets={"snowflake-main": {"connectionProperties.privateKey": "demo-private-key"}},
    )
    full.repository = Repository(
        project_id=full.id,
        provider="github",
        repository_name="acme/analytics-dwh",
        provider_parameters={},
        access_token="demo-pat",
    )
    partial = Project(
        id="9e8d7c6b-5a49-4a3b-8c2d-1e0f9a8b7c6d",
        name="marketing-redshift",
        description="Marketing attribution (provisioning not finished)",
        warehouse="REDSHIFT",
        agent_deployment_type="HYBRID",
    )
    partial.connections["redshift-main"] = Connection(
        project_id=partial.id,
        name="redshift-main",
        platform_connection_type="DWH",
        auth_provider="REDSHIFT",
        auth_type="PASSWORD",
        created_by="demo-client",
        id="1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d",
    )
    return [full, partial]
