"""Project-scoped Polaris v1 resources (`/v1/projects/{projectId}/...`): tables, jobs and connections.

`ProjectResources` is the base of `PolarisClient`, which sets up `http` (an `HttpBackend`) and `target`.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from bot.backends.polaris.errors import BACKEND
from bot.backends.polaris.models import (
    TABLE_WRITABLE,
    Connection,
    ConnectionTest,
    Job,
    JobLogEntry,
    JobMetrics,
    JobPage,
    Table,
)
from bot.errors import BackendError, ConflictError, NotFoundError, Reason, UsageError

if TYPE_CHECKING:
    from bot.backends.http import HttpBackend
    from bot.settings import Target

TableChange = Callable[[dict[str, Any]], dict[str, Any]]


def quote_segment(segment: str) -> str:
    """A path segment, percent-encoded (table and connection names may hold characters URLs reserve)."""
    return quote(segment, safe="")


class ProjectResources:
    """Tables, jobs and connections of one project, addressed by the project's uid."""

    http: HttpBackend
    target: Target

    async def _json(self, method: str, path: str, **kwargs: Any) -> Any:
        response = await self.http.request(method, path, **kwargs)
        if not response.content:
            return {}
        try:
            return response.json()
        except ValueError:
            raise BackendError(
                f"Polaris answered {method} {path} with something that is not JSON.",
                "The target URL may point at the wrong service.",
                backend=BACKEND,
                reason=Reason.NOT_JSON,
            ) from None

    # ------------------------------------------------------------ tables

    def _p(self, project_id: str) -> str:
        return f"/v1/projects/{quote_segment(project_id)}"

    async def list_tables(self, project_id: str) -> list[Table]:
        data = await self._json("GET", f"{self._p(project_id)}/tables")
        return [Table.model_validate(t) for t in data.get("values", [])]

    async def get_table(self, project_id: str, name: str) -> Table:
        return Table.model_validate(await self._raw_table(project_id, name))

    async def _raw_table(self, project_id: str, name: str) -> dict[str, Any]:
        try:
            return await self._json("GET", f"{self._p(project_id)}/tables/{quote_segment(name)}")
        except NotFoundError as exc:
            exc.message = f"Table {name} was not found in this project."
            exc.resource, exc.name, exc.within = "table", name, project_id
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
            exc.reason, exc.resource, exc.name = Reason.EXISTS, "table", name
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
                data = await self._json("PUT", f"{self._p(project_id)}/tables/{quote_segment(name)}", json=body)
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
            return Job.model_validate(await self._json("GET", f"{self._p(project_id)}/jobs/{quote_segment(job_id)}"))
        except NotFoundError as exc:
            exc.message = f"Job {job_id} was not found in this project."
            exc.resource, exc.name, exc.within = "job", job_id, project_id
            raise

    async def job_logs(self, project_id: str, job_id: str) -> list[JobLogEntry]:
        data = await self._json("GET", f"{self._p(project_id)}/jobs/{quote_segment(job_id)}/logs")
        return [JobLogEntry.model_validate(e) for e in data.get("logs", [])]

    async def job_metrics(self, project_id: str, job_id: str) -> JobMetrics:
        data = await self._json("GET", f"{self._p(project_id)}/jobs/{quote_segment(job_id)}/metrics")
        return JobMetrics.model_validate(data.get("totals") or {})

    async def cancel_job(self, project_id: str, job_id: str) -> Job:
        body = {"desiredExecutionStatus": "canceled"}
        path = f"{self._p(project_id)}/jobs/{quote_segment(job_id)}"
        return Job.model_validate(await self._json("PUT", path, json=body))

    async def reset_job(self, project_id: str, job_id: str) -> None:
        """Reset a streaming job's offset to its `readFromPoint`."""
        await self.http.request("POST", f"{self._p(project_id)}/jobs/{quote_segment(job_id)}/reset")

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
            data = await self._json("GET", f"{self._p(project_id)}/connections/{quote_segment(name)}")
        except NotFoundError as exc:
            exc.message = f"Connection {name} was not found in this project."
            exc.resource, exc.name, exc.within = "connection", name, project_id
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
        data = await self._json("PATCH", f"{self._p(project_id)}/connections/{quote_segment(name)}", json=body)
        return Connection.model_validate(data)

    async def test_connection(self, project_id: str, name: str) -> ConnectionTest:
        """Ask Polaris to test the connection; a failed test is a result (with Polaris' reason), not an error."""
        try:
            await self.http.request("POST", f"{self._p(project_id)}/connections/{quote_segment(name)}/test",
                                    changes=False)
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
            await self.http.request("DELETE", f"{self._p(project_id)}/connections/{quote_segment(name)}")
        except NotFoundError:
            await self.get_connection(project_id, name)
            raise
