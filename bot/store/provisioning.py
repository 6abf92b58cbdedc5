"""Multi-step provisioning records: which steps finished, which one failed and why, so a run can resume.

A record holds only the non-secret plan: secrets are typed again when a run is resumed.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass, field
from typing import Any

from bot.store.audit import utcnow_iso
from bot.store.database import Database

STATUSES = ("running", "failed", "succeeded")


@dataclass
class Provisioning:
    id: str
    kind: str
    target: str
    requested_by: str
    plan: dict[str, Any]
    status: str = "running"
    steps: dict[str, dict[str, Any]] = field(default_factory=dict)  # finished step -> what it made
    failed_step: str = ""
    error: str = ""
    attempts: int = 1
    created_at: str = ""
    updated_at: str = ""

    def done(self, step: str) -> bool:
        return step in self.steps

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> Provisioning:
        return cls(
            id=row["id"], kind=row["kind"], target=row["target"], requested_by=row["requested_by"],
            plan=json.loads(row["plan"] or "{}"), status=row["status"], steps=json.loads(row["steps"] or "{}"),
            failed_step=row["failed_step"] or "", error=row["error"] or "", attempts=row["attempts"] or 1,
            created_at=row["created_at"], updated_at=row["updated_at"],
        )


COLUMNS = ("id, kind, target, requested_by, plan, status, steps, failed_step, error, attempts, created_at, "
           "updated_at")
UPDATABLE = frozenset({"status", "steps", "failed_step", "error", "attempts"})


class ProvisioningStore:
    """Thread-safe; each call is one short transaction."""

    def __init__(self, database: Database) -> None:
        self.database = database

    def create(self, kind: str, target: str, requested_by: str, plan: dict[str, Any]) -> Provisioning:
        now = utcnow_iso()
        record = Provisioning(id=f"{kind[:2]}-{secrets.token_hex(4)}", kind=kind, target=target,
                              requested_by=requested_by, plan=plan, created_at=now, updated_at=now)
        self.database.execute(
            "INSERT INTO provisioning (id, kind, target, requested_by, plan, status, steps, failed_step, error, "
            "attempts, created_at, updated_at, name) VALUES (?, ?, ?, ?, ?, 'running', '{}', '', '', 1, ?, ?, ?)",
            [record.id, kind, target, requested_by, json.dumps(plan, sort_keys=True), now, now,
             str(plan.get("name") or "").casefold()])
        return record

    def get(self, record_id: str) -> Provisioning | None:
        row = self.database.query_one(f"SELECT {COLUMNS} FROM provisioning WHERE id = ?", [record_id])
        return Provisioning.from_row(row) if row else None

    def unfinished(self, target: str, name: str) -> Provisioning | None:
        """The newest record for project `name` on `target` that did not succeed."""
        row = self.database.query_one(
            f"SELECT {COLUMNS} FROM provisioning WHERE target = ? AND name = ? AND status != 'succeeded' "
            "ORDER BY created_at DESC LIMIT 1", [target, name.casefold()])
        return Provisioning.from_row(row) if row else None

    def recent(self, target: str, limit: int = 10) -> list[Provisioning]:
        rows = self.database.query(
            f"SELECT {COLUMNS} FROM provisioning WHERE target = ? ORDER BY created_at DESC LIMIT ?", [target, limit])
        return [Provisioning.from_row(r) for r in rows]

    def for_project(self, target: str, project_id: str) -> Provisioning | None:
        for record in self.recent(target, 200):
            if (record.steps.get("project") or {}).get("project_id") == project_id:
                return record
        return None

    def _update(self, record: Provisioning, **values: Any) -> None:
        unknown = set(values) - UPDATABLE
        if unknown:
            raise ValueError(f"not a provisioning column: {sorted(unknown)}")
        record.updated_at = utcnow_iso()
        columns = [*values, "updated_at"]
        self.database.execute(
            f"UPDATE provisioning SET {', '.join(f'{c} = ?' for c in columns)} WHERE id = ?",
            [*values.values(), record.updated_at, record.id])

    def resume(self, record: Provisioning) -> None:
        record.status, record.attempts = "running", record.attempts + 1
        self._update(record, status="running", attempts=record.attempts)

    def step_done(self, record: Provisioning, step: str, details: dict[str, Any]) -> None:
        record.steps[step] = {**details, "at": utcnow_iso()}
        self._update(record, steps=json.dumps(record.steps))

    def step_failed(self, record: Provisioning, step: str, error: str) -> None:
        record.status, record.failed_step, record.error = "failed", step, error
        self._update(record, status="failed", failed_step=step, error=error)

    def finish(self, record: Provisioning) -> None:
        record.status, record.failed_step, record.error = "succeeded", "", ""
        self._update(record, status="succeeded", failed_step="", error="")
