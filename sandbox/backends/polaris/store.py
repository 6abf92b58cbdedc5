"""In-memory Polaris state: projects with their tables, jobs and connections, and the timed state machine.

Nothing runs in the background. Every read calls `Store.settle`, which works out from timestamps where each
project and job has got to (`transition_seconds` per step) and applies what finished jobs do to tables.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from .errors import not_found

NAMESPACE = uuid.UUID("5d0c3a52-7a4e-4d59-9a0b-2f3c4e5a6b7c")
REGIONS = (
    "us-east-1",
    "us-east-2",
    "eu-central-1",
    "eu-west-1",
    "us-west-2",
    "ap-northeast-2",
    "ap-south-1",
    "eastus",
    "germanywestcentral",
    "westus2",
)
PLANS = {  # plan -> maxBytes
    "starter": 25_000_000_000,
    "a.01": 100_000_000_000,
    "a.02": 200_000_000_000,
    "a.04": 400_000_000_000,
    "a.08": 800_000_000_000,
    "a.16": 1_600_000_000_000,
}
DESIRED_STATES = ("running", "paused", "stopped")
PROJECT_VERSION = "15f46a6e"
REGION_LIMIT = 25
# transitional state -> the state it settles into
PROJECT_TRANSITIONS = {
    "creating": "running",
    "updating": "running",
    "resuming": "running",
    "pausing": "paused",
    "stopping": "stopped",
    "deleting": "deleted",
}
TERMINAL_JOB_STATES = ("completed", "failed", "canceled")
STREAMING_CONNECTION_TYPES = ("kafka", "confluent", "kinesis", "push_streaming")


def stable_id(*parts: str) -> str:
    """Deterministic uuid for seeded objects."""
    return str(uuid.uuid5(NAMESPACE, "/".join(parts)))


def iso(ts: float | None) -> str | None:
    """Epoch seconds -> ISO-8601 with milliseconds, as Polaris writes it (`2021-12-21T22:28:44.457Z`)."""
    if ts is None:
        return None
    moment = datetime.fromtimestamp(ts, UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def epoch(text: str) -> float:
    """ISO-8601 (`2024-03-04T10:00:00Z`) -> epoch seconds."""
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def user(username: str) -> dict[str, str]:
    return {"username": username, "userId": stable_id("user", username)}


API_USER = user("api-client")


@dataclass
class Table:
    id: str
    name: str
    type: str  # detail | aggregate
    created: float
    created_by: dict[str, str]
    version: int = 0
    description: str | None = None
    partitioning_granularity: str = "day"
    schema_mode: str = "flexible"
    schema: list[dict[str, Any]] = field(default_factory=list)
    discovered: list[dict[str, Any]] = field(default_factory=list)
    clustering_columns: list[str] = field(default_factory=list)
    storage_policy: dict[str, Any] | None = None
    time_resolution: str | None = None
    query_granularity: dict[str, Any] | None = None
    modified: float = 0.0
    modified_by: dict[str, str] = field(default_factory=lambda: dict(API_USER))
    total_rows: int = 0
    total_data_size_bytes: int = 0
    segment_count: int = 0
    dropping: bool = False


@dataclass
class Job:
    id: str
    type: str
    spec: dict[str, Any]
    target_table: str | None
    created: float
    created_by: dict[str, str]
    execution_status: str = "pending"
    desired_execution_status: str = "running"
    health: dict[str, Any] = field(default_factory=lambda: {"status": "ok"})
    last_updated: float = 0.0
    last_modified_by: dict[str, str] = field(default_factory=lambda: dict(API_USER))
    started: float | None = None
    completed: float | None = None
    logs: list[dict[str, Any]] = field(default_factory=list)
    totals: dict[str, int] = field(default_factory=dict)
    progress: float = 0.0
    frozen: bool = False  # True once the job no longer moves by itself (seeded, settled, canceled, admin-set)

    @property
    def source(self) -> dict[str, Any] | None:
        return self.spec.get("source")


@dataclass
class Connection:
    name: str
    type: str
    props: dict[str, Any]
    created: float
    created_by: dict[str, str]
    modified: float
    modified_by: dict[str, str]
    description: str | None = None
    secrets_type: str | None = None
    test_error: str | None = None


@dataclass
class Project:
    uid: str
    name: str
    created: float
    plan: str
    region: str
    desired_state: str = "running"
    deletion_protection: bool = False
    stop_protection: bool = False
    state: str = "running"
    since: float = 0.0  # when `state` was entered
    current_bytes: int = 0
    deep_storage_bytes: int = 0
    max_bytes: int | None = None
    version: str = PROJECT_VERSION
    tables: dict[str, Table] = field(default_factory=dict)
    jobs: dict[str, Job] = field(default_factory=dict)
    connections: dict[str, Connection] = field(default_factory=dict)

    @property
    def capacity(self) -> int:
        return self.max_bytes if self.max_bytes is not None else PLANS.get(self.plan, PLANS["starter"])


@dataclass
class Config:
    transition_seconds: float = 2.0
    api_keys: frozenset[str] | None = None


class Store:
    """All emulator state plus the rules for how it moves with time."""

    def __init__(self, config: Config, clock: Callable[[], float] = time.time) -> None:
        self.config = config
        self.clock = clock
        self.projects: dict[str, Project] = {}

    def now(self) -> float:
        return self.clock()

    def clear(self) -> None:
        self.projects.clear()

    # ----- projects

    def add_project(self, project: Project) -> Project:
        self.projects[project.uid] = project
        return project

    def list_projects(self) -> list[Project]:
        return [p for p in list(self.projects.values()) if self.settle(p)]

    def project(self, uid: str) -> Project:
        found = self.projects.get(uid)
        if found is None or not self.settle(found):
            raise not_found(f"Project {uid} was not found.")
        return found

    def region_count(self, region: str) -> int:
        return sum(1 for p in self.list_projects() if p.region == region and p.state != "deleting")

    def begin(self, project: Project, state: str) -> None:
        project.state = state
        project.since = self.now()

    def settle(self, project: Project) -> bool:
        """Advance `project` and its jobs to now; False once a deleted project is gone."""
        now = self.now()
        target = PROJECT_TRANSITIONS.get(project.state)
        if target and now - project.since >= self.config.transition_seconds:
            if target == "deleted":
                self.projects.pop(project.uid, None)
                return False
            project.state = target
            project.since = project.since + self.config.transition_seconds
        for job in list(project.jobs.values()):
            self.advance_job(project, job, now)
        return True

    # ----- jobs

    def add_job(self, project: Project, job: Job) -> Job:
        job.last_updated = job.last_updated or job.created
        project.jobs[job.id] = job
        if job.type == "drop_table" and job.target_table in project.tables and not job.frozen:
            project.tables[job.target_table].dropping = True
        if not job.frozen:
            log(job, job.created, "ok", "job_created", f"Job created by {job.created_by['username']}.")
        return job

    def advance_job(self, project: Project, job: Job, now: float) -> None:
        """Move a live job along pending -> running -> completed (streaming jobs stay running)."""
        if job.frozen:
            return
        step = self.config.transition_seconds / 2
        elapsed = now - job.created
        if elapsed < step:
            job.execution_status = "pending"
            return
        if job.started is None:
            job.started = job.created + step
            job.execution_status = "running"
            job.last_updated = job.started
            log(job, job.started, "ok", "job_running", "Job started running.")
        if job.type == "streaming":
            job.frozen = True
            job.progress = 0.0
            return
        if elapsed < 2 * step:
            job.progress = round((elapsed - step) / step, 3) if step else 1.0
            return
        job.completed = job.created + 2 * step
        job.execution_status = "completed"
        job.progress = 1.0
        job.last_updated = job.completed
        job.frozen = True
        self.finish_job(project, job)

    def finish_job(self, project: Project, job: Job) -> None:
        """What a completed job does to its table."""
        table = project.tables.get(job.target_table or "")
        ts = job.completed or self.now()
        if job.type in ("batch", "sql"):
            rows, size = 125_000, 48_000_000
            if table is not None:
                table.total_rows += rows
                table.total_data_size_bytes += size
                table.segment_count += 2
                table.modified = ts
            project.current_bytes += size
            job.totals = ingestion_totals(rows, size)
            log(
                job,
                ts,
                "ok",
                "job_completed",
                f"Job completed: {rows:,} rows ingested into {job.target_table}.",
            )
        elif job.type == "delete_data":
            deleted = table.total_rows if table else 0
            if table is not None:
                project.current_bytes = max(0, project.current_bytes - table.total_data_size_bytes)
                table.total_rows = table.total_data_size_bytes = table.segment_count = 0
                table.modified = ts
            job.totals = ingestion_totals(deleted, 0)
            log(
                job,
                ts,
                "ok",
                "job_completed",
                f"Job completed: {deleted:,} rows deleted from {job.target_table}.",
            )
        elif job.type == "drop_table":
            if table is not None:
                project.current_bytes = max(0, project.current_bytes - table.total_data_size_bytes)
                project.tables.pop(table.name, None)
            log(job, ts, "ok", "job_completed", f"Job completed: table {job.target_table} dropped.")
        else:
            log(job, ts, "ok", "job_completed", "Job completed.")

    def set_job_status(self, project: Project, job: Job, status: str, by: dict[str, str]) -> None:
        """Apply a terminal or paused execution status by request (cancel, suspend, resume)."""
        now = self.now()
        job.frozen = True
        job.execution_status = status
        job.desired_execution_status = {"canceled": "canceled", "suspended": "suspended"}.get(
            status, "running"
        )
        job.last_updated = now
        job.last_modified_by = dict(by)
        if status in TERMINAL_JOB_STATES:
            job.completed = now
        words = {"canceled": "canceled", "suspended": "suspended", "running": "resumed"}.get(status, status)
        log(job, now, "ok", f"job_{status}", f"Job {words} by {by['username']}.")

    def force_job_status(self, project: Project, job: Job, status: str) -> None:
        """Admin override: pin a job's execution status, applying or undoing what it does to its table."""
        was = job.execution_status
        now = self.now()
        job.frozen = True
        job.execution_status = status
        job.last_updated = now
        job.completed = (job.completed or now) if status in TERMINAL_JOB_STATES else None
        if status != "pending" and job.started is None:
            job.started = now
        if status == "completed" and was != "completed":
            job.progress = 1.0
            self.finish_job(project, job)
        elif status in ("failed", "canceled") and job.type == "drop_table":
            table = project.tables.get(job.target_table or "")
            if table is not None:
                table.dropping = False

    def jobs_for_table(self, project: Project, table: str) -> Iterable[Job]:
        return (j for j in project.jobs.values() if j.target_table == table)


def log(job: Job, ts: float, health: str, code: str | None, message: str) -> dict[str, Any]:
    entry: dict[str, Any] = {"timestamp": iso(ts), "healthStatus": health, "message": message}
    if code:
        entry["code"] = code
    job.logs.append(entry)
    return entry


def ingestion_totals(rows: int, size: float, warnings: int = 0, errors: int = 0, filtered: int = 0) -> dict:
    return {
        "numBytesProcessed": int(size),
        "numRowsPersisted": rows,
        "numRowsProcessed": rows + errors + filtered,
        "numRowsProcessedWithWarning": warnings,
        "numRowsSkippedByError": errors,
        "numRowsSkippedByFilter": filtered,
    }
