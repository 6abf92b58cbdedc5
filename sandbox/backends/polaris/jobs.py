"""Jobs v1 under `/v1/projects/{projectId}/jobs`: list with filters and offset paging, create, show, cancel,
status, logs, metrics, progress and streaming offset reset."""

from __future__ import annotations

import re
import uuid
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from .common import (
    check_choices,
    get_bool,
    get_obj,
    get_str,
    location,
    query_int,
    query_list,
    read_json,
    store_of,
)
from .errors import bad_request, not_found
from .store import (
    API_USER,
    STREAMING_CONNECTION_TYPES,
    TERMINAL_JOB_STATES,
    Job,
    Project,
    Store,
    Table,
    iso,
)

JOB_TYPES = ("batch", "delete_data", "drop_table", "restore_data", "streaming", "sql")
EXECUTION_STATUSES = ("pending", "running", "completed", "idle", "canceled", "failed", "suspended", "unknown")
HEALTH_STATUSES = ("ok", "warn", "error")
DESIRED_STATUSES = ("running", "canceled", "suspended")
SOURCE_TYPES = ("azure", "connection", "s3", "table", "inline", "uploaded")
SORT_COLUMNS = (
    "created_by_user_name",
    "created_date_time",
    "execution_status",
    "last_updated_date_time",
    "source_name",
    "source_type",
    "source_connection_name",
    "source_table_name",
    "target_table_name",
    "type",
)
DELETION_TYPES = ("delete_data", "drop_table")
SQL_TARGET = re.compile(r"\b(?:INSERT|REPLACE)\s+INTO\s+(?:\"((?:[^\"]|\"\")+)\"|([A-Za-z0-9_.\-]+))", re.I)
SOURCE_SUMMARY_KEYS = ("connectionName", "tableName", "data")


def source_summary(source: dict[str, Any]) -> dict[str, Any]:
    summary = {"type": source.get("type")}
    for key in SOURCE_SUMMARY_KEYS:
        if key in source:
            summary[key] = source[key]
    return summary


def job_summary(job: Job) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": job.id,
        "type": job.type,
        "target": {"type": "table", "tableName": job.target_table},
        "executionStatus": job.execution_status,
        "desiredExecutionStatus": job.desired_execution_status,
        "health": job.health,
        "createdBy": job.created_by,
        "lastModifiedBy": job.last_modified_by,
        "createdTimestamp": iso(job.created),
        "lastUpdatedTimestamp": iso(job.last_updated or job.created),
    }
    if job.started is not None:
        body["startedTimestamp"] = iso(job.started)
    if job.completed is not None:
        body["completedTimestamp"] = iso(job.completed)
    if job.source is not None and job.type in ("batch", "streaming"):
        body["source"] = source_summary(job.source)
    return body


def job_json(job: Job) -> dict[str, Any]:
    body = {k: v for k, v in job.spec.items() if k != "desiredExecutionStatus"}
    body.update(job_summary(job))
    if job.source is not None:
        body["source"] = job.source
    body["target"] = {**job.spec.get("target", {}), "type": "table", "tableName": job.target_table}
    body["spec"] = job.spec
    return body


def find_job(project: Project, job_id: str) -> Job:
    job = project.jobs.get(job_id)
    if job is None:
        raise not_found(f"Job {job_id} was not found in project {project.uid}.")
    return job


def _search_text(job: Job) -> str:
    source = job.source or {}
    parts = [
        job.id,
        job.type,
        job.execution_status,
        job.target_table or "",
        job.created_by.get("username", ""),
        str(source.get("connectionName", "")),
        str(source.get("tableName", "")),
        str(job.spec.get("query", "")),
    ]
    return " ".join(parts).lower()


def _sort_key(column: str):
    def key(job: Job) -> Any:
        source = job.source or {}
        return {
            "created_by_user_name": job.created_by.get("username", ""),
            "created_date_time": job.created,
            "execution_status": job.execution_status,
            "last_updated_date_time": job.last_updated or job.created,
            "source_name": source.get("connectionName") or source.get("tableName") or "",
            "source_type": source.get("type", ""),
            "source_connection_name": source.get("connectionName", ""),
            "source_table_name": source.get("tableName", ""),
            "target_table_name": job.target_table or "",
            "type": job.type,
        }[column]

    return key


