"""SQLite audit log: one row per operation attempt, written before the call and completed after it.

Schema changes are numbered migrations tracked in `PRAGMA user_version`.

Tamper evidence: the app only inserts rows and completes a `started` row once (triggers refuse any
other UPDATE and every DELETE). When a row reaches its outcome, a link is appended to
`audit_chain` holding the SHA-256 of the row's content and of the previous link, so an edited,
removed or re-ordered row breaks the chain (`projectops audit verify`).
"""

from __future__ import annotations

import hashlib
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


def _migrate_3(db: sqlite_utils.Database) -> None:
    """Append-only guards and the hash chain."""
    db["audit_chain"].create({"seq": int, "audit_id": int, "row_hash": str, "chain_hash": str}, pk="seq")
    db["audit_chain"].create_index(["audit_id"], unique=True)
    db.execute("""CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit
                  BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END""")
    db.execute("""CREATE TRIGGER audit_complete_once BEFORE UPDATE ON audit WHEN OLD.outcome != 'started'
                  BEGIN SELECT RAISE(ABORT, 'a completed audit row cannot change'); END""")
    db.execute("""CREATE TRIGGER audit_chain_no_update BEFORE UPDATE ON audit_chain
                  BEGIN SELECT RAISE(ABORT, 'the audit chain is append-only'); END""")
    db.execute("""CREATE TRIGGER audit_chain_no_delete BEFORE DELETE ON audit_chain
                  BEGIN SELECT RAISE(ABORT, 'the audit chain is append-only'); END""")


def _migrate_4(db: sqlite_utils.Database) -> None:
    """Destructive requests waiting for a second person (bot/approvals.py)."""
    db["approvals"].create(
        {"id": str, "operation": str, "command": str, "target": str, "requester": str, "team": str,
         "channel": str, "request_channel": str, "message_ts": str, "impact": str, "status": str,
         "created_at": float, "expires_at": float, "decided_by": str, "decided_at": float, "result": str},
        pk="id",
    )
    db["approvals"].create_index(["status", "expires_at"])


MIGRATIONS: list[Callable[[sqlite_utils.Database], None]] = [_migrate_1, _migrate_2, _migrate_3, _migrate_4]
GENESIS = "0" * 64
HASHED_COLUMNS = ("id", "at", "team", "user", "channel", "surface", "operation", "target", "params", "risk",
                  "confirmed_by", "approved_by", "outcome", "error", "duration_ms", "request_id")


def row_hash(row: dict[str, Any]) -> str:
    canonical = json.dumps([row.get(c) for c in HASHED_COLUMNS], separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


@dataclass
class VerifyReport:
    ok: bool
    checked: int
    problems: list[str] = field(default_factory=list)


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
        self._lock = threading.RLock()
        self.lock = self._lock  # shared with stores that live in the same database
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
        with self._lock, self.db.conn:
            cursor = self.db.execute(
                "UPDATE audit SET outcome = ?, error = ?, duration_ms = ?, request_id = ? "
                "WHERE id = ? AND outcome = 'started'",
                [outcome, error, duration_ms, request_id, row_id],
            )
            if cursor.rowcount != 1:
                raise ValueError(f"audit row {row_id} is not waiting for an outcome")
            self._chain(row_id)

    def _chain(self, row_id: int) -> None:
        """Append the completed row to the hash chain (caller holds the lock, inside a transaction)."""
        row = self.db["audit"].get(row_id)
        last = self.db.execute("SELECT chain_hash FROM audit_chain ORDER BY seq DESC LIMIT 1").fetchone()
        digest = row_hash(row)
        chained = hashlib.sha256(((last[0] if last else GENESIS) + digest).encode()).hexdigest()
        self.db.execute(
            "INSERT INTO audit_chain (audit_id, row_hash, chain_hash) VALUES (?, ?, ?)", [row_id, digest, chained]
        )

    def verify(self) -> VerifyReport:
        """Recompute every completed row's hash and the chain; report each break."""
        problems: list[str] = []
        previous = GENESIS
        checked = 0
        with self._lock:
            links = list(self.db.execute("SELECT seq, audit_id, row_hash, chain_hash FROM audit_chain ORDER BY seq"))
            rows = {r["id"]: r for r in self.db["audit"].rows}
        chained_ids = set()
        for seq, audit_id, stored_row_hash, stored_chain in links:
            checked += 1
            chained_ids.add(audit_id)
            row = rows.get(audit_id)
            if row is None:
                problems.append(f"audit row #{audit_id} is missing (chain link {seq})")
            elif row_hash(row) != stored_row_hash:
                problems.append(f"audit row #{audit_id} was changed after it was written")
            expected = hashlib.sha256((previous + stored_row_hash).encode()).hexdigest()
            if expected != stored_chain:
                problems.append(f"chain link {seq} (row #{audit_id}) does not follow from the one before")
            previous = stored_chain
        for row_id, row in rows.items():
            if row["outcome"] != "started" and row_id not in chained_ids:
                problems.append(f"audit row #{row_id} has an outcome but is not in the chain")
        return VerifyReport(ok=not problems, checked=checked, problems=problems)

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

    def recent_same(self, entry: AuditEntry, within_seconds: float) -> dict[str, Any] | None:
        """The newest started or succeeded row for the same person, operation, target and params, if recent."""
        since = datetime.fromtimestamp(time.time() - within_seconds, UTC).isoformat().replace("+00:00", "Z")
        params = json.dumps(entry.params, sort_keys=True, default=str)
        with self._lock:
            rows = list(self.db["audit"].rows_where(
                "user = ? AND operation = ? AND target = ? AND params = ? AND at >= ? "
                "AND outcome IN ('started', 'succeeded')",
                [entry.user, entry.operation, entry.target, params, since], order_by="id desc", limit=1))
        return rows[0] if rows else None

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
