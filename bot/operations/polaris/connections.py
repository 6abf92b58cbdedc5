"""Polaris connection operations: list, show, create, test, delete."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from bot.backends.polaris.models import Connection, ConnectionTest, Project
from bot.operations.base import Operation, Preview, Rendered, Risk
from bot.operations.context import OpContext
from bot.operations.outcome import exists, gone
from bot.operations.polaris import render as r
from bot.operations.polaris.common import KIND, ProjectParams, project_of, target_name
from bot.operations.registry import register
from bot.operations.rules import slack_safe_name
from bot.operations.suggest import command_word
from bot.ui import blocks as bk

#: Connection types whose secrets (passwords, keys) would have to be typed into Slack: not offered here.
SECRET_TYPES = ("kafka", "confluent", "confluent_schema_registry", "azure")
#: Properties worth showing, in this order.
SHOWN_PROPERTIES = ("bucket", "prefix", "stream", "bootstrapServers", "topicName", "storageAccount", "container",
                    "awsAssumedRoleArn", "awsEndpoint", "urls", "endpointUrl")


class ConnectionParams(ProjectParams):
    name: str = Field(min_length=1, max_length=64, description="connection name")


# ---------------------------------------------------------------- list
@dataclass
class ConnectionList:
    target: str
    project: Project
    connections: list[Connection]


async def run_list(ctx: OpContext, params: ProjectParams) -> ConnectionList:
    client, project = await project_of(ctx, params.project)
    connections = sorted(await client.list_connections(project.uid), key=lambda c: c.name)
    return ConnectionList(target_name(ctx), project, connections)


def _summary(connection: Connection) -> str:
    props = connection.properties
    detail = next((f"{k} `{props[k]}`" for k in SHOWN_PROPERTIES if props.get(k)), "")
    parts = [connection.type] + ([detail] if detail else [])
    line = f"*{connection.name}*  " + " · ".join(parts)
    if connection.description:
        line += f"\n      _{bk.clip(connection.description, 150)}_"
    return line


def render_list(result: ConnectionList, ctx: OpContext) -> Rendered:
    title = f"Connections in {result.project.name} ({len(result.connections)})"
    shown, more = r.truncated(result.connections, "connection", limit=80)
    blocks: list[dict[str, Any]] = [bk.header(title)]
    blocks += r.line_sections([_summary(c) for c in shown] or ["No connections yet."]) + more
    blocks.append(bk.context(f"`/projects connection test {result.target} {result.project.name} <name>` checks one."))
    return Rendered(text=title, blocks=r.fit(blocks))


register(Operation(
    name="connection.list", summary="connections (data sources) of a Polaris project", params=ProjectParams,
    risk=Risk.READ, run=run_list, render=render_list, kind=KIND,
    examples=("/projects connection list polaris clickstream",),
))


# ---------------------------------------------------------------- show
@dataclass
class ConnectionDetail:
    target: str
    project: Project
    connection: Connection


async def run_show(ctx: OpContext, params: ConnectionParams) -> ConnectionDetail:
    client, project = await project_of(ctx, params.project)
    return ConnectionDetail(target_name(ctx), project, await client.get_connection(project.uid, params.name))


def render_show(detail: ConnectionDetail, ctx: OpContext) -> Rendered:
    c = detail.connection
    props = c.properties
    fields = [f"*Type*\n{c.type}"]
    for key in SHOWN_PROPERTIES:
        if props.get(key):
            value = props[key]
            text = ", ".join(map(str, value)) if isinstance(value, list) else str(value)
            fields.append(f"*{key}*\n`{bk.clip(text, 300)}`")
    if c.secrets:
        fields.append(f"*Secrets*\n{c.secrets.get('type', 'set')} (values never shown)")
    fields.append(f"*Modified*\n{r.when(c.modified_on_timestamp)}"
                  + (f" by {c.modified_by_user.username}" if c.modified_by_user else ""))
    blocks: list[dict[str, Any]] = [bk.header(f"{c.name} · {detail.project.name}"), bk.section(fields=fields[:10])]
    if c.description:
        blocks.append(bk.context(c.description))
    return Rendered(text=f"connection {c.name} ({c.type})", blocks=blocks)


register(Operation(
    name="connection.show", summary="a Polaris connection's type and settings (never its secrets)",
    params=ConnectionParams, risk=Risk.READ, run=run_show, render=render_show, kind=KIND,
    examples=("/projects connection show polaris clickstream clickstream-archive",),
))


# ---------------------------------------------------------------- create
class ConnectionCreateParams(ConnectionParams):
    type: Literal["s3", "kinesis", "push_streaming"] = Field(description="s3, kinesis or push_streaming")
    bucket: str | None = Field(default=None, description="S3 bucket (s3)")
    prefix: str | None = Field(default=None, description="key prefix (s3)")
    stream: str | None = Field(default=None, description="Kinesis stream (kinesis)")
    role_arn: str | None = Field(default=None, description="AWS role Polaris assumes (s3, kinesis)")
    endpoint: str | None = Field(default=None, description="AWS endpoint (s3, kinesis)")
    description: str | None = None

    _name = field_validator("name", mode="before")(slack_safe_name)

    @field_validator("type", mode="before")
    @classmethod
    def _no_secret_types(cls, value: Any) -> Any:
        if value in SECRET_TYPES:
            raise ValueError(
                f"{value} connections need secrets, which must not be typed into Slack; create them in the "
                "Polaris console (s3, kinesis and push_streaming work here)"
            )
        return value

    @model_validator(mode="after")
    def _required(self) -> ConnectionCreateParams:
        if self.type == "s3" and not self.bucket:
            raise ValueError("an s3 connection needs `--bucket`")
        if self.type == "kinesis" and not self.stream:
            raise ValueError("a kinesis connection needs `--stream`")
        return self


@dataclass
class ConnectionCreated:
    target: str
    project: Project
    connection: Connection


async def run_create(ctx: OpContext, params: ConnectionCreateParams) -> ConnectionCreated:
    client, project = await project_of(ctx, params.project)
    body: dict[str, Any] = {"name": params.name, "type": params.type}
    optional = {
        "bucket": params.bucket,
        "prefix": params.prefix,
        "stream": params.stream,
        "awsAssumedRoleArn": params.role_arn,
        "awsEndpoint": params.endpoint,
        "description": params.description,
    }
    body.update({k: v for k, v in optional.items() if v})
    connection = await client.create_connection(project.uid, body)
    return ConnectionCreated(target_name(ctx), project, connection)


def render_created(result: ConnectionCreated, ctx: OpContext) -> Rendered:
    c = result.connection
    text = f":white_check_mark: Created {c.type} connection *{c.name}* in {result.project.name}."
    hint = f"`/projects connection test {result.target} {result.project.name} {c.name}` checks that it works."
    return Rendered(text=text, blocks=[bk.section(text), bk.context(_summary(c).replace("\n", " "), hint)])


async def read_connection(ctx: OpContext, params: ConnectionParams) -> Connection:
    """The connection the request names, as Polaris has it now."""
    client, project = await project_of(ctx, params.project)
    return await client.get_connection(project.uid, params.name)


def _connection_name(params: ConnectionParams) -> str:
    return params.name


register(Operation(
    name="connection.create", summary="create an S3, Kinesis or push-streaming connection in a Polaris project",
    idempotent=True, verify=exists(read_connection, name=_connection_name),
    params=ConnectionCreateParams, risk=Risk.WRITE, run=run_create, render=render_created, kind=KIND,
    positional=("project", "name", "type"),
    examples=("/projects connection create polaris clickstream clicks-2025 s3 --bucket acme-clicks "
              "--role-arn arn:aws:iam::123456789012:role/polaris",),
))


# ---------------------------------------------------------------- test
@dataclass
class ConnectionTested:
    target: str
    project: Project
    result: ConnectionTest


async def run_test(ctx: OpContext, params: ConnectionParams) -> ConnectionTested:
    client, project = await project_of(ctx, params.project)
    return ConnectionTested(target_name(ctx), project, await client.test_connection(project.uid, params.name))


def render_test(tested: ConnectionTested, ctx: OpContext) -> Rendered:
    result = tested.result
    if result.ok:
        text = f":white_check_mark: Connection *{result.name}* in {tested.project.name} works."
    else:
        text = f":x: Connection *{result.name}* in {tested.project.name} failed its test: {result.message}"
    return Rendered(text=text, blocks=[bk.section(text)])


register(Operation(
    name="connection.test", summary="check that a Polaris connection can reach its source",
    params=ConnectionParams, risk=Risk.READ, run=run_test, render=render_test, kind=KIND,
    examples=("/projects connection test polaris clickstream clickstream-archive",),
))


# ---------------------------------------------------------------- delete
@dataclass
class ConnectionDeleted:
    target: str
    project: Project
    name: str


async def run_delete(ctx: OpContext, params: ConnectionParams) -> ConnectionDeleted:
    client, project = await project_of(ctx, params.project)
    await client.delete_connection(project.uid, params.name)
    return ConnectionDeleted(target_name(ctx), project, params.name)


async def preview_delete(ctx: OpContext, params: ConnectionParams) -> Preview:
    client, project = await project_of(ctx, params.project)
    connection = await client.get_connection(project.uid, params.name)
    jobs = await client.list_jobs(project.uid, connection=[connection.name], limit=100)
    active = [j for j in jobs if j.active]
    text = f"Deletes {connection.type} connection *{connection.name}* from {project.name}."
    if jobs:
        text += f" {len(jobs)} job(s) used it"
        text += f"; {len(active)} still active." if active else "."
    if active:
        ids = ", ".join(f"`{r.short_id(j.id)}` {j.type}" for j in active[:5])
        return Preview(text=text, blocked=f"{len(active)} active job(s) still use connection *{connection.name}* "
                                          f"({ids}), so Polaris will refuse to delete it until they stop.",
                       hint=f"Cancel them first: `/projects job cancel {target_name(ctx)} "
                            f"{command_word(project.name)} {r.short_id(active[0].id)}`")
    return Preview(text)


def render_deleted(result: ConnectionDeleted, ctx: OpContext) -> Rendered:
    text = f":wastebasket: Deleted connection *{result.name}* from {result.project.name}."
    return Rendered(text=text, blocks=[bk.section(text)])


register(Operation(
    name="connection.delete", summary="delete a Polaris connection", params=ConnectionParams,
    verify=gone(read_connection, name=_connection_name),
    risk=Risk.DESTRUCTIVE, run=run_delete, render=render_deleted, kind=KIND, preview=preview_delete,
    examples=("/projects connection delete polaris marketing-sandbox marketing-uploads",),
))