async def list_jobs(request: Request) -> Response:
    store = store_of(request)
    project = store.project(request.path_params["projectId"])
    types = check_choices(query_list(request, "type"), JOB_TYPES, "type")
    statuses = check_choices(query_list(request, "executionStatus"), EXECUTION_STATUSES, "executionStatus")
    healths = check_choices(query_list(request, "healthStatus"), HEALTH_STATUSES, "healthStatus")
    connections = query_list(request, "connectionName")
    table_name = request.query_params.get("targetTableName")
    if table_name is not None and not 1 <= len(table_name) <= 255:
        raise bad_request(
            "Query parameter targetTableName must be 1 to 255 characters long.", "targetTableName"
        )
    table_id = request.query_params.get("targetTableId")
    search = (request.query_params.get("searchString") or "").lower()
    sort_column = request.query_params.get("sortColumn") or "last_updated_date_time"
    check_choices([sort_column], SORT_COLUMNS, "sortColumn")
    sort_order = (request.query_params.get("sortOrder") or "DESC").upper()
    check_choices([sort_order], ("ASC", "DESC"), "sortOrder")
    limit = query_int(request, "paginationLimit", 100, 1, 1000)
    offset = query_int(request, "paginationOffset", 0, 0)
    table_ids = {t.name: t.id for t in project.tables.values()}

    def keep(job: Job) -> bool:
        source = job.source or {}
        return (
            (not types or job.type in types)
            and (not statuses or job.execution_status in statuses)
            and (not healths or job.health.get("status") in healths)
            and (not connections or source.get("connectionName") in connections)
            and (table_name is None or job.target_table == table_name)
            and (table_id is None or table_ids.get(job.target_table or "") == table_id)
            and (not search or search in _search_text(job))
        )

    matched = [j for j in project.jobs.values() if keep(j)]
    matched.sort(key=lambda j: j.id)
    matched.sort(key=_sort_key(sort_column), reverse=sort_order == "DESC")
    page = matched[offset : offset + limit]
    return JSONResponse(
        {"values": [job_summary(j) for j in page], "moreResultsAvailable": offset + len(page) < len(matched)}
    )


async def create_job(request: Request) -> Response:
    store = store_of(request)
    project = store.project(request.path_params["projectId"])
    body = await read_json(request)
    job_type = get_str(body, "type", choices=JOB_TYPES, default="sql")
    assert job_type is not None
    if project.state not in ("running", "updating"):
        raise bad_request(
            f"Project {project.name} is {project.state}; jobs can only be created while it is running. "
            "Resume the project first."
        )
    spec = {k: v for k, v in body.items() if k != "desiredExecutionStatus"}
    spec["type"] = job_type
    if job_type == "sql":
        target = _sql_target(body)
    else:
        target = _table_target(body)
        spec["target"] = {**body["target"], "type": "table"}
    create_if_missing = bool(get_bool(body, "createTableIfNotExists", default=False))
    if job_type in ("batch", "streaming"):
        _check_source(project, body, job_type)
    if job_type == "restore_data":
        get_str(body, "interval", required=True, min_len=1)
    _check_target_table(store, project, job_type, target, create_if_missing)
    now = store.now()
    job = Job(
        id=str(uuid.uuid4()),
        type=job_type,
        spec=spec,
        target_table=target,
        created=now,
        created_by=dict(API_USER),
        last_updated=now,
    )
    store.add_job(project, job)
    return JSONResponse(
        job_json(job), status_code=201, headers=location(request, f"/v1/projects/{project.uid}/jobs/{job.id}")
    )


def _table_target(body: dict) -> str:
    target = get_obj(body, "target", required=True)
    get_str(target, "type", "target.", required=True, choices=("table",))
    name = get_str(target, "tableName", "target.", required=True, min_len=1, max_len=255)
    assert name is not None
    return name


def _sql_target(body: dict) -> str:
    query = get_str(body, "query", required=True, min_len=1)
    assert query is not None
    match = SQL_TARGET.search(query)
    if match is None:
        raise bad_request(
            "query must be an INSERT INTO or REPLACE INTO statement naming the target table.", "query"
        )
    return (match.group(1) or "").replace('""', '"') or match.group(2)


