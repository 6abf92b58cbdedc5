"""Pydantic models of the Polaris v1 payloads we read (camelCase on the wire, snake_case here).

Models accept unknown fields (`extra="allow"`): Polaris adds fields often and we must not break on them.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

DesiredState = Literal["running", "paused", "stopped"]
TableType = Literal["detail", "aggregate"]
JobType = Literal["batch", "delete_data", "drop_table", "restore_data", "streaming", "sql"]
ExecutionStatus = Literal["pending", "running", "completed", "idle", "canceled", "failed", "suspended", "unknown"]
HealthStatus = Literal["ok", "warn", "error"]

#: Project states that are on their way somewhere else.
TRANSITIONAL_STATES = frozenset(
    {"creating", "pending", "pausing", "stopping", "deleting", "updating", "balancing", "resuming", "restarting"}
)
#: Where each transitional state normally ends up.
SETTLES_INTO = {
    "creating": "running",
    "updating": "running",
    "resuming": "running",
    "restarting": "running",
    "balancing": "running",
    "pending": "running",
    "pausing": "paused",
    "stopping": "stopped",
    "deleting": "deleted",
}
TERMINAL_JOB_STATES = frozenset({"completed", "failed", "canceled"})


class PolarisModel(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="allow")


class UserRef(PolarisModel):
    username: str = ""
    user_id: str = ""


# ---------------------------------------------------------------- projects


class ObjectMeta(PolarisModel):
    uid: str
    name: str
    created_on_timestamp: datetime | None = None


class ProjectSpec(PolarisModel):
    plan: str | None = None
    desired_state: str | None = None
    deletion_protection: bool = False
    stop_protection: bool = False
    region: str | None = None


class ProjectStatus(PolarisModel):
    max_bytes: int | None = None
    current_bytes: int | None = None
    deep_storage_bytes: int | None = None
    state: str = "unknown"
    version: str | None = None


class Project(PolarisModel):
    metadata: ObjectMeta
    spec: ProjectSpec = Field(default_factory=ProjectSpec)
    status: ProjectStatus = Field(default_factory=ProjectStatus)

    @property
    def uid(self) -> str:
        return self.metadata.uid

    @property
    def name(self) -> str:
        return self.metadata.name

    @property
    def state(self) -> str:
        return self.status.state

    @property
    def settled(self) -> bool:
        return self.state not in TRANSITIONAL_STATES

    @property
    def used_fraction(self) -> float | None:
        """currentBytes / maxBytes, or None when either is unknown."""
        if not self.status.max_bytes or self.status.current_bytes is None:
            return None
        return self.status.current_bytes / self.status.max_bytes


# ---------------------------------------------------------------- tables


class Column(PolarisModel):
    name: str
    data_type: str | None = None
    type: str | None = None  # aggregate tables: dimension | measure
    is_discovered: bool | None = None


class Table(PolarisModel):
    name: str
    type: str = "detail"
    version: int = 0
    id: str | None = None
    availability: str | None = None
    description: str | None = None
    partitioning_granularity: str | None = None
    schema_mode: str | None = None
    time_resolution: str | None = None
    clustering_columns: list[str] = Field(default_factory=list)
    columns: list[Column] = Field(default_factory=list, alias="schema")
    queryable_schema: list[Column] = Field(default_factory=list)
    segment_count: int | None = None
    total_rows: int | None = None
    total_data_size_bytes: int | None = None
    precached_data_size_bytes: int | None = None
    segment_total_bytes: int | None = None
    segment_compacted_bytes: int | None = None
    created_on_timestamp: datetime | None = None
    modified_on_timestamp: datetime | None = None
    created_by_user: UserRef | None = None
    modified_by_user: UserRef | None = None


#: Table fields a PUT may carry (the rest are read-only).
TABLE_WRITABLE = (
    "name",
    "type",
    "version",
    "description",
    "partitioningGranularity",
    "schemaMode",
    "schema",
    "clusteringColumns",
    "storagePolicy",
    "timeResolution",
    "queryGranularity",
)


# ---------------------------------------------------------------- jobs


class JobHealth(PolarisModel):
    status: str = "ok"
    code: str | None = None
    message: str | None = None
    log: dict[str, Any] | None = None

    @property
    def detail(self) -> str:
        """The most useful sentence about the job's health."""
        if self.message:
            return self.message
        if self.log and self.log.get("message"):
            return str(self.log["message"])
        return (self.code or "").replace("_", " ")


class Job(PolarisModel):
    id: str
    type: str
    execution_status: str = "unknown"
    desired_execution_status: str | None = None
    health: JobHealth = Field(default_factory=JobHealth)
    target: dict[str, Any] = Field(default_factory=dict)
    source: dict[str, Any] | None = None
    query: str | None = None
    created_by: UserRef | None = None
    last_modified_by: UserRef | None = None
    created_timestamp: datetime | None = None
    last_updated_timestamp: datetime | None = None
    started_timestamp: datetime | None = None
    completed_timestamp: datetime | None = None

    @property
    def table(self) -> str:
        return str(self.target.get("tableName") or "")

    @property
    def active(self) -> bool:
        return self.execution_status not in TERMINAL_JOB_STATES


class JobPage(PolarisModel):
    values: list[Job] = Field(default_factory=list)
    more_results_available: bool = False


class JobLogEntry(PolarisModel):
    timestamp: datetime | None = None
    health_status: str = "ok"
    code: str | None = None
    message: str = ""


class JobMetrics(PolarisModel):
    num_bytes_processed: int = 0
    num_rows_persisted: int = 0
    num_rows_processed: int = 0
    num_rows_processed_with_warning: int = 0
    num_rows_skipped_by_error: int = 0
    num_rows_skipped_by_filter: int = 0


# ---------------------------------------------------------------- connections


class Connection(PolarisModel):
    """A connection; type-specific properties (bucket, bootstrapServers, …) stay in `model_extra`."""

    name: str
    type: str
    description: str | None = None
    secrets: dict[str, Any] | None = None
    submitted_by_user: UserRef | None = None
    submitted_on_timestamp: datetime | None = None
    modified_by_user: UserRef | None = None
    modified_on_timestamp: datetime | None = None

    @property
    def properties(self) -> dict[str, Any]:
        """Type-specific settings, as Polaris names them (never secret values: Polaris does not return them)."""
        return dict(self.model_extra or {})


class ConnectionTest(BaseModel):
    """The outcome of `POST /connections/{name}/test`."""

    name: str
    ok: bool
    message: str = ""
