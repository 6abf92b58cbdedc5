"""The audit log: one row per operation attempt, written before the call and completed after it.

Tamper evidence: the app only inserts rows and completes a `started` row once (triggers refuse any
other UPDATE and every DELETE). When a row reaches its outcome, a link is appended to
`audit_chain` holding the SHA-256 of the row's content and of the previous link, so an edited,
removed or re-ordered row breaks the chain (`projectops audit verify`).
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from bot.store.database import Database

OUTCOMES = ("started", "succeeded", "failed", "refused")
GENESIS = "0" * 64
HASHED_COLUMNS = ("id", "at", "team", "user", "channel", "surface", "operation", "target", "params", "risk",
                  "confirmed_by", "approved_by", "outcome", "error", "duration_ms", "request_id")


def row_hash(row: dict[str, Any]) -> str:
    canonical = json.dumps([row.get(c) for c in HASHED_COLUMNS], separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def utcnow_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


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


class AuditLog:
    """Append-oriented audit store. Thread-safe; each call is a short transaction."""

    def __init__(self, database: Database) -> None:
        self.database = database
        self._table = database.db.table("audit")

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
        with self.database.lock:
            row_id = self._table.insert(row).last_pk
        assert row_id is not None
        return int(row_id)

    def finish(
        self, row_id: int, outcome: str, *, error: str = "", duration_ms: int = 0, request_id: str = ""
    ) -> None:
        """Give a started row its outcome and append it to the hash chain (one transaction)."""
        if outcome not in OUTCOMES[1:]:
            raise ValueError(f"outcome must be one of {OUTCOMES[1:]}")
        with self.database.transaction() as db:
            cursor = db.execute(
                "UPDATE audit SET outcome = ?, error = ?, duration_ms = ?, request_id = ? "
                "WHERE id = ? AND outcome = 'started'",
                [outcome, error, duration_ms, request_id, row_id],
            )
            if cursor.rowcount != 1:
                raise ValueError(f"audit row {row_id} is not waiting for an outcome")
            row = self._table.get(row_id)
            last = db.execute("SELECT chain_hash FROM audit_chain ORDER BY seq DESC LIMIT 1").fetchone()
            digest = row_hash(row)
            chained = hashlib.sha256(((last[0] if last else GENESIS) + digest).encode()).hexdigest()
            db.execute(
                "INSERT INTO audit_chain (audit_id, row_hash, chain_hash) VALUES (?, ?, ?)", [row_id, digest, chained]
            )

    def record(self, entry: AuditEntry, outcome: str, error: str = "") -> int:
        """One complete row for an attempt that never reached a back end (refused, bad input)."""
        row_id = self.start(entry)
        self.finish(row_id, outcome, error=error)
        return row_id

    def verify(self) -> VerifyReport:
        """Recompute every completed row's hash and the chain; report each break."""
        problems: list[str] = []
        previous = GENESIS
        checked = 0
        with self.database.lock:
            links = list(self.database.db.execute(
                "SELECT seq, audit_id, row_hash, chain_hash FROM audit_chain ORDER BY seq"))
            rows = {r["id"]: r for r in self._table.rows}
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

    def get(self, row_id: int) -> dict[str, Any]:
        with self.database.lock:
            return dict(self._table.get(row_id))

    def query(self, q: AuditQuery) -> list[dict[str, Any]]:
        """Rows matching every filter given, newest first."""
        where: list[str] = []
        args: dict[str, Any] = {}
        for column in ("user", "target", "operation", "outcome"):
            value = getattr(q, column)
            if value:
                where.append(f"[{column}] = :{column}")
                args[column] = value
        if q.since:
            where.append("at >= :since")
            args["since"] = _iso(q.since)
        if q.until:
            where.append("at < :until")
            args["until"] = _iso(q.until)
        with self.database.lock:
            return list(self._table.rows_where(
                " and ".join(where) or None, args, order_by="id desc", limit=q.limit, offset=q.offset))

    def recent_same(self, entry: AuditEntry, within_seconds: float) -> dict[str, Any] | None:
        """The newest started or succeeded row for the same person, operation, target and params, if recent."""
        since = _iso(datetime.fromtimestamp(time.time() - within_seconds, UTC))
        params = json.dumps(entry.params, sort_keys=True, default=str)
        with self.database.lock:
            rows = list(self._table.rows_where(
                "user = ? AND operation = ? AND target = ? AND params = ? AND at >= ? "
                "AND outcome IN ('started', 'succeeded')",
                [entry.user, entry.operation, entry.target, params, since], order_by="id desc", limit=1))
        return rows[0] if rows else None

    def count(self) -> int:
        with self.database.lock:
            return self._table.count

