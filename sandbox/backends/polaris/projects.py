"""Projects v1: `/v1/projects` and `/v1/projects/{projectId}` (list, create, get, merge-patch, delete)."""

from __future__ import annotations

import uuid

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from .common import JSON, MERGE_PATCH, get_bool, get_obj, get_str, read_json, store_of
from .errors import bad_request, conflict
from .store import DESIRED_STATES, PLANS, REGION_LIMIT, REGIONS, Project, Store, iso

NAME_MAX = 128
DEFAULT_REGION = "us-east-1"


def project_json(project: Project) -> dict:
    current = 0 if project.state == "stopped" else project.current_bytes
    return {
        "metadata": {"uid": project.uid, "name": project.name, "createdOnTimestamp": iso(project.created)},
        "spec": {
            "plan": project.plan,
            "desiredState": project.desired_state,
            "deletionProtection": project.deletion_protection,
            "stopProtection": project.stop_protection,
            "region": project.region,
        },
        "status": {
            "maxBytes": project.capacity,
            "currentBytes": current,
            "deepStorageBytes": project.deep_storage_bytes,
            "state": project.state,
            "version": project.version,
        },
    }


def _plan(spec: dict, required: bool) -> str | None:
    plan = get_str(spec, "plan", "spec.", required=required, min_len=1)
    if plan is not None and plan not in PLANS:
        raise bad_request(
            f"spec.plan '{plan}' is not a known plan. Valid plans: {', '.join(PLANS)}.", "spec.plan"
        )
    return plan


async def list_projects(request: Request) -> Response:
    return JSONResponse([project_json(p) for p in store_of(request).list_projects()])


async def create_project(request: Request) -> Response:
    store = store_of(request)
    body = await read_json(request, JSON, wrong_type_status=400)
    metadata = get_obj(body, "metadata", required=True)
    spec = get_obj(body, "spec", required=True)
    name = get_str(metadata, "name", "metadata.", required=True, min_len=1, max_len=NAME_MAX)
    plan = _plan(spec, required=True)
    region = get_str(spec, "region", "spec.", choices=REGIONS, default=DEFAULT_REGION)
    desired = get_str(spec, "desiredState", "spec.", choices=DESIRED_STATES, default="running")
    if desired != "running":
        raise bad_request(
            "A new project always starts running; leave spec.desiredState out.", "spec.desiredState"
        )
    deletion = get_bool(spec, "deletionProtection", "spec.", default=False)
    stop = get_bool(spec, "stopProtection", "spec.", default=False)
    assert name is not None and plan is not None and region is not None
    if store.region_count(region) >= REGION_LIMIT:
        raise bad_request(
            f"Region {region} already has {REGION_LIMIT} projects, the most an organization can have per "
            "region. Delete a project in this region or choose another region.",
            "spec.region",
        )
    now = store.now()
    project = store.add_project(
        Project(
            uid=str(uuid.uuid4()),
            name=name,
            created=now,
            plan=plan,
            region=region,
            deletion_protection=bool(deletion),
            stop_protection=bool(stop),
            state="creating",
            since=now,
        )
    )
    return JSONResponse(project_json(project), status_code=202)


async def get_project(request: Request) -> Response:
    return JSONResponse(project_json(store_of(request).project(request.path_params["projectId"])))


async def update_project(request: Request) -> Response:
    store = store_of(request)
    project = store.project(request.path_params["projectId"])
    body = await read_json(request, MERGE_PATCH, wrong_type_status=400)
    metadata = get_obj(body, "metadata")
    spec = get_obj(body, "spec")
    if project.state in ("deleting", "deleted"):
        raise bad_request(f"Project {project.name} is being deleted and can't be changed.")
    name = get_str(metadata, "name", "metadata.", min_len=1, max_len=NAME_MAX)
    plan = _plan(spec, required=False)
    region = get_str(spec, "region", "spec.", choices=REGIONS)
    if region is not None and region != project.region:
        raise bad_request("A project's region can't be changed after it is created.", "spec.region")
    desired = get_str(spec, "desiredState", "spec.", choices=DESIRED_STATES)
    # merge-patch: a member set to null goes back to its default
    deletion = get_bool(spec, "deletionProtection", "spec.")
    stop = get_bool(spec, "stopProtection", "spec.")
    new_deletion = project.deletion_protection if "deletionProtection" not in spec else bool(deletion)
    new_stop = project.stop_protection if "stopProtection" not in spec else bool(stop)
    if desired is not None:
        _check_desired(project, desired, new_stop)
    if name is not None:
        project.name = name
    project.deletion_protection = new_deletion
    project.stop_protection = new_stop
    if desired is not None and desired != project.desired_state:
        project.desired_state = desired
        _start_state_change(store, project, desired)
    if plan is not None and plan != project.plan:
        project.plan = plan
        project.max_bytes = None
        if project.state == "running":
            store.begin(project, "updating")
    return JSONResponse(project_json(project), status_code=202)


def _check_desired(project: Project, desired: str, stop_protection: bool) -> None:
    if desired in ("paused", "stopped") and desired != project.desired_state:
        if stop_protection:
            raise bad_request(
                f"Project {project.name} has stop protection on, so it can't be {desired}. "
                "Turn off spec.stopProtection first.",
                "spec.desiredState",
            )
        if desired == "paused" and project.desired_state == "stopped":
            raise bad_request(
                f"Project {project.name} is stopped; a stopped project can only be resumed "
                "(desiredState running).",
                "spec.desiredState",
            )


def _start_state_change(store: Store, project: Project, desired: str) -> None:
    if desired == "running":
        store.begin(project, "creating" if project.state == "creating" else "resuming")
    elif desired == "paused":
        store.begin(project, "pausing")
    else:
        store.begin(project, "stopping")


async def delete_project(request: Request) -> Response:
    store = store_of(request)
    project = store.project(request.path_params["projectId"])
    if project.state != "deleting":
        if project.deletion_protection:
            raise conflict(
                f"Project {project.name} has deletion protection on. Set spec.deletionProtection to false "
                "before deleting it."
            )
        others = [p for p in store.list_projects() if p.uid != project.uid and p.state != "deleting"]
        if not others:
            raise conflict("You can't delete the last project in the organization.")
        store.begin(project, "deleting")
    return Response(status_code=202)


routes = [
    Route("/v1/projects", list_projects, methods=["GET"]),
    Route("/v1/projects", create_project, methods=["POST"]),
    Route("/v1/projects/{projectId}", get_project, methods=["GET"]),
    Route("/v1/projects/{projectId}", update_project, methods=["PATCH"]),
    Route("/v1/projects/{projectId}", delete_project, methods=["DELETE"]),
]
