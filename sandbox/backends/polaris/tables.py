"""Tables v1 under `/v1/projects/{projectId}/tables` (list, create, show, update with `version`)."""

from __future__ import annotations

import uuid
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from .common import check_choices, get_obj, get_str, get_str_list, location, query_int, read_json, store_of
from .errors import ApiError, bad_request, conflict, not_found
from .store import API_USER, TERMINAL_JOB_STATES, Project, Table, iso

TABLE_TYPES = ("detail", "aggregate")
GRANULARITIES = (
    "second",
    "minute",
    "five_minute",
    "ten_minute",
    "fifteen_minute",
    "thirty_minute",
    "hour",
    "six_hour",
    "eight_hour",
    "day",
    "week",
    "month",
    "quarter",
    "year",
    "all",
)
SCHEMA_MODES = ("flexible", "strict")
TIME_RESOLUTIONS = (
    "millisecond",
    "second",
    "minute",
    "fifteen_minute",
    "thirty_minute",
    "hour",
    "day",
    "week",
    "month",
    "quarter",
    "year",
    "all",
)
COLUMN_TYPES = (
    "bigint",
    "complex<json>",
    "double",
    "float",
    "geo",
    "HLLSketch",
    "ipAddress",
    "ipPrefix",
    "json",
    "long",
    "longStringPair",
    "doubleArray",
    "floatArray",
    "longArray",
    "stringArray",
    "quantilesDoublesSketch",
    "string",
    "thetaSketch",
    "ingest_timeseries",
    "timestamp",
    "varchar",
    "variance",
)
MEASURE_TYPES = (
    "bigint",
    "double",
    "float",
    "HLLSketch",
    "long",
    "longStringPair",
    "quantilesDoublesSketch",
    "string",
    "thetaSketch",
    "ingest_timeseries",
    "varchar",
    "variance",
)
UNAVAILABLE_STATES = ("pausing", "paused", "stopping", "stopped", "resuming")


def availability(project: Project, table: Table) -> str:
    if table.dropping:
        return "deleting"
    return "unavailable" if project.state in UNAVAILABLE_STATES else "available"


def table_summary(project: Project, table: Table) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": table.id,
        "name": table.name,
        "type": table.type,
        "version": table.version,
        "availability": availability(project, table),
        "createdByUser": table.created_by,
        "createdOnTimestamp": iso(table.created),
        "modifiedByUser": table.modified_by,
        "modifiedOnTimestamp": iso(table.modified or table.created),
        "partitioningGranularity": table.partitioning_granularity,
        "schemaMode": table.schema_mode,
        "segmentCount": table.segment_count,
        "precachedDataSizeBytes": table.total_data_size_bytes,
        "totalDataSizeBytes": table.total_data_size_bytes,
        "totalRows": table.total_rows,
    }
    if table.description is not None:
        body["description"] = table.description
    if table.storage_policy is not None:
        body["storagePolicy"] = table.storage_policy
    return body


def table_json(project: Project, table: Table) -> dict[str, Any]:
    body = table_summary(project, table)
    body.update(
        {
            "clusteringColumns": table.clustering_columns,
            "queryableSchema": queryable_schema(table),
            "schema": table.schema,
            "segmentTotalBytes": table.total_data_size_bytes,
            "segmentCompactedBytes": int(table.total_data_size_bytes * 0.85),
        }
    )
    if table.type == "aggregate":
        body["timeResolution"] = table.time_resolution or "millisecond"
        if table.query_granularity is not None:
            body["queryGranularity"] = table.query_granularity
    return body


def queryable_schema(table: Table) -> list[dict[str, Any]]:
    columns = [{"name": c["name"], "dataType": c["dataType"], "isDiscovered": False} for c in table.schema]
    if not any(c["name"] == "__time" for c in columns):
        columns.insert(0, {"name": "__time", "dataType": "timestamp", "isDiscovered": False})
    columns.extend(
        {"name": c["name"], "dataType": c["dataType"], "isDiscovered": True} for c in table.discovered
    )
    return columns


