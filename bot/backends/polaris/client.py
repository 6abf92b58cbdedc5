"""Async client for the Imply Polaris v1 API: projects, and each project's tables, jobs and connections.

Auth is HTTP Basic with the API key as user name and an empty password (what `polaris-sdk` sends).
Retries, timeouts and error mapping come from `HttpBackend`; this module adds Polaris' own rules:
merge-patch updates that carry only the fields asked for, table updates with the current `version`
(a 409 is answered by re-reading and retrying once), offset paging of jobs, and following a project's
`status.state` until it settles.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import json
import math
import time
from collections.abc import Awaitable, Callable, Iterable
from typing import Any
from urllib.parse import quote

import httpx

from bot.backends.http import HttpBackend, RetryPolicy
from bot.backends.polaris.errors import BACKEND, parse_error
from bot.backends.polaris.models import (
    TABLE_WRITABLE,
    Connection,
    ConnectionTest,
    Job,
    JobLogEntry,
    JobMetrics,
    JobPage,
    Project,
    Table,
)
from bot.errors import BackendError, ConflictError, NotFoundError, UsageError
from bot.redact import register_secret
from bot.settings import Target

MERGE_PATCH = "application/merge-patch+json"
StateCallback = Callable[[Project], Awaitable[None] | None]
TableChange = Callable[[dict[str, Any]], dict[str, Any]]


def _quote(segment: str) -> str:
    """A path segment, percent-encoded (table and connection names may hold characters URLs reserve)."""
    return quote(segment, safe="")


class PolarisClient:
    """One Polaris organisation (regional or global base URL), as configured in a `Target`."""

    kind = "polaris"

    def __init__(
        self,
        target: Target,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        retry: RetryPolicy | None = None,
    ) -> None:
        self.target = target
        api_key = target.secret("api_key")
        if not api_key:
            raise BackendError(
                f"Target `{target.name}` has no `api_key` credential.",
                "An admin sets `credentials: {api_key: ${POLARIS_API_KEY}}` for it in the projectops config.",
                backend=BACKEND,
            )
        register_secret(api_key)
        self.http = HttpBackend(
            BACKEND,
            target.url,
            parse_error=parse_error,
            headers={"Accept": "application/json"},
            auth=httpx.BasicAuth(api_key, ""),
            timeout=target.timeout_seconds,
            retry=retry,
            transport=transport,
        )
        #: Longest a state-changing operation follows the project before reporting (seconds).
        self.follow_seconds = float(target.options.get("follow_seconds", 20.0))
        self.poll_seconds = float(target.options.get("poll_seconds", 1.0))

    async def aclose(self) -> None:
        await self.http.aclose()

    async def ping(self) -> str:
        projects = await self.list_projects()
        return f"{len(projects)} project{'s' if len(projects) != 1 else ''}"

    async def _json(self, method: str, path: str, **kwargs: Any) -> Any:
        response = await self.http.request(method, path, **kwargs)
        if not response.content:
            return {}
        try:
            return response.json()
        except ValueError:
            raise BackendError(
                f"Polaris answered {method} {path} with something that is not JSON.",
                "The target URL may point at the wrong service; check it with `/projects targets`.",
                backend=BACKEND,
            ) from None

    # ------------------------------------------------------------ projects

    async def list_projects(self) -> list[Project]:
        data = await self._json("GET", "/v1/projects")
        if isinstance(data, dict):  # tolerate a `{"values": [...]}` wrapper
            data = data.get("values", [])
        return [Project.model_validate(p) for p in data]

    async def get_project(self, project_id: str) -> Project:
        try:
            return Project.model_validate(await self._json("GET", f"/v1/projects/{_quote(project_id)}"))
        except NotFoundError as exc:
            exc.message = f"Project {project_id} was not found."
            exc.hint = exc.hint or f"`/projects list {self.target.name}` shows the projects."
            raise

    async def resolve_project(self, name_or_id: str) -> Project:
        """The project whose uid, or else exact name (then case-insensitive name), is `name_or_id`."""
        from bot.operations.parser import closest  # the shared fuzzy matcher

        projects = await self.list_projects()
        for match in (
            [p for p in projects if p.uid == name_or_id],
            [p for p in projects if p.name == name_or_id],
            [p for p in projects if p.name.lower() == name_or_id.lower()],
        ):
            if len(match) == 1:
                return match[0]
            if len(match) > 1:
                ids = ", ".join(f"`{p.uid}`" for p in match)
                raise UsageError(f"More than one project is called `{name_or_id}` on `{self.target.name}`.",
                                 f"Use its id instead: {ids}.")
        near = closest(name_or_id, [p.name for p in projects])
        hint = f"Did you mean `{near}`? " if near else ""
        raise NotFoundError(
            f"There is no project `{name_or_id}` on `{self.target.name}`.",
            hint + f"`/projects list {self.target.name}` shows the projects.",
            backend=BACKEND,
            status=404,
        )

    async def create_project(
        self,
        name: str,
        plan: str,
        region: str | None = None,
        *,
        deletion_protection: bool | None = None,
        stop_protection: bool | None = None,
    ) -> Project:
        spec: dict[str, Any] = {"plan": plan}
        if region:
            spec["region"] = region
        if deletion_protection is not None:
            spec["deletionProtection"] = deletion_protection
        if stop_protection is not None:
            spec["stopProtection"] = stop_protection
        body = {"metadata": {"name": name}, "spec": spec}
        return Project.model_validate(await self._json("POST", "/v1/projects", json=body))

    async def update_project(
        self,
        project_id: str,
        *,
        plan: str | None = None,
        desired_state: str | None = None,
        deletion_protection: bool | None = None,
        stop_protection: bool | None = None,
        name: str | None = None,
    ) -> Project:
        """Merge-patch only the fields given: an unset field is left exactly as it is on the server."""
        spec: dict[str, Any] = {}
        if plan is not None:
            spec["plan"] = plan
        if desired_state is not None:
            spec["desiredState"] = desired_state
        if deletion_protection is not None:
            spec["deletionProtection"] = deletion_protection
        if stop_protection is not None:
            spec["stopProtection"] = stop_protection
        patch: dict[str, Any] = {}
        if spec:
            patch["spec"] = spec
        if name is not None:
            patch["metadata"] = {"name": name}
        if not patch:
            raise UsageError("Nothing to change: name at least one of plan, state or a protection flag.")
        try:
            data = await self._json(
                "PATCH",
                f"/v1/projects/{_quote(project_id)}",
                content=httpx_json(patch),
                headers={"Content-Type": MERGE_PATCH},
            )
        except BackendError as exc:
            if desired_state in ("paused", "stopped") and "stop protection" in exc.message.lower():
                await self._explain_stop_protection(project_id, desired_state, exc)
            raise
        return Project.model_validate(data)

    async def _explain_stop_protection(self, project_id: str, desired: str, exc: BackendError) -> None:
        name = project_id
        with contextlib.suppress(BackendError):
            name = (await self.get_project(project_id)).name
        verb = "paused" if desired == "paused" else "stopped"
        exc.message = f"Project {name} has stop protection on, so it can't be {verb}."
        exc.hint = f"Turn it off first: `/projects update {self.target.name} {name} --no-stop-protection`"

    async def delete_project(self, project_id: str) -> None:
        """Ask Polaris to delete the project (202); a protected project gives a ConflictError that says so."""
        try:
            await self.http.request("DELETE", f"/v1/projects/{_quote(project_id)}")
        except ConflictError as exc:
            try:
                project = await self.get_project(project_id)
            except BackendError:
                raise exc from None
            if project.spec.deletion_protection:
                exc.message = f"Project {project.name} has deletion protection on."
                exc.hint = (
                    f"Turn it off first: `/projects update {self.target.name} {project.name} "
                    "--no-deletion-protection`"
                )
            else:
                exc.message = f"Polaris refused to delete project {project.name}: {exc.message}"
            raise

    async def wait_for_state(
        self,
        project_id: str,
        until: Iterable[str] | None = None,
        timeout: float | None = None,
        on_change: StateCallback | None = None,
        interval: float | None = None,
        initial: Project | None = None,
    ) -> Project:
        """Follow `status.state` until it is in `until` (or, with no `until`, no longer transitional).

        Stops early on `failed`. A project that disappears while `deleted` is awaited comes back with state
        `deleted`. On timeout the last project seen is returned (check `.state`); `on_change` (sync or
        async) is called with each new state, the first one included. `initial` is the project as last known
        (so a project deleted before the first poll still comes back as `deleted`).
        """
        wanted = set(until) if until else None
        deadline = time.monotonic() + (self.follow_seconds if timeout is None else timeout)
        ceiling = self.poll_seconds if interval is None else interval
        delay = min(0.2, ceiling)
        last_state: str | None = None
        project: Project | None = initial
        while True:
            try:
                project = await self.get_project(project_id)
            except NotFoundError:
                if project is not None and wanted and "deleted" in wanted:
                    gone = project.model_copy(deep=True)
                    gone.status.state = "deleted"
                    await _call(on_change, gone)
                    return gone
                raise
            if project.state != last_state:
                last_state = project.state
                await _call(on_change, project)
            done = project.state in wanted if wanted else project.settled
            if done or project.state == "failed":
                return project
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return project
            await asyncio.sleep(min(delay, remaining))
            delay = min(ceiling, delay * 1.5)

    # ------------------------------------------------------------ tables

    def _p(self, project_id: str) -> str:
        return f"/v1/projects/{_quote(project_id)}"

    async def list_tables(self, project_id: str) -> list[Table]:
        data = await self._json("GET", f"{self._p(project_id)}/tables")
        return [Table.model_validate(t) for t in data.get("values", [])]

    async def get_table(self, project_id: str, name: str) -> Table:
        return Table.model_validate(await self._raw_table(project_id, name))

    async def _raw_table(self, project_id: str, name: str) -> dict[str, Any]:
        try:
            return await self._json("GET", f"{self._p(project_id)}/tables/{_quote(name)}")
        except NotFoundError as exc:
            exc.message = f"Table {name} was not found in this project."
            exc.hint = exc.hint or f"`/projects table list {self.target.name} <project>` shows its tables."
            raise

    async def create_table(
        self,
        project_id: str,
        name: str,
        table_type: str = "detail",
        columns: list[dict[str, Any]] | None = None,
        *,
        partitioning_granularity: str | None = None,
        schema_mode: str | None = None,
        time_resolution: str | None = None,
        description: str | None = None,
        clustering_columns: list[str] | None = None,
    ) -> Table:
        """Create a detail or aggregate table (aggregate columns carry `type`: dimension|measure)."""
        body: dict[str, Any] = {"name": name, "type": table_type}
        optional = {
            "schema": columns,
            "partitioningGranularity": partitioning_granularity,
            "schemaMode": schema_mode,
            "timeResolution": time_resolution if table_type == "aggregate" else None,
            "description": description,
            "clusteringColumns": clustering_columns,
        }
        body.update({k: v for k, v in optional.items() if v is not None})
        try:
            data = await self._json("POST", f"{self._p(project_id)}/tables", json=body)
        except ConflictError as exc:
            exc.hint = exc.hint or "Pick another name, or change the existing table."
            raise
        return Table.model_validate(data)

    async def update_table(self, project_id: str, name: str, change: TableChange) -> Table:
        """PUT the table as `change(current)` returns it, with the current `version`.

        `change` receives the writable part of the table as Polaris sent it and returns the new body. On a 409
        (someone changed the table meanwhile) the table is read again and `change` applied once more.
        """
        for attempt in (1, 2):
            current = await self._raw_table(project_id, name)
            body = change({k: current[k] for k in TABLE_WRITABLE if k in current})
            body["name"], body["type"], body["version"] = current["name"], current["type"], current.get("version", 0)
            try:
                data = await self._json("PUT", f"{self._p(project_id)}/tables/{_quote(name)}", json=body)
            except ConflictError as exc:
                if attempt == 1:
                    continue
                exc.message = f"Table {name} kept changing while we updated it: {exc.message}"
                exc.hint = "Someone else is changing it too; try again in a moment."
                raise
            return Table.model_validate(data)
        raise AssertionError("unreachable")

    async def add_columns(self, project_id: str, name: str, columns: list[dict[str, Any]]) -> Table:
        """Append columns to a table's schema (adding is always allowed; existing names are refused)."""

        def change(body: dict[str, Any]) -> dict[str, Any]:
            schema = list(body.get("schema") or [])
            existing = {c.get("name") for c in schema}
            clash = [c["name"] for c in columns if c["name"] in existing]
            if clash:
                raise UsageError(f"Table {name} already has column(s) {', '.join(clash)}.")
            body["schema"] = schema + columns
            return body

        return await self.update_table(project_id, name, change)

    # ------------------------------------------------------------ jobs

    async def jobs_page(
        self,
        project_id: str,
        *,
        offset: int = 0,
        limit: int = 100,
        types: Iterable[str] = (),
        execution_status: Iterable[str] = (),
        health_status: Iterable[str] = (),
        table: str | None = None,
        connection: Iterable[str] = (),
        search: str | None = None,
    ) -> JobPage:
        params: list[tuple[str, str | int]] = [("paginationOffset", offset), ("paginationLimit", limit)]
        params += [("type", t) for t in types]
        params += [("executionStatus", s) for s in execution_status]
        params += [("healthStatus", h) for h in health_status]
        params += [("connectionName", c) for c in connection]
        if table:
            params.append(("targetTableName", table))
        if search:
            params.append(("searchString", search))
        data = await self._json("GET", f"{self._p(project_id)}/jobs", params=params)
        return JobPage.model_validate(data)

    async def list_jobs(
        self,
        project_id: str,
        *,
        limit: int | None = None,
        page_size: int = 100,
        concurrency: int = 4,
        **filters: Any,
    ) -> list[Job]:
        """Jobs matching the filters (see `jobs_page`), newest change first, following `moreResultsAvailable`.

        After the first page, the next pages are fetched `concurrency` at a time.
        """
        if limit is not None:
            page_size = max(1, min(page_size, limit))
        first = await self.jobs_page(project_id, offset=0, limit=page_size, **filters)
        jobs = list(first.values)
        more = first.more_results_available and bool(first.values)
        offset = page_size
        while more and (limit is None or len(jobs) < limit):
            needed = concurrency if limit is None else min(concurrency, math.ceil((limit - len(jobs)) / page_size))
            offsets = [offset + i * page_size for i in range(max(1, needed))]
            pages = await asyncio.gather(
                *(self.jobs_page(project_id, offset=o, limit=page_size, **filters) for o in offsets)
            )
            for page in pages:
                jobs.extend(page.values)
                if not page.more_results_available or not page.values:
                    more = False
                    break
            offset = offsets[-1] + page_size
        return jobs if limit is None else jobs[:limit]

    async def get_job(self, project_id: str, job_id: str) -> Job:
        try:
            return Job.model_validate(await self._json("GET", f"{self._p(project_id)}/jobs/{_quote(job_id)}"))
        except NotFoundError as exc:
            exc.message = f"Job {job_id} was not found in this project."
            exc.hint = exc.hint or f"`/projects job list {self.target.name} <project>` shows its jobs."
            raise

    async def job_logs(self, project_id: str, job_id: str) -> list[JobLogEntry]:
        data = await self._json("GET", f"{self._p(project_id)}/jobs/{_quote(job_id)}/logs")
        return [JobLogEntry.model_validate(e) for e in data.get("logs", [])]

    async def job_metrics(self, project_id: str, job_id: str) -> JobMetrics:
        data = await self._json("GET", f"{self._p(project_id)}/jobs/{_quote(job_id)}/metrics")
        return JobMetrics.model_validate(data.get("totals") or {})

    async def cancel_job(self, project_id: str, job_id: str) -> Job:
        body = {"desiredExecutionStatus": "canceled"}
        return Job.model_validate(await self._json("PUT", f"{self._p(project_id)}/jobs/{_quote(job_id)}", json=body))

    async def reset_job(self, project_id: str, job_id: str) -> None:
        """Reset a streaming job's offset to its `readFromPoint`."""
        await self.http.request("POST", f"{self._p(project_id)}/jobs/{_quote(job_id)}/reset")

    async def create_job(self, project_id: str, body: dict[str, Any]) -> Job:
        return Job.model_validate(await self._json("POST", f"{self._p(project_id)}/jobs", json=body))

    async def create_batch_job(
        self,
        project_id: str,
        table: str,
        connection: str,
        prefixes: list[str],
        *,
        input_schema: list[dict[str, str]] | None = None,
        mappings: list[dict[str, str]] | None = None,
        data_format: str = "nd-json",
        source_type: str = "s3",
        create_table: bool = False,
        ingestion_mode: str = "append",
    ) -> Job:
        """Ingest files under `prefixes` of an S3/Azure connection into `table`."""
        schema = input_schema or [{"name": "timestamp", "dataType": "string"}]
        names = [c["name"] for c in schema]
        time_field = next((n for n in names if n in ("timestamp", "time", "__time")), names[0])
        default_mappings = [{"columnName": "__time", "expression": f'TIME_PARSE("{time_field}")'}]
        default_mappings += [
            {"columnName": c["name"], "expression": f'"{c["name"]}"'} for c in schema if c["name"] != time_field
        ]
        body = {
            "type": "batch",
            "source": {
                "type": source_type,
                "connectionName": connection,
                "prefixes": prefixes,
                "formatSettings": {"format": data_format},
                "inputSchema": schema,
            },
            "target": {"type": "table", "tableName": table},
            "ingestionMode": ingestion_mode,
            "mappings": mappings or default_mappings,
            "createTableIfNotExists": create_table,
        }
        return await self.create_job(project_id, body)

    async def create_sql_job(self, project_id: str, query: str, *, create_table: bool = False) -> Job:
        body = {"type": "sql", "query": query, "createTableIfNotExists": create_table}
        return await self.create_job(project_id, body)

    async def create_delete_data_job(
        self, project_id: str, table: str, intervals: list[str] | None = None, *, delete_all: bool = False
    ) -> Job:
        """Delete rows of `table` in the ISO intervals given, or all of them with `delete_all`."""
        if not intervals and not delete_all:
            raise UsageError("Say which data to delete: one or more `--interval` values, or `--all`.")
        target: dict[str, Any] = {"type": "table", "tableName": table}
        if intervals:
            target["intervals"] = intervals
        body: dict[str, Any] = {"type": "delete_data", "target": target}
        if delete_all:
            body["deleteAll"] = True
        return await self.create_job(project_id, body)

    async def create_drop_table_job(self, project_id: str, table: str) -> Job:
        body = {"type": "drop_table", "target": {"type": "table", "tableName": table}}
        return await self.create_job(project_id, body)

    # ------------------------------------------------------------ connections

    async def list_connections(self, project_id: str) -> list[Connection]:
        data = await self._json("GET", f"{self._p(project_id)}/connections")
        return [Connection.model_validate(c) for c in data.get("values", [])]

    async def get_connection(self, project_id: str, name: str) -> Connection:
        try:
            data = await self._json("GET", f"{self._p(project_id)}/connections/{_quote(name)}")
        except NotFoundError as exc:
            exc.message = f"Connection {name} was not found in this project."
            exc.hint = exc.hint or f"`/projects connection list {self.target.name} <project>` shows them."
            raise
        return Connection.model_validate(data)

    async def create_connection(self, project_id: str, body: dict[str, Any]) -> Connection:
        """Create a connection from its Polaris body (`name`, `type`, type properties, `secrets`)."""
        data = await self._json("POST", f"{self._p(project_id)}/connections", json=body)
        return Connection.model_validate(data)

    async def update_connection(self, project_id: str, name: str, body: dict[str, Any]) -> Connection:
        """Patch a connection; `type` is required by Polaris and filled in from the current one if missing."""
        if "type" not in body:
            body = {"type": (await self.get_connection(project_id, name)).type, **body}
        data = await self._json("PATCH", f"{self._p(project_id)}/connections/{_quote(name)}", json=body)
        return Connection.model_validate(data)

    async def test_connection(self, project_id: str, name: str) -> ConnectionTest:
        """Ask Polaris to test the connection; a failed test is a result (with Polaris' reason), not an error."""
        try:
            await self.http.request("POST", f"{self._p(project_id)}/connections/{_quote(name)}/test")
        except NotFoundError:
            await self.get_connection(project_id, name)  # raises the friendly not-found
            raise
        except BackendError as exc:
            if exc.status not in (400, 422):
                raise
            reason = exc.message.removeprefix("Polaris did not accept the request: ")
            return ConnectionTest(name=name, ok=False, message=reason)
        return ConnectionTest(name=name, ok=True, message="Polaris reached the source with this connection.")

    async def delete_connection(self, project_id: str, name: str) -> None:
        try:
            await self.http.request("DELETE", f"{self._p(project_id)}/connections/{_quote(name)}")
        except NotFoundError:
            await self.get_connection(project_id, name)
            raise


def httpx_json(body: Any) -> bytes:
    """JSON bytes for bodies sent with a content type other than application/json."""
    return json.dumps(body, separators=(",", ":")).encode()


async def _call(callback: StateCallback | None, project: Project) -> None:
    if callback is None:
        return
    result = callback(project)
    if inspect.isawaitable(result):
        await result
