"""Digest subscriptions, last-digest figures, alert state and run leases, in the projectops SQLite file."""

from __future__ import annotations

import json
import sqlite3
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlite_utils

KINDS = ("job-health", "storage", "all")


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds")


def parse_iso(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


@dataclass
class Subscription:
    id: int
    kind: str
    channel: str
    schedule: str
    tz: str
    targets: list[str] = field(default_factory=list)
    created_by: str = ""
    created_at: str = ""
    next_run: str | None = None
    last_run: str | None = None
    threshold: int | None = None  # storage percent flagged in this digest; None: the config's default
    failing: bool = False  # the last run could not post (the subscriber has been told once)

    @property
    def kinds(self) -> set[str]:
        return {"job-health", "storage"} if self.kind == "all" else {self.kind}

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> Subscription:
        return cls(
            id=row["id"], kind=row["kind"], channel=row["channel"], schedule=row["schedule"], tz=row["tz"],
            targets=json.loads(row["targets"] or "[]"), created_by=row["created_by"] or "",
            created_at=row["created_at"] or "", next_run=row["next_run"], last_run=row["last_run"],
            threshold=row.get("threshold"), failing=bool(row.get("failing")),
        )


class DigestStore:
    """Thread-safe; every call is one short transaction. Several processes may share the file."""

    def __init__(self, db: sqlite_utils.Database, lock: threading.RLock | None = None) -> None:
        self.db = db
        self.lock = lock or threading.RLock()
        self._create()

    @classmethod
    def open(cls, path: str | Path) -> DigestStore:
        conn = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        conn.execute("PRAGMA busy_timeout = 5000")
        return cls(sqlite_utils.Database(conn))

    @classmethod
    def for_services(cls, services: Any) -> DigestStore:
        """The store on the audit database (`services.audit.path`), created once per Services."""
        store = getattr(services, "_digest_store", None)
        if store is None:
            audit = services.audit
            store = cls(audit.db, getattr(audit, "lock", None))
            services._digest_store = store
        return store

    def _create(self) -> None:
        with self.lock:
            self.db.execute(
                "CREATE TABLE IF NOT EXISTS digest_subscriptions (id INTEGER PRIMARY KEY AUTOINCREMENT, "
                "kind TEXT NOT NULL, channel TEXT NOT NULL, targets TEXT, schedule TEXT NOT NULL, tz TEXT NOT NULL, "
                "created_by TEXT, created_at TEXT, next_run TEXT, last_run TEXT)"
            )
            self.db.execute(
                "CREATE TABLE IF NOT EXISTS digest_figures (subscription INTEGER PRIMARY KEY, at TEXT, figures TEXT)"
            )
            self.db.execute(
                "CREATE TABLE IF NOT EXISTS digest_alerts (key TEXT PRIMARY KEY, channel TEXT, subject TEXT, "
                "raised_at TEXT, cleared_at TEXT)"
            )
            self.db.execute("CREATE TABLE IF NOT EXISTS digest_leases (key TEXT PRIMARY KEY, holder TEXT, at TEXT)")
            for column in ("threshold", "failing"):  # added after the first release
                self._add_column("digest_subscriptions", column, "INTEGER")

    def _add_column(self, table: str, column: str, kind: str) -> None:
        if column in self.db[table].columns_dict:
            return
        try:
            self.db.execute(f"ALTER TABLE {table} ADD COLUMN {column} {kind}")
        except sqlite3.OperationalError as exc:  # another process added it first
            if "duplicate column" not in str(exc):
                raise

    # ------------------------------------------------------------ subscriptions

    def add(self, kind: str, channel: str, schedule: str, tz: str, targets: list[str], created_by: str,
            next_run: datetime, now: datetime, threshold: int | None = None) -> Subscription:
        with self.lock:
            cursor = self.db.execute(
                "INSERT INTO digest_subscriptions (kind, channel, targets, schedule, tz, created_by, created_at, "
                "next_run, threshold) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [kind, channel, json.dumps(targets), schedule, tz, created_by, iso(now), iso(next_run), threshold],
            )
            return self.get(cursor.lastrowid)  # type: ignore[return-value]

    def get(self, sub_id: int) -> Subscription | None:
        with self.lock:
            rows = list(self.db.query("SELECT * FROM digest_subscriptions WHERE id = ?", [sub_id]))
        return Subscription.from_row(rows[0]) if rows else None

    def list(self, channel: str | None = None) -> list[Subscription]:
        sql, args = "SELECT * FROM digest_subscriptions", []
        if channel:
            sql, args = sql + " WHERE channel = ?", [channel]
        with self.lock:
            return [Subscription.from_row(r) for r in self.db.query(sql + " ORDER BY id", args)]

    def remove(self, sub_id: int) -> bool:
        with self.lock:
            cursor = self.db.execute("DELETE FROM digest_subscriptions WHERE id = ?", [sub_id])
            self.db.execute("DELETE FROM digest_figures WHERE subscription = ?", [sub_id])
        return cursor.rowcount > 0

    def mark_failing(self, sub_id: int, failing: bool) -> bool:
        """Record whether runs fail; True when that changed (tell the subscriber once, not every run)."""
        with self.lock:
            cursor = self.db.execute(
                "UPDATE digest_subscriptions SET failing = ? WHERE id = ? AND coalesce(failing, 0) != ?",
                [int(failing), sub_id, int(failing)],
            )
        return cursor.rowcount == 1

    def due(self, now: datetime) -> list[Subscription]:
        with self.lock:
            rows = self.db.query(
                "SELECT * FROM digest_subscriptions WHERE next_run IS NOT NULL AND next_run <= ? ORDER BY id",
                [iso(now)],
            )
            return [Subscription.from_row(r) for r in rows]

    def claim_run(self, sub: Subscription, next_run: datetime, now: datetime, holder: str) -> bool:
        """Move the subscription's next run forward, once: True for the one process whose lease row wins."""
        key = f"run:{sub.id}:{sub.next_run}"
        if not self.lease(key, holder, now):
            return False
        with self.lock:
            self.db.execute(
                "UPDATE digest_subscriptions SET next_run = ?, last_run = ? WHERE id = ? AND next_run IS ?",
                [iso(next_run), iso(now), sub.id, sub.next_run],
            )
        return True

    def lease(self, key: str, holder: str, now: datetime) -> bool:
        """Insert the lease row `key`; True only for the first holder that asks."""
        with self.lock:
            cursor = self.db.execute(
                "INSERT OR IGNORE INTO digest_leases (key, holder, at) VALUES (?, ?, ?)", [key, holder, iso(now)]
            )
        return cursor.rowcount == 1

    # ------------------------------------------------------------ figures

    def figures(self, sub_id: int) -> tuple[datetime | None, dict[str, Any]]:
        """When the last digest of this subscription ran, and the figures it recorded."""
        with self.lock:
            rows = list(self.db.query("SELECT at, figures FROM digest_figures WHERE subscription = ?", [sub_id]))
        if not rows:
            return None, {}
        return parse_iso(rows[0]["at"]), json.loads(rows[0]["figures"] or "{}")

    def save_figures(self, sub_id: int, at: datetime, figures: dict[str, Any]) -> None:
        with self.lock:
            self.db.execute(
                "INSERT OR REPLACE INTO digest_figures (subscription, at, figures) VALUES (?, ?, ?)",
                [sub_id, iso(at), json.dumps(figures)],
            )

    # ------------------------------------------------------------ alerts

    def raise_alert(self, key: str, channel: str, subject: str, now: datetime) -> bool:
        """Record an alert as active; True when it was not active already (post it), False otherwise."""
        with self.lock:
            cursor = self.db.execute(
                "INSERT INTO digest_alerts (key, channel, subject, raised_at, cleared_at) VALUES (?, ?, ?, ?, NULL) "
                "ON CONFLICT(key) DO UPDATE SET raised_at = excluded.raised_at, cleared_at = NULL "
                "WHERE digest_alerts.cleared_at IS NOT NULL",
                [key, channel, subject, iso(now)],
            )
        return cursor.rowcount == 1

    def clear_alert(self, key: str, now: datetime) -> bool:
        """Mark an active alert recovered; True when it was active."""
        with self.lock:
            cursor = self.db.execute(
                "UPDATE digest_alerts SET cleared_at = ? WHERE key = ? AND cleared_at IS NULL", [iso(now), key]
            )
        return cursor.rowcount == 1

    def active_alerts(self) -> list[dict[str, Any]]:
        with self.lock:
            return list(self.db.query("SELECT * FROM digest_alerts WHERE cleared_at IS NULL ORDER BY key"))
