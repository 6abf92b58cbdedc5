"""Matillion Data Productivity Cloud (Maia) project-provisioning client.

OAuth client credentials give a 30-minute bearer token: it is cached, refreshed a little before it
runs out (and once when the API answers 401), and fetched by one caller at a time. The API lives
under `<target.url>/v1`; errors are `application/problem+json` with a `violations` list, turned
into messages that name the fields in plain words. Secrets (client secret, warehouse password,
private key, passphrase, Git PAT) go only into request bodies or the `Git-Provider-Access-Token`
header, are registered with `bot.redact`, and never appear in an error.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlsplit

import httpx
from pydantic import BaseModel, ConfigDict, Field, SecretStr

from bot.backends.http import HttpBackend, body_text
from bot.errors import BackendError, ConflictError, NotFoundError, Reason, UsageError
from bot.redact import register_secret
from bot.settings import Target

BACKEND = "Matillion"
DEFAULT_TOKEN_URL = "https://id.core.matillion.com/oauth/dpc/token"
AUDIENCE = "https://api.matillion.com"
PAT_HEADER = "Git-Provider-Access-Token"
#: Refresh this long before the token's own expiry (capped at a tenth of its lifetime).
TOKEN_REFRESH_MARGIN = 120.0
DEFAULT_TOKEN_TTL = 1800.0
PAGE_SIZE = 100
MAX_PAGES = 200

WAREHOUSES = ("SNOWFLAKE", "REDSHIFT")
DEPLOYMENT_TYPES = ("HYBRID", "FULL_SAAS")
ACCESS_LEVELS = ("default", "admin", "runner", "readOnly", "noAccess")
#: The only warehouse / authentication pairs the provisioning API supports.
AUTH_TYPE = {"SNOWFLAKE": "KEY_PAIR", "REDSHIFT": "PASSWORD"}
_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")

#: API field names (last path segment of a violation) in the words a person uses.
FIELD_WORDS = {
    "name": "name",
    "description": "description",
    "warehouse": "warehouse",
    "agentDeploymentType": "deployment type",
    "platformConnectionType": "connection type",
    "authProvider": "warehouse of the connection",
    "authType": "authentication type",
    "defaultAgentId": "default agent id",
    "defaultUserAccessLevel": "default access level",
    "defaultConnections": "default connection",
    "connectionOverrides": "connection details",
    "connectionName": "connection name",
    "privateKey": "private key",
    "passphrase": "private key passphrase",
    "password": "password",
    "username": "username",
    "account": "Snowflake account",
    "url": "Redshift endpoint",
    "provider": "Git provider",
    "repositoryName": "repository name",
    "providerParameters": "Git provider parameters",
    PAT_HEADER: "GitHub personal access token",
    "projectId": "project id",
    "page": "page",
    "size": "page size",
}


def canonical(value: str, allowed: tuple[str, ...], what: str) -> str:
    """The allowed spelling of `value`, matched case-insensitively (`-` counts as `_`)."""
    folded = value.strip().casefold().replace("-", "_")
    for option in allowed:
        if option.casefold() == folded:
            return option
    raise UsageError(f"`{value}` is not a {what}.", f"Use one of: {', '.join(a.lower() for a in allowed)}.")


def is_uuid(value: str) -> bool:
    return bool(_UUID.match(value.strip().lower()))


class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)


class MatillionProject(_Model):
    id: str
    name: str
    description: str | None = None
    warehouse: str = ""
    agent_deployment_type: str = Field(default="", alias="agentDeploymentType")
    created_at: str = Field(default="", alias="createdAt")

    @property
    def state(self) -> str:
        """DPC projects have no lifecycle state; kept for the common listing shape."""
        return ""


class DataPlatformConnection(_Model):
    name: str
    id: str = ""
    platform_connection_type: str = Field(default="", alias="platformConnectionType")
    auth_provider: str = Field(default="", alias="authProvider")
    auth_type: str = Field(default="", alias="authType")


class MatillionEnvironment(_Model):
    name: str
    description: str | None = None
    default_agent_id: str = Field(default="", alias="defaultAgentId")
    default_user_access_level: str = Field(default="", alias="defaultUserAccessLevel")


class MatillionRepository(_Model):
    repository_name: str = Field(default="", alias="repositoryName")
    provider: str = ""


@dataclass
class ConnectionOverride:
    """An environment's details for one data-platform connection: plain properties plus secrets."""

    connection: str
    properties: dict[str, str] = field(default_factory=dict)
    secrets: dict[str, SecretStr] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        props: dict[str, Any] = {k: {"value": v} for k, v in self.properties.items() if v not in (None, "")}
        for key, secret in self.secrets.items():
            props[key] = {"value": secret.get_secret_value()}
        return {"connectionName": self.connection, "connectionProperties": props}


