"""Arize Phoenix REST emulator: `/v1/projects` exactly as the real server (v20.26) behaves.

Written from `notes/backends.md` 1d/1e (observed transcripts) and the OpenAPI spec, not from our client:

    GET    /v1/projects                     limit (default 100, > 0), cursor (inclusive GlobalID),
                                            name_contains (case-insensitive); ids descending
    POST   /v1/projects                     200 {"data": project}; duplicate name -> 500 text/plain
    GET    /v1/projects/{identifier}        identifier = GlobalID ("UHJvamVjdDox") or name
    PUT    /v1/projects/{identifier}        only the description changes (names are immutable)
    DELETE /v1/projects/{identifier}        204; `default` -> 403
    GET    /healthz

Hand-raised errors are text/plain; request validation errors are FastAPI-style JSON
`{"detail": [{type, loc, msg, input, ctx?}]}`. Ids behave like SQLite rowids without AUTOINCREMENT:
a new project gets max(id) + 1, so deleting the newest project makes its id come back.

Check order mirrors FastAPI's dependency order: 401 (token), 403 (admin only), 507 (storage full),
422 (query/body validation), then the handler (404, 403 default, 500 duplicate).

Emulator control (never authenticated, never faulted):

    POST /_admin/reset   {"seed": "demo" | "empty"}   fresh data; config back to create_app() values
    POST /_admin/config  {"storage_full": true}       returns the config
    POST /_admin/bulk    {"projects": 500, "prefix": "bulk"}   adds bulk-0001 ... (existing names skipped)
    POST /_faults ...    see sandbox.backends.faults
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from email.message import Message
from typing import Annotated, Any, TypeVar

from pydantic import BaseModel, Field, TypeAdapter, ValidationError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from sandbox.backends.faults import FaultMiddleware

DEFAULT_PROJECT_NAME = "default"
DEFAULT_PROJECT_DESCRIPTION = "Default project"
ADMIN_ONLY = "Only admin or system users can perform this action."
STORAGE_FULL = (
    "Database operations are disabled due to insufficient storage. Please delete old data or increase storage."
)
DEFAULT_UNDELETABLE = "The default project cannot be deleted"
SEEDS = ("demo", "empty")

# Demo seed, after `default` (id 1): ids 2..6 in this order.
DEMO_PROJECTS: tuple[tuple[str, str | None], ...] = (
    ("chatbot-prod", "Production customer-support chatbot traces"),
    ("rag-eval", "Retrieval-augmented generation evaluation runs"),
    ("support-agent", "Tool-calling support agent"),
    ("experiments-2026", "Prompt experiments for the 2026 roadmap"),
    ("summarizer-staging", None),
)


def global_id(project_id: int) -> str:
    """Relay GlobalID of a project: base64("Project:<id>")."""
    return base64.b64encode(f"Project:{project_id}".encode()).decode()


def node_id(value: str, type_name: str | None = None) -> int | None:
    """The integer id inside a GlobalID (decoded like strawberry's `GlobalID.from_id`), else None.

    With `type_name`, a GlobalID of another type is not one either (the server then treats the
    value as a name); without it any type is accepted, as the list cursor does.
    """
    try:
        parts = base64.b64decode(value.encode()).decode().split(":", 1)
        if len(parts) != 2 or (type_name is not None and parts[0] != type_name):
            return None
        return int(parts[1])
    except ValueError:
        return None


@dataclass
class Project:
    id: int
    name: str
    description: str | None

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "description": self.description, "id": global_id(self.id)}


class DuplicateName(Exception):
    """The UNIQUE constraint on projects.name failed."""


@dataclass
class PhoenixState:
    """In-memory projects table plus the emulator's configuration."""

    seed: str = "demo"
    storage_full: bool = False
    admin_token: str | None = None
    member_tokens: frozenset[str] = frozenset()
    projects: dict[int, Project] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._initial_storage_full = self.storage_full
        self.reset(self.seed)

    def reset(self, seed: str) -> None:
        if seed not in SEEDS:
            raise ValueError(f"unknown seed {seed!r}; expected one of {', '.join(SEEDS)}")
        self.seed = seed
        self.storage_full = self._initial_storage_full
        self.projects.clear()
        self.add(DEFAULT_PROJECT_NAME, DEFAULT_PROJECT_DESCRIPTION)
        if seed == "demo":
            for name, description in DEMO_PROJECTS:
                self.add(name, description)

    def add(self, name: str, description: str | None) -> Project:
        if any(p.name == name for p in self.projects.values()):
            raise DuplicateName(name)
        project = Project(id=max(self.projects, default=0) + 1, name=name, description=description)
        self.projects[project.id] = project
        return project

    def find(self, identifier: str) -> Project | str:
        """The project named by a GlobalID or a name, else the real server's 404 text."""
        project_id = node_id(identifier, "Project")
        if project_id is not None:
            return self.projects.get(project_id) or f"Project with ID {identifier} not found"
        for project in self.projects.values():
            if project.name == identifier:
                return project
        return f"Project with name {identifier} not found"


# --- request validation, shaped like FastAPI's RequestValidationError --------------------------


class _CreateBody(BaseModel):
    name: str = Field(min_length=1)
    description: str | None = None


class _UpdateBody(BaseModel):
    description: str | None = None


_LIMIT = TypeAdapter(Annotated[int, Field(gt=0)])
_BOOL = TypeAdapter(bool)
_Undefined = object()
M = TypeVar("M", bound=BaseModel)


def _details(exc: ValidationError, prefix: tuple[str, ...]) -> list[dict[str, Any]]:
    out = []
    for err in exc.errors(include_url=False):
        item: dict[str, Any] = {
            "type": err["type"],
            "loc": [*prefix, *err["loc"]],
            "msg": err["msg"],
            "input": err["input"],
        }
        if "ctx" in err:
            item["ctx"] = err["ctx"]
        out.append(item)
    return out


def _unprocessable(details: list[dict[str, Any]]) -> Response:
    body = json.dumps({"detail": details}, separators=(",", ":"), default=str, ensure_ascii=False)
    return Response(body, status_code=422, media_type="application/json")


def _query(request: Request, name: str, adapter: TypeAdapter, default: Any, errors: list) -> Any:
    raw = request.query_params.get(name)
    if raw is None:
        return default
    try:
        return adapter.validate_python(raw)
    except ValidationError as exc:
        errors.extend(_details(exc, ("query", name)))
        return default


async def _body(request: Request, model: type[M]) -> M | list[dict[str, Any]]:
    """Parse and validate a JSON body the way FastAPI does; a list of error details on failure."""
    raw = await request.body()
    value: Any = None
    if raw:
        content_type = request.headers.get("content-type")
        parsed: Any = _Undefined
        is_json = not content_type
        if content_type:
            message = Message()
            message["content-type"] = content_type
            subtype = message.get_content_subtype()
            is_json = message.get_content_maintype() == "application" and (
                subtype == "json" or subtype.endswith("+json")
            )
        if is_json:
            try:
                parsed = json.loads(raw)
            except json.JSONDecodeError as exc:
                return [
                    {
                        "type": "json_invalid",
                        "loc": ["body", exc.pos],
                        "msg": "JSON decode error",
                        "input": {},
                        "ctx": {"error": exc.msg},
                    }
                ]
        value = raw.decode(errors="replace") if parsed is _Undefined else parsed
    if value is None:
        return [{"type": "missing", "loc": ["body"], "msg": "Field required", "input": None}]
    try:
        return model.model_validate(value, from_attributes=True)
    except ValidationError as exc:
        return _details(exc, ("body",))


# --- auth -----------------------------------------------------------------------------------------


def _state(request: Request) -> PhoenixState:
    return request.app.state.phoenix


def _access_denied(request: Request, admin_only: bool) -> Response | None:
    """401 for a missing/unknown token, 403 for a member on an admin-only route; None when allowed."""
    state = _state(request)
    if not state.admin_token:
        return None
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    token = token.strip() if scheme.lower() == "bearer" else ""
    if token and token == state.admin_token:
        return None
    if token and token in state.member_tokens:
        return PlainTextResponse(ADMIN_ONLY, status_code=403) if admin_only else None
    root = request.scope.get("root_path", "")  # the mount prefix, so the URL points back at us
    metadata = str(request.url.replace(path=f"{root}/.well-known/oauth-protected-resource", query=""))
    challenge = f'Bearer realm="Arize Phoenix", resource_metadata="{metadata}"'
    return PlainTextResponse("Invalid token", status_code=401, headers={"www-authenticate": challenge})


def _guard(request: Request, *, admin_only: bool = False, writes: bool = False) -> Response | None:
    denied = _access_denied(request, admin_only)
    if denied is None and writes and _state(request).storage_full:
        denied = PlainTextResponse(STORAGE_FULL, status_code=507)
    return denied


# --- /v1/projects -------------------------------------------------------------------------------


async def list_projects(request: Request) -> Response:
    if denied := _guard(request):
        return denied
    errors: list[dict[str, Any]] = []
    limit = _query(request, "limit", _LIMIT, 100, errors)
    # Accepted and validated like the real server; the emulator has no experiment projects.
    _query(request, "include_experiment_projects", _BOOL, False, errors)
    _query(request, "include_dataset_evaluator_projects", _BOOL, False, errors)
    if errors:
        return _unprocessable(errors)
    rows = sorted(_state(request).projects.values(), key=lambda p: p.id, reverse=True)
    if name_contains := request.query_params.get("name_contains"):
        needle = name_contains.lower()
        rows = [p for p in rows if needle in p.name.lower()]
    if cursor := request.query_params.get("cursor"):
        cursor_id = node_id(cursor)
        if cursor_id is None:
            return PlainTextResponse(f"Invalid cursor format: {cursor}", status_code=422)
        rows = [p for p in rows if p.id <= cursor_id]
    page = rows[: limit + 1]
    next_cursor = None
    if len(page) == limit + 1:
        next_cursor = global_id(page[-1].id)
        page = page[:-1]
    return JSONResponse({"data": [p.to_json() for p in page], "next_cursor": next_cursor})


async def create_project(request: Request) -> Response:
    if denied := _guard(request, writes=True):
        return denied
    body = await _body(request, _CreateBody)
    if isinstance(body, list):
        return _unprocessable(body)
    try:
        project = _state(request).add(body.name, body.description)
    except DuplicateName:
        return PlainTextResponse("Internal Server Error", status_code=500)
    return JSONResponse({"data": project.to_json()})


async def get_project(request: Request) -> Response:
    if denied := _guard(request):
        return denied
    found = _state(request).find(request.path_params["identifier"])
    if isinstance(found, str):
        return PlainTextResponse(found, status_code=404)
    return JSONResponse({"data": found.to_json()})


async def update_project(request: Request) -> Response:
    if denied := _guard(request, admin_only=True, writes=True):
        return denied
    body = await _body(request, _UpdateBody)
    if isinstance(body, list):
        return _unprocessable(body)
    found = _state(request).find(request.path_params["identifier"])
    if isinstance(found, str):
        return PlainTextResponse(found, status_code=404)
    if body.description is not None:  # null or absent leaves the description as it is
        found.description = body.description
    return JSONResponse({"data": found.to_json()})


async def delete_project(request: Request) -> Response:
    if denied := _guard(request, admin_only=True):
        return denied
    state = _state(request)
    found = state.find(request.path_params["identifier"])
    if isinstance(found, str):
        return PlainTextResponse(found, status_code=404)
    if found.name == DEFAULT_PROJECT_NAME:
        return PlainTextResponse(DEFAULT_UNDELETABLE, status_code=403)
    del state.projects[found.id]
    return Response(status_code=204)


async def healthz(request: Request) -> Response:
    return PlainTextResponse("OK")


# --- emulator control -----------------------------------------------------------------------------


async def _json_object(request: Request) -> dict[str, Any]:
    raw = await request.body()
    value = json.loads(raw) if raw.strip() else {}
    if not isinstance(value, dict):
        raise ValueError("expected a JSON object")
    return value


def _config(state: PhoenixState) -> dict[str, Any]:
    return {
        "seed": state.seed,
        "storage_full": state.storage_full,
        "auth": bool(state.admin_token),
        "projects": len(state.projects),
    }


async def admin_reset(request: Request) -> Response:
    state = _state(request)
    try:
        state.reset(str((await _json_object(request)).get("seed", state.seed)))
    except ValueError as exc:
        return JSONResponse({"error": str(exc)}, status_code=400)
    return JSONResponse(_config(state))


async def admin_config(request: Request) -> Response:
    state = _state(request)
    if request.method == "POST":
        try:
            spec = await _json_object(request)
        except ValueError as exc:
            return JSONResponse({"error": str(exc)}, status_code=400)
        if "storage_full" in spec:
            state.storage_full = bool(spec["storage_full"])
    return JSONResponse(_config(state))


async def admin_bulk(request: Request) -> Response:
    state = _state(request)
    try:
        spec = await _json_object(request)
        count = int(spec.get("projects", 0))
    except (ValueError, TypeError) as exc:
        return JSONResponse({"error": str(exc)}, status_code=400)
    prefix = str(spec.get("prefix", "bulk"))
    width = max(4, len(str(count)))
    created = 0
    for i in range(1, count + 1):
        try:
            state.add(f"{prefix}-{i:0{width}d}", f"Bulk project {i}")
            created += 1
        except DuplicateName:
            continue
    return JSONResponse({"created": created, **_config(state)})


def create_app(
    seed: str = "demo",
    *,
    admin_token: str | None = None,
    member_tokens: Iterable[str] = (),
    storage_full: bool = False,
) -> FaultMiddleware:
    """The Phoenix emulator as an ASGI app (wrapped in FaultMiddleware); mount it anywhere.

    With `admin_token` set, auth is on: the admin token may do everything, `member_tokens` may
    list, get and create, and anything else gets 401. `storage_full` makes POST/PUT return 507.
    """
    state = PhoenixState(
        seed=seed,
        storage_full=storage_full,
        admin_token=admin_token,
        member_tokens=frozenset(member_tokens),
    )
    app = Starlette(
        routes=[
            Route("/v1/projects", list_projects, methods=["GET"]),
            Route("/v1/projects", create_project, methods=["POST"]),
            Route("/v1/projects/{identifier}", get_project, methods=["GET"]),
            Route("/v1/projects/{identifier}", update_project, methods=["PUT"]),
            Route("/v1/projects/{identifier}", delete_project, methods=["DELETE"]),
            Route("/healthz", healthz, methods=["GET"]),
            Route("/_admin/reset", admin_reset, methods=["POST"]),
            Route("/_admin/config", admin_config, methods=["GET", "POST"]),
            Route("/_admin/bulk", admin_bulk, methods=["POST"]),
        ]
    )
    app.state.phoenix = state
    return FaultMiddleware(app, error_body=_fault_body)


def _fault_body(status: int, message: str) -> tuple[bytes, str]:
    """Injected faults look like the real server's plain-text errors."""
    text = "Internal Server Error" if status == 500 else message
    return text.encode(), "text/plain; charset=utf-8"