def _check_source(project: Project, body: dict, job_type: str) -> None:
    source = get_obj(body, "source", required=True)
    kind = get_str(source, "type", "source.", required=True, choices=SOURCE_TYPES)
    if job_type == "streaming" and kind != "connection":
        raise bad_request("A streaming job's source must have type connection.", "source.type")
    if kind in ("connection", "s3", "azure"):
        name = get_str(source, "connectionName", "source.", required=True, min_len=1)
        connection = project.connections.get(name or "")
        if connection is None:
            raise bad_request(f"Connection {name} does not exist in this project.", "source.connectionName")
        if job_type == "streaming" and connection.type not in STREAMING_CONNECTION_TYPES:
            raise bad_request(
                f"Connection {name} is a {connection.type} connection; streaming jobs need one of "
                f"{', '.join(STREAMING_CONNECTION_TYPES)}.",
                "source.connectionName",
            )
    elif kind == "table":
        name = get_str(source, "tableName", "source.", required=True, min_len=1)
        if name not in project.tables:
            raise bad_request(f"Source table {name} does not exist in this project.", "source.tableName")
    elif kind == "inline":
        get_str(source, "data", "source.", required=True)
    elif kind == "uploaded" and not isinstance(source.get("fileList"), list):
        raise bad_request("source.fileList is required for an uploaded source.", "source.fileList")
    mappings = body.get("mappings")
    if mappings is not None and (
        not isinstance(mappings, list)
        or not all(isinstance(m, dict) and isinstance(m.get("columnName"), str) for m in mappings)
        or not all(isinstance(m.get("expression"), str) for m in mappings)
    ):
        raise bad_request("mappings must be a list of {columnName, expression} objects.", "mappings")
    get_str(body, "ingestionMode", choices=("append", "replace"))


def _check_target_table(store: Store, project: Project, job_type: str, name: str, create: bool) -> None:
    table = project.tables.get(name)
    if table is None:
        if job_type in ("batch", "streaming", "sql") and create:
            now = store.now()
            project.tables[name] = Table(
                id=str(uuid.uuid4()),
                name=name,
                type="detail",
                created=now,
                created_by=dict(API_USER),
                modified=now,
            )
            return
        hint = (
            " Set createTableIfNotExists to create it." if job_type in ("batch", "streaming", "sql") else ""
        )
        raise bad_request(f"Table {name} does not exist in this project.{hint}", "target.tableName")
    if table.dropping:
        raise bad_request(f"Table {name} is being dropped.", "target.tableName")
    if job_type == "drop_table":
        streaming = [
            j.id
            for j in store.jobs_for_table(project, name)
            if j.type == "streaming" and j.execution_status in ("pending", "running", "idle")
        ]
        if streaming:
            raise bad_request(
                f"Table {name} has running streaming job(s) {', '.join(streaming)}; "
                "cancel them before dropping it.",
                "target.tableName",
            )


async def get_job(request: Request) -> Response:
    project = store_of(request).project(request.path_params["projectId"])
    return JSONResponse(job_json(find_job(project, request.path_params["jobId"])))


def _apply_desired(store: Store, project: Project, job: Job, desired: str) -> None:
    if job.type in DELETION_TYPES:
        raise bad_request(f"Deletion jobs ({job.type}) can't be updated.", "desiredExecutionStatus")
    status = job.execution_status
    if desired == "canceled":
        if status in TERMINAL_JOB_STATES:
            raise bad_request(
                f"Job {job.id} is already {status}; only pending or running jobs can be canceled."
            )
        store.set_job_status(project, job, "canceled", API_USER)
    elif desired == "suspended":
        if job.type != "streaming":
            raise bad_request("Only streaming jobs can be suspended.", "desiredExecutionStatus")
        if status in TERMINAL_JOB_STATES:
            raise bad_request(f"Job {job.id} is already {status} and can't be suspended.")
        if status != "suspended":
            store.set_job_status(project, job, "suspended", API_USER)
    elif status == "suspended":
        store.set_job_status(project, job, "running", API_USER)
    elif status in TERMINAL_JOB_STATES:
        raise bad_request(f"Job {job.id} is {status} and can't be restarted; create a new job instead.")