def snowflake_override(
    connection: str, *, account: str, username: str, private_key: SecretStr, passphrase: SecretStr | None = None,
    role: str = "", warehouse: str = "", database: str = "", schema: str = "",
) -> ConnectionOverride:
    secrets = {"privateKey": private_key}
    if passphrase is not None and passphrase.get_secret_value():
        secrets["passphrase"] = passphrase
    return ConnectionOverride(connection, {
        "account": account, "username": username, "defaultRole": role, "defaultWarehouse": warehouse,
        "defaultDatabase": database, "defaultSchema": schema,
    }, secrets)


def redshift_override(
    connection: str, *, endpoint: str, username: str, password: SecretStr, port: int = 5439,
    database: str = "", schema: str = "", use_ssl: bool = True,
) -> ConnectionOverride:
    return ConnectionOverride(connection, {
        "url": endpoint, "username": username, "port": str(port), "defaultDatabase": database,
        "defaultSchema": schema, "useSsl": "true" if use_ssl else "false",
    }, {"password": password})


def _friendly(violation: str) -> str:
    """`connectionOverrides[0].connectionProperties.privateKey: must not be blank` -> readable text."""
    where, sep, message = str(violation).partition(":")
    if not sep:
        return violation.strip()
    last = re.split(r"[.\[\]]", where.strip())
    key = next((part for part in reversed(last) if part and not part.isdigit()), where.strip())
    return f"{FIELD_WORDS.get(key, key)} {message.strip()}"


