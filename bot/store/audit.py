"""The audit log: one row per operation attempt, written before the call and completed after it.

Tamper evidence: the app only inserts rows and completes a `started` row once (triggers refuse any
other UPDATE and every DELETE). When a row reaches its outcome, a link is appended to
`audit_chain` holding the SHA-256 of the row's content and of the previous link, so an edited,
removed or re-ordered row breaks the chain (`projectops audit verify`). Appending a link is serialized
(SQLite's write lock; an advisory transaction lock on PostgreSQL), so processes appending at once still make one
chain.

Idempotent creates: `start_once` starts a row only if the same person's same create is not running or done
within a window, decided by one claim row per request (a UNIQUE key), so two replicas cannot both start it.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from bot.store.database import Database, Session
from bot.store.errors import StoreError

OUTCOMES = ("started", "succeeded", "failed", "refused")
GENESIS = "0" * 64
#: The name under which appends to the chain are serialized.
CHAIN_LOCK = "projectops.audit_chain"
HASHED_COLUMNS = ("id", "at", "team", "user", "channel", "surface", "operation", "target", "params", "risk",
                  "confirmed_by", "approved_by", "outcome", "error", "duration_ms", "request_id")


COLUMNS = ", ".join(f'"{c}"' for c in HASHED_COLUMNS)


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
    #: leave out reads still in progress (`started`), such as the running `audit` itself
    without_running_reads: bool = False


def params_of(row_params: Any) -> dict[str, Any]:
    """An audit row's params as a dict (the store keeps them as JSON text; they were redacted before storing)."""
    if isinstance(row_params, dict):
        return row_params
    try:
        value = json.loads(row_params) if isinstance(row_params, str | bytes) and row_params else {}
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