def validate_schema(raw: Any, table_type: str) -> list[dict[str, Any]]:
    """Columns of a detail (`{name, dataType}`) or aggregate (`{type, name, dataType}`) table."""
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise bad_request("schema must be a list of columns.", "schema")
    columns: list[dict[str, Any]] = []
    seen: set[str] = set()
    for i, col in enumerate(raw):
        where = f"schema[{i}]."
        if not isinstance(col, dict):
            raise bad_request(f"schema[{i}] must be an object.", f"schema[{i}]")
        name = get_str(col, "name", where, required=True, min_len=1)
        assert name is not None
        if name in seen:
            raise bad_request(f"Column {name} appears more than once in the schema.", f"{where}name")
        seen.add(name)
        column: dict[str, Any] = {}
        if table_type == "aggregate":
            kind = get_str(col, "type", where, required=True, choices=("dimension", "measure"))
            column["type"] = kind
            types = MEASURE_TYPES if kind == "measure" else COLUMN_TYPES
        else:
            types = COLUMN_TYPES
        column["name"] = name
        column["dataType"] = get_str(col, "dataType", where, required=True, choices=types)
        if name == "__time" and column["dataType"] != "timestamp":
            raise bad_request("The __time column must have dataType timestamp.", f"{where}dataType")
        columns.append(column)
    return columns


def _clustering(body: dict, schema: list[dict[str, Any]]) -> list[str] | None:
    cols = get_str_list(body, "clusteringColumns")
    if cols is None or not schema:
        return cols
    names = {c["name"]: c for c in schema}
    for col in cols:
        if col not in names:
            raise bad_request(f"Clustering column {col} is not in the table schema.", "clusteringColumns")
        if names[col].get("type") == "measure":
            raise bad_request(
                f"Clustering column {col} is a measure; only dimensions can be used.", "clusteringColumns"
            )
    return cols


def _description(body: dict) -> str | None:
    return get_str(body, "description", max_len=1000)


def _version(body: dict, required: bool) -> int | None:
    value = body.get("version")
    if value is None:
        if required:
            raise bad_request("version is required: send the table's current version.", "version")
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise bad_request("version must be an integer.", "version")
    return value


def table_name_ok(name: str) -> None:
    if "/" in name or name != name.strip() or any(ord(ch) < 32 for ch in name):
        raise bad_request(
            f"Table name '{name}' is not valid: no slashes, control characters or leading/trailing spaces.",
            "name",
        )


def find_table(project: Project, name: str) -> Table:
    table = project.tables.get(name)
    if table is None:
        raise not_found(f"Table {name} was not found in project {project.uid}.")
    return table


async def list_tables(request: Request) -> Response:
    project = store_of(request).project(request.path_params["projectId"])
    granularity = request.query_params.get("partitioningGranularity")
    if granularity:
        check_choices([granularity], GRANULARITIES, "partitioningGranularity")
    segments = query_int(request, "segmentCount", -1, 0) if request.query_params.get("segmentCount") else None
    values = [
        table_summary(project, t)
        for t in project.tables.values()
        if (not granularity or t.partitioning_granularity == granularity)
        and (segments is None or t.segment_count == segments)
    ]
    return JSONResponse({"values": values})


async def create_table(request: Request) -> Response:
    store = store_of(request)
    project = store.project(request.path_params["projectId"])
    body = await read_json(request)
    name = get_str(body, "name", required=True, min_len=1, max_len=255)
    table_type = get_str(body, "type", required=True, choices=TABLE_TYPES)
    assert name is not None and table_type is not None
    table_name_ok(name)
    version = _version(body, required=False)
    if version not in (None, 0):
        raise bad_request(
            "Don't send a version when creating a table; new tables start at version 0.", "version"
        )
    granularity = get_str(body, "partitioningGranularity", choices=GRANULARITIES, default="day")
    if granularity == "week":
        raise bad_request(
            "Partitioning granularity week is deprecated; new tables can't use it.", "partitioningGranularity"
        )
    mode = get_str(body, "schemaMode", choices=SCHEMA_MODES, default="flexible")
    schema = validate_schema(body.get("schema"), table_type)
    clustering = _clustering(body, schema) or []
    description = _description(body)
    policy = get_obj(body, "storagePolicy") or None
    resolution = None
    if table_type == "aggregate":
        resolution = get_str(body, "timeResolution", choices=TIME_RESOLUTIONS, default="millisecond")
    if name in project.tables:
        raise conflict(f"A table named {name} already exists in this project.")
    now = store.now()
    table = Table(
        id=str(uuid.uuid4()),
        name=name,
        type=table_type,
        created=now,
        created_by=dict(API_USER),
        description=description,
        partitioning_granularity=granularity or "day",
        schema_mode=mode or "flexible",
        schema=schema,
        clustering_columns=clustering,
        storage_policy=policy,
        time_resolution=resolution,
        query_granularity=get_obj(body, "queryGranularity") or None,
        modified=now,
    )
    project.tables[name] = table
    return JSONResponse(
        table_json(project, table),
        status_code=201,
        headers=location(request, f"/v1/projects/{project.uid}/tables/{name}"),
    )


