"""Matillion Data Productivity Cloud (Maia) project-provisioning emulator.

Built from the provisioning guide and the facts in `notes/backends.md` section 4 (the official OpenAPI
file was not available), so shapes the docs leave open are marked "unverified" below.

    POST   /oauth/dpc/token                       client credentials (form or JSON, or HTTP Basic)
                                                  -> {"access_token", "token_type": "bearer", "expires_in"}
    GET    /v1/projects                           ?page (0-based) &size (1..100, default 25)
                                                  -> {"results", "page", "size", "total"}  [unverified]
    POST   /v1/projects                           -> 201 {"projectId": uuid4}
    GET    /v1/projects/{projectId}               -> project                               [unverified]
    DELETE /v1/projects/{projectId}               -> 204 (not in the guide)
    GET    /v1/projects/{projectId}/data-platform-connections    paged list               [unverified]
    POST   /v1/projects/{projectId}/data-platform-connections    -> 201 connection with "id"
    GET    /v1/projects/{projectId}/environments                  paged list               [unverified]
    POST   /v1/projects/{projectId}/environments                  -> 201 environment, secrets left out
    GET    /v1/projects/{projectId}/repositories                  paged list (0 or 1)      [unverified]
    POST   /v1/projects/{projectId}/repositories                  -> 201; a second one -> 409

Every `/v1` route needs `Authorization: Bearer <token>` (401 otherwise, also once expired) and is
rate limited per token (429 + Retry-After). Errors are `application/problem+json`:
`{"type", "title", "status", "detail", "instance", "violations": ["field: message", ...]}`.
Check order: 401, 429, 400 (projectId pattern), 400 (body), 404 (project), 400 (references to
connections), 409 (duplicates), injected failure, 201.

Emulator control (no token needed, never faulted or rate limited):

    POST /_admin/reset          {"seed": "demo" | "empty"}  data, failures and config back to start
    GET|POST /_admin/config     {"rate_limit_per_second", "token_ttl_seconds", "client_id",
                                 "client_secret", "audience"}
    GET  /_admin/state          everything stored; secrets only as {"received", "sha256"[:12]}
    POST /_admin/fail           {"step": "projects" | "data-platform-connections" | "environments" |
                                 "repositories", "count": 1, "status": 500, "commit": false}
                                the next `count` valid creates of that step fail (with "commit" the
                                resource is stored anyway, as if the response was lost); DELETE clears
    POST /_admin/expire_tokens  every token issued so far is expired
    POST /_faults ...           see sandbox.backends.faults
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qs

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from sandbox.backends.faults import FaultMiddleware, relative_path
from sandbox.backends.matillion.auth import AUDIENCE, RateLimiter, Tokens
from sandbox.backends.matillion.store import (
    Connection,
    Environment,
    Project,
    Repository,
    Store,
    split_secrets,
)
from sandbox.backends.matillion.validation import UUID_PATTERN, Violations, is_project_id, page_params

WAREHOUSES = ("SNOWFLAKE", "REDSHIFT")
DEPLOYMENT_TYPES = ("HYBRID", "FULL_SAAS")
PLATFORM_CONNECTION_TYPES = ("DWH", "COMPONENT_BASIC", "CLOUD_PLATFORM_CREDENTIALS")
AUTH_PROVIDERS = ("SNOWFLAKE", "REDSHIFT")
AUTH_TYPES = ("KEY_PAIR", "PASSWORD")
SUPPORTED_AUTH = {("SNOWFLAKE", "KEY_PAIR"), ("REDSHIFT", "PASSWORD")}
ACCESS_LEVELS = ("default", "admin", "runner", "readOnly", "noAccess")
PROVIDERS = ("github", "azure-devops")
AZURE_PARAMETERS = ("organization", "repositoryId", "tenantId")
PAT_HEADER = "Git-Provider-Access-Token"
STEPS = {
    "projects": "projects",
    "project": "projects",
    "data-platform-connections": "data-platform-connections",
    "connections": "data-platform-connections",
    "connection": "data-platform-connections",
    "environments": "environments",
    "environment": "environments",
    "repositories": "repositories",
    "repository": "repositories",
}


@dataclass
class Config:
    client_id: str = "demo-client"
    client_secret: str = "demo-secret"
    token_ttl_seconds: int = 1800
    rate_limit_per_second: int = 50
    audience: str = AUDIENCE

    def to_json(self) -> dict[str, Any]:
        shown = asdict(self)
        shown.pop("client_secret")
        return shown


@dataclass
class Failure:
    count: int
    status: int = 500
    commit: bool = False


@dataclass
class MatillionState:
    """Data, configuration, tokens, rate-limit windows and pending injected failures."""

    initial: Config
    seed: str = "demo"
    config: Config = field(init=False)
    store: Store = field(default_factory=Store)
    tokens: Tokens = field(default_factory=Tokens)
    limiter: RateLimiter = field(init=False)
    failures: dict[str, list[Failure]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.reset(self.seed)

    def reset(self, seed: str) -> None:
        """Fresh data and configuration; tokens already issued stay valid."""
        self.store.reset(seed)
        self.seed = seed
        self.config = replace(self.initial)
        self.limiter = RateLimiter(self.config.rate_limit_per_second)
        self.failures.clear()

    def take_failure(self, step: str) -> Failure | None:
        pending = self.failures.get(step) or []
        if not pending:
            return None
        failure = pending[0]
        failure.count -= 1
        if failure.count <= 0:
            pending.pop(0)
        return failure


# --- responses -------------------------------------------------------------------------------------


def problem_body(status: int, detail: str, instance: str = "", violations: list[str] | None = None) -> dict:
    return {
        "type": "about:blank",
        "title": HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
        "instance": instance,
        "violations": list(violations or []),
    }


def problem(
    request: Request,
    status: int,
    detail: str,
    violations: list[str] | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    body = problem_body(status, detail, relative_path(request.scope), violations)
    return JSONResponse(body, status_code=status, headers=headers, media_type="application/problem+json")


def invalid(request: Request, violations: list[str]) -> Response:
    return problem(request, 400, "Request validation failed.", violations)


def paged(request: Request, items: list[dict[str, Any]]) -> Response:
    violations = Violations()
    page, size = page_params(dict(request.query_params), violations)
    if violations:
        return invalid(request, violations)
    chunk = items[page * size : (page + 1) * size]
    return JSONResponse({"results": chunk, "page": page, "size": size, "total": len(items)})


def _state(request: Request) -> MatillionState:
    return request.app.state.matillion


async def _json(request: Request) -> dict[str, Any] | Response:
    raw = await request.body()
    try:
        value = json.loads(raw)
    except ValueError:
        return problem(request, 400, "Failed to read request: the body is not valid JSON.")
    if not isinstance(value, dict):
        return problem(request, 400, "Failed to read request: the body must be a JSON object.")
    return value


def _preflight(request: Request) -> Response | None:
    """401 without a valid token, 429 over the per-token burst limit; None when the call may go on."""
    state = _state(request)
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    token = token.strip() if scheme.lower() == "bearer" else ""
    if reason := state.tokens.problem(token):
        challenge = 'Bearer error="invalid_token"' if token else "Bearer"
        return problem(request, 401, reason, headers={"WWW-Authenticate": challenge})
    if (wait := state.limiter.retry_after(token)) is not None:
        detail = f"Rate limit exceeded: at most {state.limiter.per_second} requests per second."
        return problem(request, 429, detail, headers={"Retry-After": str(wait)})
    return None


def _project_id(request: Request) -> str | Response:
    project_id = request.path_params["projectId"]
    if not is_project_id(project_id):
        return invalid(request, [f'projectId: must match "{UUID_PATTERN}"'])
    return project_id


def _project(request: Request, project_id: str) -> Project | Response:
    project = _state(request).store.projects.get(project_id)
    if project is None:
        return problem(request, 404, f"Project {project_id} was not found.")
    return project


def _checked_project_id(request: Request) -> str | Response:
    """The projectId path parameter once the token and rate limit pass (401, 429, then 400)."""
    if denied := _preflight(request):
        return denied
    return _project_id(request)


def _requested_project(request: Request) -> Project | Response:
    """The project the path names, or the 401/429/400/404 response that stops the call."""
    project_id = _checked_project_id(request)
    return project_id if isinstance(project_id, Response) else _project(request, project_id)


async def _project_body(request: Request) -> tuple[str, dict[str, Any]] | Response:
    """(projectId, JSON body) for a create under a project, or the 401/429/400 response that stops it."""
    project_id = _checked_project_id(request)
    if isinstance(project_id, Response):
        return project_id
    body = await _json(request)
    return body if isinstance(body, Response) else (project_id, body)


def _created(request: Request, step: str, save: Callable[[], None], body: dict[str, Any]) -> Response:
    """Store and answer 201, unless an injected failure says otherwise."""
    failure = _state(request).take_failure(step)
    if failure is None or failure.commit:
        save()
    if failure is not None:
        return problem(request, failure.status, "An unexpected error occurred while processing the request.")
    return JSONResponse(body, status_code=201)


# --- OAuth ---------------------------------------------------------------------------------------------


def _oauth_error(status: int, error: str, description: str) -> Response:
    return JSONResponse({"error": error, "error_description": description}, status_code=status)


async def token(request: Request) -> Response:
    config = _state(request).config
    raw = await request.body()
    if "json" in request.headers.get("content-type", ""):
        try:
            params = {k: str(v) for k, v in json.loads(raw or b"{}").items()}
        except (ValueError, AttributeError):
            return _oauth_error(400, "invalid_request", "The request body is not valid JSON.")
    else:
        params = {k: v[-1] for k, v in parse_qs(raw.decode(errors="replace")).items()}
    scheme, _, encoded = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "basic" and "client_id" not in params:
        try:
            client_id, _, client_secret = base64.b64decode(encoded).decode().partition(":")
            params |= {"client_id": client_id, "client_secret": client_secret}
        except (binascii.Error, UnicodeDecodeError):
            pass
    grant_type = params.get("grant_type", "")
    if grant_type != "client_credentials":
        return _oauth_error(400, "unsupported_grant_type", f"Unsupported grant type: {grant_type or '(none)'}")
    if params.get("client_id") != config.client_id or params.get("client_secret") != config.client_secret:
        return _oauth_error(401, "access_denied", "Unauthorized")
    audience = params.get("audience")
    if not audience:
        return _oauth_error(403, "access_denied", "No audience parameter was provided.")
    if audience != config.audience:
        return _oauth_error(403, "access_denied", f"Service not enabled within domain: {audience}")
    access_token = _state(request).tokens.issue(config.client_id, audience, config.token_ttl_seconds)
    return JSONResponse({"access_token": access_token, "token_type": "bearer", "expires_in": config.token_ttl_seconds})


# --- projects ------------------------------------------------------------------------------------------


async def list_projects(request: Request) -> Response:
    if denied := _preflight(request):
        return denied
    return paged(request, [p.to_json() for p in _state(request).store.projects.values()])


async def create_project(request: Request) -> Response:
    if denied := _preflight(request):
        return denied
    body = await _json(request)
    if isinstance(body, Response):
        return body
    v = Violations()
    name = v.text(body, "name", max_len=255)
    description = v.text(body, "description", required=False, min_len=0, blank_ok=True)
    warehouse = v.enum(body, "warehouse", WAREHOUSES)
    deployment = v.enum(body, "agentDeploymentType", DEPLOYMENT_TYPES)
    if v or name is None or warehouse is None or deployment is None:
        return invalid(request, v)
    store = _state(request).store
    if store.by_name(name):
        return problem(request, 409, f"A project named '{name}' already exists.")
    project = Project(name=name, description=description, warehouse=warehouse, agent_deployment_type=deployment)

    def save() -> None:
        store.projects[project.id] = project

    return _created(request, "projects", save, {"projectId": project.id})


async def get_project(request: Request) -> Response:
    project = _requested_project(request)
    return project if isinstance(project, Response) else JSONResponse(project.to_json())


async def delete_project(request: Request) -> Response:
    project = _requested_project(request)
    if isinstance(project, Response):
        return project
    del _state(request).store.projects[project.id]
    return Response(status_code=204)


# --- data-platform connections -------------------------------------------------------------------------


async def list_connections(request: Request) -> Response:
    return await _list_children(request, lambda p: [c.to_json() for c in p.connections.values()])


async def create_connection(request: Request) -> Response:
    checked = await _project_body(request)
    if isinstance(checked, Response):
        return checked
    project_id, body = checked
    v = Violations()
    name = v.text(body, "name")
    kind = v.enum(body, "platformConnectionType", PLATFORM_CONNECTION_TYPES)
    provider = v.enum(body, "authProvider", AUTH_PROVIDERS)
    auth_type = v.enum(body, "authType", AUTH_TYPES)
    if provider and auth_type and (provider, auth_type) not in SUPPORTED_AUTH:
        v.add("authType", f"{auth_type} is not supported for {provider}; use SNOWFLAKE/KEY_PAIR or REDSHIFT/PASSWORD")
    if v or name is None or kind is None or provider is None or auth_type is None:
        return invalid(request, v)
    project = _project(request, project_id)
    if isinstance(project, Response):
        return project
    if any(existing.casefold() == name.casefold() for existing in project.connections):
        return problem(request, 409, f"A data platform connection named '{name}' already exists in this project.")
    connection = Connection(
        project_id=project.id,
        name=name,
        platform_connection_type=kind,
        auth_provider=provider,
        auth_type=auth_type,
        created_by=_state(request).config.client_id,
    )

    def save() -> None:
        project.connections[name] = connection

    return _created(request, "data-platform-connections", save, connection.to_json())


# --- environments --------------------------------------------------------------------------------------


async def list_environments(request: Request) -> Response:
    return await _list_children(request, lambda p: [e.to_json() for e in p.environments.values()])


def _documented_shape(body: dict[str, Any]) -> dict[str, Any]:
    """Accept the API reference's shape too: `defaultConnections` as `{"DWH": {"snowflake": name}}` and
    `connectionOverrides` as `[{"connectionName", "connectionProperties": {key: {"value": v}}}]`."""
    body = dict(body)
    defaults = body.get("defaultConnections")
    if isinstance(defaults, dict):
        names: list[Any] = []
        for value in defaults.values():
            names.extend(value.values() if isinstance(value, dict) else [value])
        body["defaultConnections"] = names
    overrides = body.get("connectionOverrides")
    if isinstance(overrides, list) and all(isinstance(o, dict) and "connectionName" in o for o in overrides):
        keyed: dict[str, Any] = {}
        for override in overrides:
            props = override.get("connectionProperties")
            if isinstance(props, dict):
                props = {k: v["value"] if isinstance(v, dict) and "value" in v else v for k, v in props.items()}
            rest = {k: v for k, v in override.items() if k not in ("connectionName", "connectionProperties")}
            keyed[str(override["connectionName"])] = {**rest, "connectionProperties": props or {}}
        body["connectionOverrides"] = keyed
    return body


def _override_checks(v: Violations, overrides: dict[str, Any]) -> None:
    for conn, override in overrides.items():
        if not isinstance(override, dict):
            v.add(f"connectionOverrides.{conn}", "must be an object")
        elif not isinstance(override.get("connectionProperties", {}), dict):
            v.add(f"connectionOverrides.{conn}.connectionProperties", "must be an object")


def _reference_checks(v: Violations, project: Project, defaults: list[str], overrides: dict[str, Any]) -> None:
    """Named connections must exist; on Hybrid projects an override must carry its credential."""
    for conn in defaults:
        if conn not in project.connections:
            v.add("defaultConnections", f"no data platform connection named '{conn}' in this project")
    for conn, override in overrides.items():
        connection = project.connections.get(conn)
        if connection is None:
            v.add("connectionOverrides", f"no data platform connection named '{conn}' in this project")
            continue
        if project.agent_deployment_type != "HYBRID":
            continue
        secret = "privateKey" if connection.auth_type == "KEY_PAIR" else "password"
        value = (override.get("connectionProperties") or {}).get(secret)
        if not (isinstance(value, str) and value.strip()):
            v.add(f"connectionOverrides.{conn}.connectionProperties.{secret}", "must not be blank")


async def create_environment(request: Request) -> Response:
    checked = await _project_body(request)
    if isinstance(checked, Response):
        return checked
    project_id, body = checked
    body = _documented_shape(body)
    v = Violations()
    name = v.text(body, "name", max_len=255)
    description = v.text(body, "description", required=False, min_len=0, blank_ok=True)
    agent_id = v.uuid_value(body, "defaultAgentId")
    access = v.enum(body, "defaultUserAccessLevel", ACCESS_LEVELS)
    defaults = v.names(body, "defaultConnections")
    overrides = v.mapping(body, "connectionOverrides") or {}
    _override_checks(v, overrides)
    if v or name is None or agent_id is None or access is None or defaults is None:
        return invalid(request, v)
    project = _project(request, project_id)
    if isinstance(project, Response):
        return project
    _reference_checks(v, project, defaults, overrides)
    if v:
        return invalid(request, v)
    if any(existing.casefold() == name.casefold() for existing in project.environments):
        return problem(request, 409, f"An environment named '{name}' already exists in this project.")
    public: dict[str, Any] = {}
    secrets: dict[str, dict[str, str]] = {}
    for conn, override in overrides.items():
        public[conn], secrets[conn] = split_secrets(override)
    environment = Environment(
        project_id=project.id,
        name=name,
        description=description,
        default_agent_id=agent_id,
        default_user_access_level=access,
        default_connections=defaults,
        connection_overrides=public,
        secrets={conn: found for conn, found in secrets.items() if found},
    )

    def save() -> None:
        project.environments[name] = environment

    return _created(request, "environments", save, environment.to_json())


# --- repositories --------------------------------------------------------------------------------------


async def list_repositories(request: Request) -> Response:
    return await _list_children(request, lambda p: [p.repository.to_json()] if p.repository else [])


async def create_repository(request: Request) -> Response:
    checked = await _project_body(request)
    if isinstance(checked, Response):
        return checked
    project_id, body = checked
    v = Violations()
    provider = v.enum(body, "provider", PROVIDERS)
    repository_name = v.text(body, "repositoryName", max_len=255)
    parameters = v.mapping(body, "providerParameters") or {}
    access_token = request.headers.get(PAT_HEADER, "").strip() or None
    if provider == "github" and access_token is None:
        v.add(PAT_HEADER, "header is required for provider github")
    if provider == "azure-devops":
        for key in AZURE_PARAMETERS:
            if not (isinstance(parameters.get(key), str) and parameters[key].strip()):
                v.add(f"providerParameters.{key}", "must not be blank")
    if v or provider is None or repository_name is None:
        return invalid(request, v)
    project = _project(request, project_id)
    if isinstance(project, Response):
        return project
    if project.repository is not None:
        return problem(request, 409, f"A repository is already associated with project {project.id}.")
    public_parameters, _ = split_secrets(parameters)
    repository = Repository(
        project_id=project.id,
        provider=provider,
        repository_name=repository_name,
        provider_parameters=public_parameters,
        access_token=access_token,
    )

    def save() -> None:
        project.repository = repository

    return _created(request, "repositories", save, repository.to_json())


async def _list_children(request: Request, items: Callable[[Project], list[dict[str, Any]]]) -> Response:
    project = _requested_project(request)
    return project if isinstance(project, Response) else paged(request, items(project))


# --- emulator control ----------------------------------------------------------------------------------


async def _admin_body(request: Request) -> dict[str, Any]:
    raw = await request.body()
    value = json.loads(raw) if raw.strip() else {}
    if not isinstance(value, dict):
        raise ValueError("expected a JSON object")
    return value


def _admin_error(exc: Exception) -> Response:
    return JSONResponse({"error": str(exc)}, status_code=400)


async def admin_reset(request: Request) -> Response:
    state = _state(request)
    try:
        state.reset(str((await _admin_body(request)).get("seed", state.seed)))
    except ValueError as exc:
        return _admin_error(exc)
    return JSONResponse({"seed": state.seed, "projects": len(state.store.projects)})


async def admin_config(request: Request) -> Response:
    state = _state(request)
    if request.method == "POST":
        try:
            spec = await _admin_body(request)
            for key in ("rate_limit_per_second", "token_ttl_seconds"):
                if key in spec:
                    setattr(state.config, key, int(spec[key]))
            for key in ("client_id", "client_secret", "audience"):
                if key in spec:
                    setattr(state.config, key, str(spec[key]))
        except (ValueError, TypeError) as exc:
            return _admin_error(exc)
        state.limiter.per_second = state.config.rate_limit_per_second
    return JSONResponse(state.config.to_json())


async def admin_state(request: Request) -> Response:
    state = _state(request)
    return JSONResponse(
        {
            "seed": state.seed,
            "config": state.config.to_json(),
            "projects": [p.state_json() for p in state.store.projects.values()],
            "pending_failures": {step: [asdict(f) for f in fs] for step, fs in state.failures.items() if fs},
        }
    )


async def admin_fail(request: Request) -> Response:
    state = _state(request)
    if request.method == "DELETE":
        state.failures.clear()
        return JSONResponse({"pending_failures": {}})
    try:
        spec = await _admin_body(request)
        step = STEPS[str(spec.get("step"))]
        failure = Failure(
            count=int(spec.get("count", 1)),
            status=int(spec.get("status", 500)),
            commit=bool(spec.get("commit", False)),
        )
    except KeyError:
        return _admin_error(ValueError(f"step must be one of {sorted(set(STEPS.values()))}"))
    except (ValueError, TypeError) as exc:
        return _admin_error(exc)
    state.failures.setdefault(step, []).append(failure)
    return JSONResponse({"pending_failures": {s: [asdict(f) for f in fs] for s, fs in state.failures.items()}})


async def admin_expire_tokens(request: Request) -> Response:
    return JSONResponse({"expired": _state(request).tokens.expire_all()})


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    return problem(request, exc.status_code, str(exc.detail), headers=dict(exc.headers or {}))


def create_app(
    seed: str = "demo",
    *,
    client_id: str = "demo-client",
    client_secret: str = "demo-secret",
    token_ttl_seconds: int = 1800,
    rate_limit_per_second: int = 50,
    audience: str = AUDIENCE,
) -> FaultMiddleware:
    """The Matillion DPC emulator as an ASGI app (wrapped in FaultMiddleware); mount it anywhere."""
    config = Config(client_id, client_secret, token_ttl_seconds, rate_limit_per_second, audience)
    state = MatillionState(initial=config, seed=seed)
    project = "/v1/projects/{projectId}"
    app = Starlette(
        routes=[
            Route("/oauth/dpc/token", token, methods=["POST"]),
            Route("/v1/projects", list_projects, methods=["GET"]),
            Route("/v1/projects", create_project, methods=["POST"]),
            Route(project, get_project, methods=["GET"]),
            Route(project, delete_project, methods=["DELETE"]),
            Route(f"{project}/data-platform-connections", list_connections, methods=["GET"]),
            Route(f"{project}/data-platform-connections", create_connection, methods=["POST"]),
            Route(f"{project}/environments", list_environments, methods=["GET"]),
            Route(f"{project}/environments", create_environment, methods=["POST"]),
            Route(f"{project}/repositories", list_repositories, methods=["GET"]),
            Route(f"{project}/repositories", create_repository, methods=["POST"]),
            Route("/_admin/reset", admin_reset, methods=["POST"]),
            Route("/_admin/config", admin_config, methods=["GET", "POST"]),
            Route("/_admin/state", admin_state, methods=["GET"]),
            Route("/_admin/fail", admin_fail, methods=["POST", "DELETE"]),
            Route("/_admin/expire_tokens", admin_expire_tokens, methods=["POST"]),
        ],
        exception_handlers={HTTPException: _http_error},
    )
    app.state.matillion = state
    return FaultMiddleware(app, error_body=_fault_body)


def _fault_body(status: int, message: str) -> tuple[bytes, str]:
    return json.dumps(problem_body(status, message)).encode(), "application/problem+json"