class AuditLog:
    """Append-oriented audit store. Thread-safe; each call is a short transaction."""

    def __init__(self, database: Database) -> None:
        self.database = database

    @staticmethod
    def _row(entry: AuditEntry) -> list[Any]:
        return [utcnow_iso(), entry.team, entry.user, entry.channel, entry.surface, entry.operation, entry.target,
                json.dumps(entry.params, sort_keys=True, default=str), entry.risk, entry.confirmed_by,
                entry.approved_by]

    @staticmethod
    def _insert(session: Session, entry: AuditEntry) -> int:
        row = session.query_one(
            'INSERT INTO audit (at, team, "user", channel, surface, operation, target, params, risk, confirmed_by, '
            "approved_by, outcome, error, duration_ms, request_id) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'started', '', NULL, '') RETURNING id",
            AuditLog._row(entry))
        assert row is not None
        return int(row["id"])

    def start(self, entry: AuditEntry) -> int:
        """Write the row for an attempt that is about to run; returns its id."""
        return self._insert(self.database, entry)  # one statement: its own transaction

    def start_once(self, entry: AuditEntry, window_seconds: float) -> tuple[int | None, dict[str, Any] | None]:
        """Start the row for an idempotent create, unless the same one is running or done: atomically, everywhere.

        "The same" is the same operation, target and params, whoever asks and from wherever (two people creating
        one name at once make one project); "running or done" is an earlier row that
        started within `window_seconds` and is still `started` or `succeeded` (a failed or refused one frees the
        request at once). Returns `(row_id, None)` for the one caller that may go ahead (its row is started),
        `(None, earlier_row)` for everyone else. The claim is a row with a UNIQUE key, taken by an atomic UPSERT
        against the database's clock, so two processes or replicas asking at once cannot both go ahead.
        """
        params = json.dumps(entry.params, sort_keys=True, default=str)
        key = hashlib.sha256(json.dumps([entry.operation, entry.target, params]).encode()).hexdigest()
        now = self.database.now
        for _ in range(3):
            with self.database.transaction() as session:
                won = session.execute(
                    f"INSERT INTO create_claims (key, audit_id, expires_at) VALUES (?, NULL, {now} + ?) "
                    "ON CONFLICT (key) DO UPDATE SET audit_id = NULL, expires_at = excluded.expires_at "
                    f"WHERE create_claims.expires_at <= {now} OR EXISTS (SELECT 1 FROM audit "
                    "WHERE audit.id = create_claims.audit_id AND audit.outcome IN ('failed', 'refused'))",
                    [key, window_seconds]) == 1
                if won:
                    row_id = self._insert(session, entry)
                    session.execute("UPDATE create_claims SET audit_id = ? WHERE key = ?", [row_id, key])
                    return row_id, None
                earlier = session.query_one(
                    "SELECT audit.* FROM create_claims JOIN audit ON audit.id = create_claims.audit_id "
                    "WHERE create_claims.key = ?", [key])
            if earlier is not None:
                return None, earlier
        raise StoreError("could not claim the create: its earlier claim kept changing; try again")

    def finish(
        self, row_id: int, outcome: str, *, error: str = "", duration_ms: int = 0, request_id: str = ""
    ) -> None:
        """Give a started row its outcome and append it to the hash chain (one transaction)."""
        if outcome not in OUTCOMES[1:]:
            raise ValueError(f"outcome must be one of {OUTCOMES[1:]}")
        with self.database.transaction() as session:
            row = session.query_one(
                "UPDATE audit SET outcome = ?, error = ?, duration_ms = ?, request_id = ? "
                f"WHERE id = ? AND outcome = 'started' RETURNING {COLUMNS}",
                [outcome, error, duration_ms, request_id, row_id],
            )
            if row is None:
                raise ValueError(f"audit row {row_id} is not waiting for an outcome")
            session.serialize(CHAIN_LOCK)  # one appender at a time, in every process, until this commits
            last = session.query_one("SELECT chain_hash FROM audit_chain ORDER BY seq DESC LIMIT 1")
            digest = row_hash(row)
            chained = hashlib.sha256(((last["chain_hash"] if last else GENESIS) + digest).encode()).hexdigest()
            session.execute(
                "INSERT INTO audit_chain (audit_id, row_hash, chain_hash) VALUES (?, ?, ?)", [row_id, digest, chained]
            )

    def record(self, entry: AuditEntry, outcome: str, error: str = "") -> int:
        """One complete row for an attempt that never reached a back end (refused, bad input)."""
        row_id = self.start(entry)
        self.finish(row_id, outcome, error=error)
        return row_id

    def verify(self) -> VerifyReport:
        """Recompute every completed row's hash and the chain; report each break (one consistent snapshot)."""
        problems: list[str] = []
        previous = GENESIS
        checked = 0
        with self.database.transaction(readonly=True) as session:
            links = session.query("SELECT seq, audit_id, row_hash, chain_hash FROM audit_chain ORDER BY seq")
            rows = {r["id"]: r for r in session.query(f"SELECT {COLUMNS} FROM audit ORDER BY id")}
        chained_ids = set()
        for link in links:
            seq, audit_id, stored_row_hash, stored_chain = (
                link["seq"], link["audit_id"], link["row_hash"], link["chain_hash"])
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

    def get(self, row_id: int) -> dict[str, Any] | None:
        """The row `row_id`, or None when there is none."""
        return self.database.query_one(f"SELECT {COLUMNS} FROM audit WHERE id = ?", [row_id])

    def query(self, q: AuditQuery) -> list[dict[str, Any]]:
        """Rows matching every filter given, newest first."""
        where: list[str] = []
        args: list[Any] = []
        for column in ("user", "target", "operation", "outcome"):
            value = getattr(q, column)
            if value:
                where.append(f'"{column}" = ?')
                args.append(value)
        if q.since:
            where.append("at >= ?")
            args.append(_iso(q.since))
        if q.until:
            where.append("at < ?")
            args.append(_iso(q.until))
        if q.without_running_reads:
            where.append("NOT (outcome = 'started' AND risk = 'read')")
        sql = f"SELECT {COLUMNS} FROM audit"
        if where:
            sql += " WHERE " + " AND ".join(where)
        return self.database.query(sql + " ORDER BY id DESC LIMIT ? OFFSET ?", [*args, q.limit, q.offset])

    def recent_same(self, entry: AuditEntry, within_seconds: float) -> dict[str, Any] | None:
        """The newest started or succeeded row for the same person, operation, target and params, if recent.

        A read: two callers may both see None. To decide who goes ahead, use `start_once`.
        """
        since = _iso(datetime.fromtimestamp(time.time() - within_seconds, UTC))
        params = json.dumps(entry.params, sort_keys=True, default=str)
        return self.database.query_one(
            f'SELECT {COLUMNS} FROM audit WHERE "user" = ? AND operation = ? AND target = ? AND params = ? '
            "AND at >= ? AND outcome IN ('started', 'succeeded') ORDER BY id DESC LIMIT 1",
            [entry.user, entry.operation, entry.target, params, since])

    def count(self) -> int:
        row = self.database.query_one("SELECT count(*) AS n FROM audit")
        return int(row["n"]) if row else 0