async def get_table(request: Request) -> Response:
    project = store_of(request).project(request.path_params["projectId"])
    return JSONResponse(table_json(project, find_table(project, request.path_params["tableName"])))


async def update_table(request: Request) -> Response:
    store = store_of(request)
    project = store.project(request.path_params["projectId"])
    table = find_table(project, request.path_params["tableName"])
    body = await read_json(request)
    name = get_str(body, "name", required=True, min_len=1, max_len=255)
    if name != table.name:
        raise bad_request(
            f"A table's name can't be changed (path says {table.name}, body says {name}).", "name"
        )
    table_type = get_str(body, "type", required=True, choices=TABLE_TYPES)
    if table_type != table.type:
        raise bad_request(f"A table's type can't be changed (table {table.name} is {table.type}).", "type")
    version = _version(body, required=True)
    if version != table.version:
        raise conflict(
            f"Table {table.name} is at version {table.version}, but the request was for version {version}. "
            "Get the table again and retry with its current version."
        )
    if table.dropping:
        raise bad_request(f"Table {table.name} is being dropped and can't be changed.")
    changes: dict[str, Any] = {}
    if "schema" in body:
        schema = validate_schema(body.get("schema"), table.type)
        _check_schema_change(project, table, schema)
        changes["schema"] = schema
    if "partitioningGranularity" in body:
        granularity = get_str(body, "partitioningGranularity", choices=GRANULARITIES)
        if granularity == "week" and table.partitioning_granularity != "week":
            raise bad_request("Partitioning granularity week is deprecated.", "partitioningGranularity")
        changes["partitioning_granularity"] = granularity or table.partitioning_granularity
    if "schemaMode" in body:
        changes["schema_mode"] = get_str(body, "schemaMode", choices=SCHEMA_MODES) or table.schema_mode
    if "clusteringColumns" in body:
        changes["clustering_columns"] = _clustering(body, changes.get("schema", table.schema)) or []
    if "description" in body:
        changes["description"] = _description(body)
    if "storagePolicy" in body:
        changes["storage_policy"] = get_obj(body, "storagePolicy") or None
    if "timeResolution" in body and table.type == "aggregate":
        changes["time_resolution"] = get_str(body, "timeResolution", choices=TIME_RESOLUTIONS)
    if "queryGranularity" in body and table.type == "aggregate":
        changes["query_granularity"] = get_obj(body, "queryGranularity") or None
    for key, value in changes.items():
        setattr(table, key, value)
    table.version += 1
    table.modified = store.now()
    table.modified_by = dict(API_USER)
    return JSONResponse(table_json(project, table))


def _check_schema_change(project: Project, table: Table, schema: list[dict[str, Any]]) -> None:
    """Columns can always be added; changed or removed only while the table is empty and idle."""
    new = {c["name"]: c for c in schema}
    altered = [c["name"] for c in table.schema if new.get(c["name"]) != c]
    if not altered:
        return
    active = [
        j
        for j in project.jobs.values()
        if j.target_table == table.name and j.execution_status not in TERMINAL_JOB_STATES
    ]
    if table.total_rows or active:
        raise ApiError(
            400,
            f"Column(s) {', '.join(altered)} can only be changed or removed while table {table.name} is "
            "empty and has no active ingestion jobs. You can still add columns.",
            "schema",
        )


async def unused_segments(request: Request) -> Response:
    project = store_of(request).project(request.path_params["projectId"])
    find_table(project, request.path_params["tableName"])
    return JSONResponse({"values": []})


routes = [
    Route("/v1/projects/{projectId}/tables", list_tables, methods=["GET"]),
    Route("/v1/projects/{projectId}/tables", create_table, methods=["POST"]),
    Route("/v1/projects/{projectId}/tables/{tableName}", get_table, methods=["GET"]),
    Route("/v1/projects/{projectId}/tables/{tableName}", update_table, methods=["PUT"]),
    Route("/v1/projects/{projectId}/tables/{tableName}/unusedSegments", unused_segments, methods=["GET"]),
]
