"""Control endpoints under `/_admin` (no auth, never faulted) for tests, the demo and benchmarks.

    POST  /_admin/reset                      {"seed": "demo" | "empty"}  (restores transition_seconds too)
    GET   /_admin/config, POST /_admin/config {"transition_seconds": 0.2}
    GET   /_admin/state                      seed, config and every project's id, name and state
    PATCH /_admin/projects/{ref}             {"currentBytes", "deepStorageBytes", "maxBytes", "state"}
    PATCH /_admin/projects/{ref}/jobs/{id} {"executionStatus": "failed", "health": "error", "code", "message"}
    PATCH /_admin/projects/{ref}/connections/{name}  {"testError": "why the test fails" | null}
    POST  /_admin/bulk  {"projects": 2000, "tables_per_project": 3, "jobs_per_project": 5}

`{ref}` is a project uid or its (unique) name.
"""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from . import seed as seeds
from .common import store_of
from .connections import connection_json, find_connection
from .errors import bad_request, not_found
from .jobs import EXECUTION_STATUSES, HEALTH_STATUSES, find_job, job_json
from .projects import project_json
from .store import Project, Store, iso, log

PROJECT_STATES = (
    "creating",
    "pending",
    "running",
    "pausing",
    "paused",
    "stopping",
    "stopped",
    "deleting",
    "updating",
    "balancing",
    "failed",
    "resuming",
    "unknown",
    "restarting",
)
DEFAULT_CODES = {"warn": "invalid_rows_found", "error": "internal_error"}


async def _body(request: Request) -> dict[str, Any]:
    raw = await request.body()
    try:
        data = json.loads(raw or b"{}")
    except ValueError as exc:
        raise bad_request("The request body is not valid JSON.") from exc
    if not isinstance(data, dict):
        raise bad_request("The request body must be a JSON object.")
    return data


def _find_project(store: Store, ref: str) -> Project:
    if ref in store.projects:
        return store.project(ref)
    named = [p for p in store.list_projects() if p.name == ref]
    if len(named) != 1:
        raise not_found(f"No single project has id or name {ref}.")
    return named[0]


def _int(body: dict, key: str) -> int | None:
    value = body.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise bad_request(f"{key} must be a non-negative number.", key)
    return int(value)


async def reset(request: Request) -> Response:
    store = store_of(request)
    body = await _body(request)
    name = body.get("seed", "demo")
    if name not in seeds.SEEDS:
        raise bad_request(f"seed must be one of {', '.join(seeds.SEEDS)}.", "seed")
    seeds.load(store, name)
    request.app.state.seed = name
    store.config.transition_seconds = request.app.state.default_transition_seconds
    return JSONResponse({"seed": name, "projects": len(store.projects)})


def _config_json(store: Store) -> dict[str, Any]:
    return {"transition_seconds": store.config.transition_seconds}


async def get_config(request: Request) -> Response:
    return JSONResponse(_config_json(store_of(request)))


async def set_config(request: Request) -> Response:
    store = store_of(request)
    body = await _body(request)
    if "transition_seconds" in body:
        value = body["transition_seconds"]
        if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
            raise bad_request("transition_seconds must be a number >= 0.", "transition_seconds")
        store.config.transition_seconds = float(value)
    return JSONResponse(_config_json(store))


async def state(request: Request) -> Response:
    store = store_of(request)
    projects = [
        {"uid": p.uid, "name": p.name, "state": p.state, "tables": len(p.tables), "jobs": len(p.jobs)}
        for p in store.list_projects()
    ]
    return JSONResponse({"seed": request.app.state.seed, "config": _config_json(store), "projects": projects})


async def patch_project(request: Request) -> Response:
    store = store_of(request)
    project = _find_project(store, request.path_params["ref"])
    body = await _body(request)
    current, deep, cap = _int(body, "currentBytes"), _int(body, "deepStorageBytes"), _int(body, "maxBytes")
    forced = body.get("state")
    if forced is not None and forced not in PROJECT_STATES:
        raise bad_request(f"state must be one of {', '.join(PROJECT_STATES)}.", "state")
    if current is not None:
        project.current_bytes = current
    if deep is not None:
        project.deep_storage_bytes = deep
    if cap is not None:
        project.max_bytes = cap
    if forced is not None:
        store.begin(project, forced)
    return JSONResponse(project_json(project))


async def patch_job(request: Request) -> Response:
    store = store_of(request)
    project = _find_project(store, request.path_params["ref"])
    job = find_job(project, request.path_params["jobId"])
    body = await _body(request)
    status = body.get("executionStatus")
    if status is not None and status not in EXECUTION_STATUSES:
        raise bad_request(
            f"executionStatus must be one of {', '.join(EXECUTION_STATUSES)}.", "executionStatus"
        )
    health = body.get("health")
    if isinstance(health, dict):
        health = health.get("status")
    if health is not None and health not in HEALTH_STATUSES:
        raise bad_request(f"health must be one of {', '.join(HEALTH_STATUSES)}.", "health")
    now = store.now()
    job.frozen = True
    job.last_updated = now
    if status is not None:
        store.force_job_status(project, job, status)
    if health is not None:
        code = body.get("code") or DEFAULT_CODES.get(health)
        message = (
            body.get("message")
            or {
                "ok": "Job health is ok.",
                "warn": "The job reported warnings.",
                "error": "The job failed with an internal error.",
            }[health]
        )
        entry = log(job, now, health, code, message)
        job.health = {"status": health}
        if health != "ok":
            job.health.update({"code": code, "log": entry})
            if health == "error":
                job.health["message"] = message
    elif status is not None:
        log(job, now, job.health.get("status", "ok"), f"job_{status}", f"Job is now {status}.")
    return JSONResponse(job_json(job))


async def patch_connection(request: Request) -> Response:
    store = store_of(request)
    project = _find_project(store, request.path_params["ref"])
    connection = find_connection(project, request.path_params["name"])
    body = await _body(request)
    if "testError" in body:
        error = body["testError"]
        if error is not None and not isinstance(error, str):
            raise bad_request("testError must be a string or null.", "testError")
        connection.test_error = error or None
    connection.modified = store.now()
    return JSONResponse(connection_json(project, connection))


async def bulk(request: Request) -> Response:
    store = store_of(request)
    body = await _body(request)
    counts = {k: _int(body, k) for k in ("projects", "tables_per_project", "jobs_per_project")}
    added = seeds.bulk(
        store,
        counts["projects"] or 0,
        counts["tables_per_project"] if counts["tables_per_project"] is not None else 3,
        counts["jobs_per_project"] if counts["jobs_per_project"] is not None else 5,
    )
    return JSONResponse({"added": added, "projects": len(store.projects), "at": iso(store.now())})


routes = [
    Route("/_admin/reset", reset, methods=["POST"]),
    Route("/_admin/config", get_config, methods=["GET"]),
    Route("/_admin/config", set_config, methods=["POST", "PATCH"]),
    Route("/_admin/state", state, methods=["GET"]),
    Route("/_admin/projects/{ref}", patch_project, methods=["PATCH"]),
    Route("/_admin/projects/{ref}/jobs/{jobId}", patch_job, methods=["PATCH"]),
    Route("/_admin/projects/{ref}/connections/{name}", patch_connection, methods=["PATCH"]),
    Route("/_admin/bulk", bulk, methods=["POST"]),
]