def _problem(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


class MatillionErrors:
    """Turns problem+json (API) and OAuth error bodies (token endpoint) into `BackendError`s."""

    def __init__(self, target: Target, token_url: str) -> None:
        self.target = target
        self.token_path = urlsplit(token_url).path

    def __call__(self, response: httpx.Response) -> BackendError:
        if response.request is not None and response.request.url.path == self.token_path:
            return self.token_error(response)
        body = _problem(response)
        status = response.status_code
        detail = str(body.get("detail") or body.get("title") or body_text(response) or f"HTTP {status}")
        violations = [_friendly(v) for v in body.get("violations") or [] if str(v).strip()]
        code = str(body.get("type") or "")
        name = self.target.name
        if status in (400, 422):
            reasons = "; ".join(violations[:8]) if violations else detail.rstrip(".")
            return BackendError(f"Matillion refused the request: {reasons}.",
                                "Correct the values named above and try again.", code=code)
        if status == 401:
            return BackendError(f"Matillion did not accept projectops' API token for `{name}`.",
                                "An admin should check the target's client id and secret.", code=code)
        if status == 403:
            return BackendError(f"The Matillion API credentials of `{name}` may not do this: {detail}",
                                "Provisioning needs API credentials created by a Super Admin.", code=code)
        if status == 404:
            return NotFoundError(f"Matillion could not find that: {detail}", code=code)
        if status == 409:
            return ConflictError(f"Matillion refused: {detail}", "Pick another name, or look at what already exists.",
                                 code=code, reason=Reason.EXISTS)
        if status == 429:
            return BackendError("Matillion is rate limiting projectops.", code=code)
        if status >= 500:
            return BackendError(f"Matillion had an internal error ({status}): {detail}", code=code)
        return BackendError(f"Matillion answered {status}: {detail}", code=code)

    def token_error(self, response: httpx.Response) -> BackendError:
        body = _problem(response)
        reason = str(body.get("error_description") or body.get("error") or body_text(response) or "")
        name = self.target.name
        if response.status_code in (400, 401):
            return BackendError(
                f"Matillion did not accept the client id and secret of `{name}` ({reason or response.status_code}).",
                "An admin should check the target's credentials: one client id/secret pair per account, "
                "created by a Super Admin.",
            )
        if response.status_code == 403:
            return BackendError(f"Matillion refused to issue a token for `{name}`: {reason}.",
                                f"The audience must be {AUDIENCE}; check the target's `token_url`.")
        return BackendError(f"Matillion's sign-in service answered {response.status_code}: "
                            f"{reason or response.reason_phrase or 'no detail'}.")


class MatillionClient:
    """Async client for one Matillion DPC account (a `Target` of kind `matillion`)."""

    def __init__(
        self,
        target: Target,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.target = target
        self.token_url = str(target.options.get("token_url") or DEFAULT_TOKEN_URL)
        self.audience = str(target.options.get("audience") or AUDIENCE)
        self._client_id = target.secret("client_id")
        self._client_secret = target.secret("client_secret")
        register_secret(self._client_secret)
        self._clock = clock
        self._token: str | None = None
        self._expires_at = 0.0
        self._token_lock = asyncio.Lock()
        self.token_fetches = 0
        self.http = HttpBackend(
            BACKEND,
            target.url.rstrip("/") + "/",
            parse_error=MatillionErrors(target, self.token_url),
            headers={"Accept": "application/json, application/problem+json"},
            timeout=target.timeout_seconds,
            transport=transport,
        )

    # ------------------------------------------------------------------ token
    def _token_fresh(self) -> bool:
        return self._token is not None and self._clock() < self._expires_at

    async def access_token(self, *, stale: str | None = None) -> str:
        """A valid bearer token; `stale` is one the API just refused, so it is replaced."""
        if self._token_fresh() and self._token != stale:
            return self._token  # type: ignore[return-value]
        async with self._token_lock:
            if self._token_fresh() and self._token != stale:
                return self._token  # type: ignore[return-value]
            return await self._fetch_token()

    async def _fetch_token(self) -> str:
        if not self._client_id or not self._client_secret:
            raise BackendError(
                f"The target `{self.target.name}` has no Matillion client id and secret.",
                "An admin adds `client_id` and `client_secret` credentials to its config.",
                backend=BACKEND,
            )
        response = await self.http.request("POST", self.token_url, changes=False, data={
            "grant_type": "client_credentials",
            "client_id": self._client_id,
            "client_secret": self._client_secret,
            "audience": self.audience,
        })
        try:
            body = response.json()
            token = str(body["access_token"])
            ttl = float(body.get("expires_in") or DEFAULT_TOKEN_TTL)
        except (ValueError, KeyError, TypeError):
            raise BackendError("Matillion's sign-in service sent an answer projectops cannot read.",
                               "Check the target's `token_url`.", backend=BACKEND) from None
        register_secret(token)
        self.token_fetches += 1
        self._token = token
        self._expires_at = self._clock() + ttl - min(TOKEN_REFRESH_MARGIN, ttl / 10)
        return token

    async def _call(self, method: str, path: str, *, headers: dict[str, str] | None = None,
                    **kwargs: Any) -> httpx.Response:
        """An API call with the bearer token; a 401 gets one retry with a new token."""
        token = await self.access_token()
        try:
            return await self.http.request(method, path, headers={**(headers or {}),
                                                                  "Authorization": f"Bearer {token}"}, **kwargs)
        except BackendError as exc:
            if exc.status != 401:
                raise
        token = await self.access_token(stale=token)
        return await self.http.request(method, path, headers={**(headers or {}),
                                                              "Authorization": f"Bearer {token}"}, **kwargs)

    # ------------------------------------------------------------------ reads
    async def _paged(self, path: str) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        for page in range(MAX_PAGES):
            body = (await self._call("GET", path, params={"page": page, "size": PAGE_SIZE})).json()
            if isinstance(body, list):
                return items + body
            chunk = body.get("results") or body.get("content") or body.get("items") or []
            items.extend(chunk)
            total = body.get("total", body.get("totalElements"))
            if not chunk or len(chunk) < PAGE_SIZE or (total is not None and len(items) >= int(total)):
                break
        return items

    async def list_projects(self) -> list[MatillionProject]:
        return [MatillionProject.model_validate(p) for p in await self._paged("v1/projects")]

    async def get_project(self, project_id: str) -> MatillionProject:
        try:
            response = await self._call("GET", f"v1/projects/{_project_path(project_id)}")
        except NotFoundError as exc:
            exc.resource, exc.name = "project", project_id
            raise
        return MatillionProject.model_validate(response.json())

    async def find_project(self, ref: str) -> MatillionProject:
        """A project by id or by name (names are matched case-insensitively)."""
        ref = ref.strip()
        if is_uuid(ref):
            return await self.get_project(ref.lower())
        folded = ref.casefold()
        projects = await self.list_projects()
        for project in projects:
            if project.name.casefold() == folded:
                return project
        raise NotFoundError(f"There is no Matillion project named `{ref}` on `{self.target.name}`.",
                            backend=BACKEND, resource="project", name=ref, candidates=[p.name for p in projects])

    async def list_connections(self, project_id: str) -> list[DataPlatformConnection]:
        items = await self._paged(f"v1/projects/{_project_path(project_id)}/data-platform-connections")
        return [DataPlatformConnection.model_validate(c) for c in items]

    async def list_environments(self, project_id: str) -> list[MatillionEnvironment]:
        items = await self._paged(f"v1/projects/{_project_path(project_id)}/environments")
        return [MatillionEnvironment.model_validate(e) for e in items]

    async def list_repositories(self, project_id: str) -> list[MatillionRepository]:
        items = await self._paged(f"v1/projects/{_project_path(project_id)}/repositories")
        return [MatillionRepository.model_validate(r) for r in items]

    # ------------------------------------------------------------------ writes
    async def create_project(self, name: str, warehouse: str, deployment_type: str = "HYBRID",
                             description: str = "") -> str:
        """Create a project; returns its id (a v4 UUID)."""
        body: dict[str, Any] = {
            "name": name,
            "warehouse": canonical(warehouse, WAREHOUSES, "supported warehouse"),
            "agentDeploymentType": canonical(deployment_type, DEPLOYMENT_TYPES, "deployment type"),
        }
        if description:
            body["description"] = description
        response = await self._call("POST", "v1/projects", json=body)
        project_id = (response.json() or {}).get("projectId") or (response.json() or {}).get("id")
        if not project_id:
            raise BackendError("Matillion created the project but did not say its id.", backend=BACKEND,
                               reason=Reason.NO_ID, resource="project", name=name)
        return str(project_id)

    async def delete_project(self, project_id: str) -> None:
        await self._call("DELETE", f"v1/projects/{_project_path(project_id)}")

    async def create_connection(self, project_id: str, name: str, warehouse: str) -> DataPlatformConnection:
        """The project's default data-platform connection (metadata only: credentials go in the environment).

        Snowflake connections use a key pair, Redshift ones a password: the only pairs the API supports.
        """
        provider = canonical(warehouse, WAREHOUSES, "supported warehouse")
        body = {"name": name, "platformConnectionType": "DWH", "authProvider": provider,
                "authType": AUTH_TYPE[provider]}
        response = await self._call("POST", f"v1/projects/{_project_path(project_id)}/data-platform-connections",
                                    json=body)
        data = response.json() if response.content else {}
        return DataPlatformConnection.model_validate({**body, **(data if isinstance(data, dict) else {})})

    async def create_environment(
        self, project_id: str, *, name: str, default_agent_id: str, warehouse: str,
        override: ConnectionOverride, access_level: str = "default", description: str = "",
    ) -> MatillionEnvironment:
        """An environment whose default connection is `override.connection`, with its credentials."""
        for secret in override.secrets.values():
            register_secret(secret)
        provider = canonical(warehouse, WAREHOUSES, "supported warehouse")
        body: dict[str, Any] = {
            "name": name,
            "defaultAgentId": default_agent_id,
            "defaultUserAccessLevel": canonical(access_level, ACCESS_LEVELS, "default access level"),
            "defaultConnections": {"DWH": {provider.lower(): override.connection}},
            "connectionOverrides": [override.to_json()],
        }
        if description:
            body["description"] = description
        response = await self._call("POST", f"v1/projects/{_project_path(project_id)}/environments", json=body)
        data = response.json() if response.content else {}
        public = {k: v for k, v in body.items() if k != "connectionOverrides"}
        return MatillionEnvironment.model_validate({**public, **(data if isinstance(data, dict) else {})})

    async def associate_repository(
        self, project_id: str, repository_name: str, access_token: SecretStr, *, provider: str = "github",
        provider_parameters: dict[str, str] | None = None,
    ) -> MatillionRepository:
        """Associate a Git repository (GitHub); the PAT travels only in the `Git-Provider-Access-Token` header."""
        register_secret(access_token)
        if provider.strip().lower() != "github":
            raise UsageError("Only GitHub repositories can be associated through Matillion's API.")
        body: dict[str, Any] = {"provider": "github", "repositoryName": repository_name}
        if provider_parameters:
            body["providerParameters"] = provider_parameters
        response = await self._call(
            "POST", f"v1/projects/{_project_path(project_id)}/repositories", json=body,
            headers={PAT_HEADER: access_token.get_secret_value()},
        )
        data = response.json() if response.content else {}
        return MatillionRepository.model_validate({**body, **(data if isinstance(data, dict) else {})})

    # ------------------------------------------------------------------ protocol
    async def ping(self) -> str:
        projects = await self.list_projects()
        return f"{len(projects)} project" + ("" if len(projects) == 1 else "s")

    async def aclose(self) -> None:
        await self.http.aclose()


def _project_path(project_id: str) -> str:
    if not project_id or not project_id.strip():
        raise UsageError("Name the Matillion project.")
    return quote(project_id.strip(), safe="")