async def _desired_from(request: Request) -> str:
    body = await read_json(request)
    desired = get_str(body, "desiredExecutionStatus", required=True, choices=DESIRED_STATUSES)
    assert desired is not None
    return desired


async def update_job(request: Request) -> Response:
    store = store_of(request)
    project = store.project(request.path_params["projectId"])
    job = find_job(project, request.path_params["jobId"])
    _apply_desired(store, project, job, await _desired_from(request))
    return JSONResponse(job_json(job))


async def get_job_status(request: Request) -> Response:
    project = store_of(request).project(request.path_params["projectId"])
    return JSONResponse({"executionStatus": find_job(project, request.path_params["jobId"]).execution_status})


async def update_job_status(request: Request) -> Response:
    store = store_of(request)
    project = store.project(request.path_params["projectId"])
    job = find_job(project, request.path_params["jobId"])
    _apply_desired(store, project, job, await _desired_from(request))
    return JSONResponse({"executionStatus": job.execution_status})


async def job_logs(request: Request) -> Response:
    project = store_of(request).project(request.path_params["projectId"])
    return JSONResponse({"logs": find_job(project, request.path_params["jobId"]).logs})


async def job_metrics(request: Request) -> Response:
    project = store_of(request).project(request.path_params["projectId"])
    job = find_job(project, request.path_params["jobId"])
    totals = job.totals
    if not totals and job.execution_status == "running" and job.type in ("batch", "sql"):
        rows = int(125_000 * job.progress)
        totals = {
            "numRowsProcessed": rows,
            "numRowsPersisted": rows,
            "numBytesProcessed": int(48_000_000 * job.progress),
        }
    keys = (
        "numBytesProcessed",
        "numRowsPersisted",
        "numRowsProcessed",
        "numRowsProcessedWithWarning",
        "numRowsSkippedByError",
        "numRowsSkippedByFilter",
    )
    return JSONResponse({"totals": {k: int(totals.get(k, 0)) for k in keys}})


async def job_progress(request: Request) -> Response:
    project = store_of(request).project(request.path_params["projectId"])
    job = find_job(project, request.path_params["jobId"])
    if job.type == "streaming":
        raise bad_request("Streaming jobs run continuously and have no overall progress.")
    progress = 1.0 if job.execution_status == "completed" else job.progress
    return JSONResponse({"overallProgress": round(progress, 3)})


async def reset_job(request: Request) -> Response:
    store = store_of(request)
    project = store.project(request.path_params["projectId"])
    job = find_job(project, request.path_params["jobId"])
    if job.type != "streaming":
        raise bad_request(f"Only streaming jobs can be reset; job {job.id} is a {job.type} job.")
    if job.execution_status in TERMINAL_JOB_STATES:
        raise bad_request(
            f"Job {job.id} is {job.execution_status}; only an active streaming job can be reset."
        )
    point = job.spec.get("readFromPoint", "latest")
    now = store.now()
    job.last_updated = now
    job.logs.append(
        {
            "timestamp": iso(now),
            "healthStatus": "ok",
            "code": "offset_reset",
            "message": f"Streaming offset reset; ingestion restarts from readFromPoint {point}.",
        }
    )
    return JSONResponse({})


routes = [
    Route("/v1/projects/{projectId}/jobs", list_jobs, methods=["GET"]),
    Route("/v1/projects/{projectId}/jobs", create_job, methods=["POST"]),
    Route("/v1/projects/{projectId}/jobs/{jobId}", get_job, methods=["GET"]),
    Route("/v1/projects/{projectId}/jobs/{jobId}", update_job, methods=["PUT"]),
    Route("/v1/projects/{projectId}/jobs/{jobId}/status", get_job_status, methods=["GET"]),
    Route("/v1/projects/{projectId}/jobs/{jobId}/status", update_job_status, methods=["POST"]),
    Route("/v1/projects/{projectId}/jobs/{jobId}/logs", job_logs, methods=["GET"]),
    Route("/v1/projects/{projectId}/jobs/{jobId}/metrics", job_metrics, methods=["GET"]),
    Route("/v1/projects/{projectId}/jobs/{jobId}/progress", job_progress, methods=["GET"]),
    Route("/v1/projects/{projectId}/jobs/{jobId}/reset", reset_job, methods=["POST"]),
]
