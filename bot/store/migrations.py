"""Every table of the projectops database, as one numbered list of migrations (`PRAGMA user_version`).

Append only: a released migration never changes. Databases made before the store was one package (at
user_version 4) may already hold the digest, pacing and provisioning tables, which were then created on the
fly: migrations 5-7 therefore create with IF NOT EXISTS and add any column an older table lacks.
"""

from __future__ import annotations

from collections.abc import Callable

import sqlite_utils

Migration = Callable[[sqlite_utils.Database], None]


def add_missing_columns(db: sqlite_utils.Database, table: str, columns: dict[str, str]) -> None:
    have = set(db.table(table).columns_dict)
    for column, kind in columns.items():
        if column not in have:
            db.execute(f"ALTER TABLE [{table}] ADD COLUMN [{column}] {kind}")


def _1_audit(db: sqlite_utils.Database) -> None:
    """One row per operation attempt (bot/store/audit.py)."""
    db.table("audit").create(
        {"id": int, "at": str, "team": str, "user": str, "channel": str, "surface": str, "operation": str,
         "target": str, "params": str, "risk": str, "confirmed_by": str, "approved_by": str, "outcome": str,
         "error": str, "duration_ms": int, "request_id": str},
        pk="id",
        not_null={"at", "user", "operation", "outcome", "surface"},
    )
    for columns in (["user", "at"], ["target", "at"], ["at"], ["operation", "at"]):
        db.table("audit").create_index(columns)


def _2_seen_deliveries(db: sqlite_utils.Database) -> None:
    """Slack deliveries already handled (event ids, retried interactions): dedupe across restarts."""
    db.table("seen_deliveries").create({"key": str, "at": float}, pk="key")


def _3_audit_chain(db: sqlite_utils.Database) -> None:
    """Append-only guards on the audit log and its hash chain."""
    db.table("audit_chain").create({"seq": int, "audit_id": int, "row_hash": str, "chain_hash": str}, pk="seq")
    db.table("audit_chain").create_index(["audit_id"], unique=True)
    db.execute("""CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit
                  BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END""")
    db.execute("""CREATE TRIGGER audit_complete_once BEFORE UPDATE ON audit WHEN OLD.outcome != 'started'
                  BEGIN SELECT RAISE(ABORT, 'a completed audit row cannot change'); END""")
    db.execute("""CREATE TRIGGER audit_chain_no_update BEFORE UPDATE ON audit_chain
                  BEGIN SELECT RAISE(ABORT, 'the audit chain is append-only'); END""")
    db.execute("""CREATE TRIGGER audit_chain_no_delete BEFORE DELETE ON audit_chain
                  BEGIN SELECT RAISE(ABORT, 'the audit chain is append-only'); END""")


def _4_approvals(db: sqlite_utils.Database) -> None:
    """Destructive requests waiting for a second person (bot/store/approvals.py)."""
    db.table("approvals").create(
        {"id": str, "operation": str, "command": str, "target": str, "requester": str, "team": str,
         "channel": str, "request_channel": str, "message_ts": str, "impact": str, "status": str,
         "created_at": float, "expires_at": float, "decided_by": str, "decided_at": float, "result": str},
        pk="id",
    )
    db.table("approvals").create_index(["status", "expires_at"])


def _5_digests(db: sqlite_utils.Database) -> None:
    """Digest subscriptions, the figures of each one's last digest, alert state and run leases."""
    db.execute(
        "CREATE TABLE IF NOT EXISTS digest_subscriptions (id INTEGER PRIMARY KEY AUTOINCREMENT, "
        "kind TEXT NOT NULL, channel TEXT NOT NULL, targets TEXT, schedule TEXT NOT NULL, tz TEXT NOT NULL, "
        "created_by TEXT, created_at TEXT, next_run TEXT, last_run TEXT, threshold INTEGER, failing INTEGER)"
    )
    add_missing_columns(db, "digest_subscriptions", {"threshold": "INTEGER", "failing": "INTEGER"})
    db.execute("CREATE TABLE IF NOT EXISTS digest_figures (subscription INTEGER PRIMARY KEY, at TEXT, figures TEXT)")
    db.execute(
        "CREATE TABLE IF NOT EXISTS digest_alerts (key TEXT PRIMARY KEY, channel TEXT, subject TEXT, "
        "raised_at TEXT, cleared_at TEXT)"
    )
    db.execute("CREATE TABLE IF NOT EXISTS digest_leases (key TEXT PRIMARY KEY, holder TEXT, at TEXT)")


def _6_channel_pacing(db: sqlite_utils.Database) -> None:
    """The next free posting slot of each channel, shared by every process on the database."""
    db.execute("CREATE TABLE IF NOT EXISTS channel_pacing (channel TEXT PRIMARY KEY, next_at REAL)")


def _7_provisioning(db: sqlite_utils.Database) -> None:
    """Multi-step provisioning records (which steps finished, which failed), so a run can resume."""
    db.execute(
        "CREATE TABLE IF NOT EXISTS provisioning (id TEXT PRIMARY KEY, kind TEXT, target TEXT, requested_by TEXT, "
        "plan TEXT, status TEXT, steps TEXT, failed_step TEXT, error TEXT, attempts INTEGER, created_at TEXT, "
        "updated_at TEXT, name TEXT)"
    )
    add_missing_columns(db, "provisioning", {"name": "TEXT"})
    db.execute("CREATE INDEX IF NOT EXISTS idx_provisioning_target_name ON provisioning (target, name)")


MIGRATIONS: list[Migration] = [
    _1_audit, _2_seen_deliveries, _3_audit_chain, _4_approvals, _5_digests, _6_channel_pacing, _7_provisioning,
]
