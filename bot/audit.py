"""SQLite audit log: one row per operation attempt, written before the call and completed after it.

Schema changes are numbered migrations tracked in `PRAGMA user_version`.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlite_utils

OUTCOMES = ("started", "succeeded", "failed", "refused")


def _migrate_1(db: sqlite_utils.Database) -> None:
    db["audit"].create(
        {
            "id": int,
            "at": str,
            "team": str,
            "user": str,
            "channel": str,
            "surface": str,
            "operation": str,
            "target": str,
            "params": str,
            "risk": str,
            "confirmed_by": str,
            "approved_by": str,
            "outcome": str,
            "error": str,
            "duration_ms": int,
            "request_id": str,
        },
        pk="id",
        not_null={"at", "user", "operation", "outcome", "surface"},
    )
    db["audit"].create_index(["user", "at"])
    db["audit"].create_index(["target", "at"])
    db["audit"].create_index(["at"])
    db["audit"].create_index(["operation", "at"])


def _migrate_2(db: sqlite_utils.Database) -> None:
    """Slack deliveries already handled (event ids, retried interactions): dedupe across restarts."""
    db["seen_deliveries"].create({"key": str, "at": float}, pk="key")


MIGRATIONS: list[Callable[[sqlite_utils.Database], None]] = [_migrate_1, _migrate_2]


@dataclass
class AuditEntry:
    user: str
    operation: str
    surface: str
    team: str = ""
    channel: str = ""
    target: str = ""
    params: dict[str, Any] = field(default_factory=dict)
    risk: str = "read"
    confirmed_by: str = ""
    approved_by: str = ""


@dataclass
class AuditQuery:
    user: str | None = None
    target: str | None = None
    operation: str | None = None
    outcome: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    limit: int = 10
    offset: int = 0


def utcnow_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class AuditLog:
    """Append-oriented audit store. Thread-safe; each call is a short transaction."""

    def __init__(self, path: Path | str) -> None:
        self.path = str(path)
        conn = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self.db = sqlite_utils.Database(conn)
        self._lock = threading.Lock()
        if self.path != ":memory:":
            self.db.enable_wal()
        self.db.execute("PRAGMA busy_timeout = 5000")
        self.db.execute("PRAGMA synchronous = NORMAL")  # durable with WAL, without an fsync per row
        self._migrate()

    def _migrate(self) -> None:
        with self._lock:
            version = self.db.execute("PRAGMA user_version").fetchone()[0]
            for number, migration in enumerate(MIGRATIONS, start=1):
                if number > version:
                    with self.db.conn:
                        migration(self.db)
                        self.db.execute(f"PRAGMA user_version = {number}")

    @property
    def schema_version(self) -> int:
        return self.db.execute("PRAGMA user_version").fetchone()[0]

    def start(self, entry: AuditEntry) -> int:
        """Write the row for an attempt that is about to run; returns its id."""
        row = {
            "at": utcnow_iso(),
            "team": entry.team,
            "user": entry.user,
            "channel": entry.channel,
            "surface": entry.surface,
            "operation": entry.operation,
            "target": entry.target,
            "params": json.dumps(entry.params, sort_keys=True, default=str),
            "risk": entry.risk,
            "confirmed_by": entry.confirmed_by,
            "approved_by": entry.approved_by,
            "outcome": "started",
            "error": "",
            "duration_ms": None,
            "request_id": "",
        }
        with self._lock:
            return int(self.db["audit"].insert(row).last_pk)

    def finish(
        self, row_id: int, outcome: str, *, error: str = "", duration_ms: int = 0, request_id: str = ""
    ) -> None:
        if outcome not in OUTCOMES[1:]:
            raise ValueError(f"outcome must be one of {OUTCOMES[1:]}")
        with self._lock:
            self.db["audit"].update(
                row_id,
                {"outcome": outcome, "error": error, "duration_ms": duration_ms, "request_id": request_id},
            )

    def record(self, entry: AuditEntry, outcome: str, error: str = "") -> int:
        """One complete row for an attempt that never reached a back end (refused, bad input)."""
        row_id = self.start(entry)
        self.finish(row_id, outcome, error=error)
        return row_id

    def get(self, row_id: int) -> dict[str, Any]:
        return self.db["audit"].get(row_id)

    def query(self, q: AuditQuery) -> list[dict[str, Any]]:
        where, args = [], {}
        for column in ("user", "target", "operation", "outcome"):
            value = getattr(q, column)
            if value:
                where.append(f"[{column}] = :{column}")
                args[column] = value
        if q.since:
            where.append("at >= :since")
            args["since"] = q.since.astimezone(UTC).isoformat().replace("+00:00", "Z")
        if q.until:
            where.append("at < :until")
            args["until"] = q.until.astimezone(UTC).isoformat().replace("+00:00", "Z")
        with self._lock:
            return list(
                self.db["audit"].rows_where(
                    " and ".join(where) or None,
                    args,
                    order_by="id desc",
                    limit=q.limit,
                    offset=q.offset,
                )
            )

    def count(self) -> int:
        return self.db["audit"].count

    def first_delivery(self, key: str, ttl_seconds: float = 3600) -> bool:
        """True the first time `key` is seen (within ttl); False for a redelivery or a duplicate click."""
        now = time.time()
        with self._lock:
            self.db.execute("DELETE FROM seen_deliveries WHERE at < ?", [now - ttl_seconds])
            cursor = self.db.execute(
                "INSERT OR IGNORE INTO seen_deliveries (key, at) VALUES (?, ?)", [key, now]
            )
            return cursor.rowcount == 1

    def close(self) -> None:
        self.db.conn.close()
