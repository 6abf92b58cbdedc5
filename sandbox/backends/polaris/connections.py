"""Connections v1 under `/v1/projects/{projectId}/connections` (list, create, show, patch, delete, test)."""

from __future__ import annotations

import re
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from .common import get_obj, get_str, location, read_json, store_of
from .errors import bad_request, conflict, not_found
from .store import API_USER, TERMINAL_JOB_STATES, Connection, Project, iso, stable_id

NAME_RULE = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
SECRET_TYPES = ("access_key", "aws_iam", "basic", "confluent", "sas_token", "sasl_plain", "sasl_scram")
# type -> (fields the connection shows, fields required on create, secrets required on create)
CONNECTION_TYPES: dict[str, tuple[tuple[str, ...], tuple[str, ...], bool]] = {
    "azure": (("storageAccount", "container", "prefix"), ("storageAccount", "container"), True),
    "confluent": (
        ("bootstrapServers", "topicName", "topicNameIsPattern"),
        ("bootstrapServers", "topicName"),
        True,
    ),
    "confluent_schema_registry": (("urls",), ("urls",), True),
    "kafka": (
        ("bootstrapServers", "clientRack", "ssl", "topicName", "topicNameIsPattern"),
        ("bootstrapServers", "topicName"),
        True,
    ),
    "kinesis": (("awsAssumedRoleArn", "awsEndpoint", "stream"), ("stream",), False),
    "push_streaming": ((), (), False),
    "s3": (("awsAssumedRoleArn", "awsEndpoint", "bucket", "prefix"), ("bucket",), False),
}


def connection_json(project: Project, connection: Connection) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": connection.name,
        "type": connection.type,
        "submittedByUser": connection.created_by,
        "submittedOnTimestamp": iso(connection.created),
        "modifiedByUser": connection.modified_by,
        "modifiedOnTimestamp": iso(connection.modified),
    }
    if connection.description is not None:
        body["description"] = connection.description
    body.update(connection.props)
    if connection.type == "push_streaming":
        body["endpointUrl"] = f"/v1/projects/{project.uid}/events/{connection.name}"
    if connection.secrets_type:
        body["secrets"] = {"type": connection.secrets_type}  # secret values are never returned
    return body


def find_connection(project: Project, name: str) -> Connection:
    connection = project.connections.get(name)
    if connection is None:
        raise not_found(f"Connection {name} was not found in project {project.uid}.")
    return connection


def _props(body: dict, kind: str, creating: bool) -> dict[str, Any]:
    fields, required, _ = CONNECTION_TYPES[kind]
    props: dict[str, Any] = {}
    for key in fields:
        value = body.get(key)
        if value is None:
            if creating and key in required:
                raise bad_request(f"{key} is required for a {kind} connection.", key)
            continue
        if key == "urls":
            if not isinstance(value, list) or not value or not all(isinstance(u, str) for u in value):
                raise bad_request("urls must be a non-empty list of strings.", key)
        elif key == "topicNameIsPattern":
            if not isinstance(value, bool):
                raise bad_request("topicNameIsPattern must be true or false.", key)
        elif key == "ssl":
            ssl = get_obj(body, "ssl")
            value = {
                part: {"type": (ssl.get(part) or {}).get("type", "pem")}
                for part in ("keystore", "truststore")
                if ssl.get(part)
            }
        else:
            get_str(body, key, required=creating and key in required, min_len=1)
        props[key] = value
    return props


def _secrets_type(body: dict, kind: str, creating: bool) -> str | None:
    secrets = body.get("secrets")
    if secrets is None:
        if creating and CONNECTION_TYPES[kind][2]:
            raise bad_request(f"secrets is required for a {kind} connection.", "secrets")
        return None
    if not isinstance(secrets, dict):
        raise bad_request("secrets must be an object.", "secrets")
    return get_str(secrets, "type", "secrets.", required=True, choices=SECRET_TYPES)


async def list_connections(request: Request) -> Response:
    project = store_of(request).project(request.path_params["projectId"])
    return JSONResponse({"values": [connection_json(project, c) for c in project.connections.values()]})


async def create_connection(request: Request) -> Response:
    store = store_of(request)
    project = store.project(request.path_params["projectId"])
    body = await read_json(request)
    name = get_str(body, "name", required=True)
    assert name is not None
    if not NAME_RULE.match(name):
        raise bad_request(
            f"Connection name '{name}' is not valid: use 1 to 64 ASCII letters, numbers, '.', '_' or '-'.",
            "name",
        )
    kind = get_str(body, "type", required=True, choices=CONNECTION_TYPES)
    assert kind is not None
    props = _props(body, kind, creating=True)
    secrets_type = _secrets_type(body, kind, creating=True)
    description = get_str(body, "description")
    if name in project.connections:
        raise conflict(f"A connection named {name} already exists in this project.")
    now = store.now()
    connection = Connection(
        name=name,
        type=kind,
        props=props,
        created=now,
        created_by=dict(API_USER),
        modified=now,
        modified_by=dict(API_USER),
        description=description,
        secrets_type=secrets_type,
    )
    project.connections[name] = connection
    return JSONResponse(
        connection_json(project, connection),
        status_code=201,
        headers=location(request, f"/v1/projects/{project.uid}/connections/{name}"),
    )


async def get_connection(request: Request) -> Response:
    project = store_of(request).project(request.path_params["projectId"])
    return JSONResponse(connection_json(project, find_connection(project, request.path_params["name"])))


async def update_connection(request: Request) -> Response:
    store = store_of(request)
    project = store.project(request.path_params["projectId"])
    connection = find_connection(project, request.path_params["name"])
    body = await read_json(request)
    kind = get_str(body, "type", required=True, choices=CONNECTION_TYPES)
    if kind != connection.type:
        raise bad_request(
            f"Connection {connection.name} is a {connection.type} connection; its type can't change.", "type"
        )
    props = _props(body, connection.type, creating=False)
    secrets_type = _secrets_type(body, connection.type, creating=False)
    connection.props.update(props)
    if secrets_type:
        connection.secrets_type = secrets_type
        connection.test_error = None
    if "description" in body:
        connection.description = get_str(body, "description")
    connection.modified = store.now()
    connection.modified_by = dict(API_USER)
    return JSONResponse(
        connection_json(project, connection),
        headers=location(request, f"/v1/projects/{project.uid}/connections/{connection.name}"),
    )


async def delete_connection(request: Request) -> Response:
    store = store_of(request)
    project = store.project(request.path_params["projectId"])
    connection = find_connection(project, request.path_params["name"])
    users = [
        j.id
        for j in project.jobs.values()
        if (j.source or {}).get("connectionName") == connection.name
        and j.execution_status not in TERMINAL_JOB_STATES
    ]
    if users:
        raise bad_request(
            f"Connection {connection.name} is used by active job(s) {', '.join(users)}; cancel them first."
        )
    del project.connections[connection.name]
    return JSONResponse({})


async def test_connection(request: Request) -> Response:
    project = store_of(request).project(request.path_params["projectId"])
    connection = find_connection(project, request.path_params["name"])
    if connection.test_error:
        raise bad_request(connection.test_error)
    return JSONResponse({})


async def connections_meta(request: Request) -> Response:
    project = store_of(request).project(request.path_params["projectId"])
    return JSONResponse(
        {
            "externalId": stable_id("external-id", project.uid),
            "implyArn": f"arn:aws:iam::012345678901:role/imply-cluster-{project.uid[:8]}",
        }
    )


routes = [
    Route("/v1/projects/{projectId}/connections", list_connections, methods=["GET"]),
    Route("/v1/projects/{projectId}/connections", create_connection, methods=["POST"]),
    Route("/v1/projects/{projectId}/connections/{name}", get_connection, methods=["GET"]),
    Route("/v1/projects/{projectId}/connections/{name}", update_connection, methods=["PATCH"]),
    Route("/v1/projects/{projectId}/connections/{name}", delete_connection, methods=["DELETE"]),
    Route("/v1/projects/{projectId}/connections/{name}/test", test_connection, methods=["POST"]),
    Route("/v1/projects/{projectId}/connectionsMeta", connections_meta, methods=["GET"]),
]
