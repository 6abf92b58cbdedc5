"""Every table of the projectops database, as one numbered list of migrations, each for both databases.

A migration is written twice, once per dialect: for SQLite (through sqlite-utils; the number is kept in
`PRAGMA user_version`) and for PostgreSQL (plain DDL; the number is kept in the `schema_version` table). Both
give the same tables, columns and constraints, so the stores' SQL runs on either.

Append only: a released migration never changes. SQLite databases made before the store was one package (at
user_version 4) may already hold the digest, pacing and provisioning tables, which were then created on the
fly: migrations 5-7 therefore create with IF NOT EXISTS and add any column an older table lacks. PostgreSQL
databases have no such past.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import sqlite_utils


@dataclass(frozen=True)
class Migration:
    name: str
    sqlite: Callable[[sqlite_utils.Database], None]
    postgres: str  # DDL, several statements allowed


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


def _8_leases(db: sqlite_utils.Database) -> None:
    """Named leases (one scheduler leader among replicas), timed on the database's clock (bot/store/leases.py)."""
    db.execute("CREATE TABLE IF NOT EXISTS leases (name TEXT PRIMARY KEY, holder TEXT NOT NULL, "
               "token INTEGER NOT NULL, acquired_at REAL NOT NULL, expires_at REAL NOT NULL)")


def _9_create_claims(db: sqlite_utils.Database) -> None:
    """Idempotent creates: one claim per (person, operation, target, params) while its window lasts."""
    db.execute("CREATE TABLE IF NOT EXISTS create_claims (key TEXT PRIMARY KEY, audit_id INTEGER, "
               "expires_at REAL NOT NULL)")
    db.execute("CREATE INDEX IF NOT EXISTS idx_seen_deliveries_at ON seen_deliveries (at)")


def _10_confirmations(db: sqlite_utils.Database) -> None:
    """What a Confirm button or typed-name form stands for, kept here under an opaque id (bot/store/confirmations.py):
    buttons and form metadata carry only the id, never the command, the requester or where to reply."""
    db.execute("CREATE TABLE IF NOT EXISTS confirmations (id TEXT PRIMARY KEY, command TEXT NOT NULL, "
               "requester TEXT NOT NULL, team TEXT, channel TEXT, surface TEXT, response_url TEXT, "
               "created_at REAL NOT NULL, expires_at REAL NOT NULL, used_at REAL)")


# -- PostgreSQL: the same tables. Text columns stay text (audit times are the app's ISO strings, hashed as they
# are stored); REAL is double precision; integer keys are 64-bit identities.

_PG_1_AUDIT = """
CREATE TABLE audit (id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, at TEXT NOT NULL, team TEXT,
    "user" TEXT NOT NULL, channel TEXT, surface TEXT NOT NULL, operation TEXT NOT NULL, target TEXT, params TEXT,
    risk TEXT, confirmed_by TEXT, approved_by TEXT, outcome TEXT NOT NULL, error TEXT, duration_ms BIGINT,
    request_id TEXT);
CREATE INDEX idx_audit_user_at ON audit ("user", at);
CREATE INDEX idx_audit_target_at ON audit (target, at);
CREATE INDEX idx_audit_at ON audit (at);
CREATE INDEX idx_audit_operation_at ON audit (operation, at);
"""

_PG_2_SEEN_DELIVERIES = "CREATE TABLE seen_deliveries (key TEXT PRIMARY KEY, at DOUBLE PRECISION);"

_PG_3_AUDIT_CHAIN = """
CREATE TABLE audit_chain (seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, audit_id BIGINT NOT NULL UNIQUE,
    row_hash TEXT NOT NULL, chain_hash TEXT NOT NULL);
CREATE FUNCTION audit_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' THEN
        IF OLD.outcome = 'started' THEN
            RETURN NEW;
        END IF;
        RAISE EXCEPTION 'a completed audit row cannot change';
    END IF;
    RAISE EXCEPTION 'the audit log is append-only';
END $$;
CREATE FUNCTION audit_chain_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the audit chain is append-only';
END $$;
CREATE TRIGGER audit_guard BEFORE UPDATE OR DELETE ON audit FOR EACH ROW EXECUTE FUNCTION audit_guard();
CREATE TRIGGER audit_no_truncate BEFORE TRUNCATE ON audit FOR EACH STATEMENT EXECUTE FUNCTION audit_guard();
CREATE TRIGGER audit_chain_guard BEFORE UPDATE OR DELETE ON audit_chain
    FOR EACH ROW EXECUTE FUNCTION audit_chain_guard();
CREATE TRIGGER audit_chain_no_truncate BEFORE TRUNCATE ON audit_chain
    FOR EACH STATEMENT EXECUTE FUNCTION audit_chain_guard();
"""

_PG_4_APPROVALS = """
CREATE TABLE approvals (id TEXT PRIMARY KEY, operation TEXT, command TEXT, target TEXT, requester TEXT, team TEXT,
    channel TEXT, request_channel TEXT, message_ts TEXT, impact TEXT, status TEXT, created_at DOUBLE PRECISION,
    expires_at DOUBLE PRECISION, decided_by TEXT, decided_at DOUBLE PRECISION, result TEXT);
CREATE INDEX idx_approvals_status_expires_at ON approvals (status, expires_at);
"""

_PG_5_DIGESTS = """
CREATE TABLE digest_subscriptions (id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, kind TEXT NOT NULL,
    channel TEXT NOT NULL, targets TEXT, schedule TEXT NOT NULL, tz TEXT NOT NULL, created_by TEXT, created_at TEXT,
    next_run TEXT, last_run TEXT, threshold INTEGER, failing INTEGER);
CREATE TABLE digest_figures (subscription BIGINT PRIMARY KEY, at TEXT, figures TEXT);
CREATE TABLE digest_alerts (key TEXT PRIMARY KEY, channel TEXT, subject TEXT, raised_at TEXT, cleared_at TEXT);
CREATE TABLE digest_leases (key TEXT PRIMARY KEY, holder TEXT, at TEXT);
"""

_PG_6_CHANNEL_PACING = "CREATE TABLE channel_pacing (channel TEXT PRIMARY KEY, next_at DOUBLE PRECISION);"

_PG_7_PROVISIONING = """
CREATE TABLE provisioning (id TEXT PRIMARY KEY, kind TEXT, target TEXT, requested_by TEXT, plan TEXT, status TEXT,
    steps TEXT, failed_step TEXT, error TEXT, attempts INTEGER, created_at TEXT, updated_at TEXT, name TEXT);
CREATE INDEX idx_provisioning_target_name ON provisioning (target, name);
"""

_PG_8_LEASES = """
CREATE TABLE leases (name TEXT PRIMARY KEY, holder TEXT NOT NULL, token BIGINT NOT NULL,
    acquired_at DOUBLE PRECISION NOT NULL, expires_at DOUBLE PRECISION NOT NULL);
"""

_PG_9_CREATE_CLAIMS = """
CREATE TABLE create_claims (key TEXT PRIMARY KEY, audit_id BIGINT, expires_at DOUBLE PRECISION NOT NULL);
CREATE INDEX idx_seen_deliveries_at ON seen_deliveries (at);
"""

_PG_10_CONFIRMATIONS = """
CREATE TABLE confirmations (id TEXT PRIMARY KEY, command TEXT NOT NULL, requester TEXT NOT NULL, team TEXT,
    channel TEXT, surface TEXT, response_url TEXT, created_at DOUBLE PRECISION NOT NULL,
    expires_at DOUBLE PRECISION NOT NULL, used_at DOUBLE PRECISION);
"""

MIGRATIONS: list[Migration] = [
    Migration("audit", _1_audit, _PG_1_AUDIT),
    Migration("seen_deliveries", _2_seen_deliveries, _PG_2_SEEN_DELIVERIES),
    Migration("audit_chain", _3_audit_chain, _PG_3_AUDIT_CHAIN),
    Migration("approvals", _4_approvals, _PG_4_APPROVALS),
    Migration("digests", _5_digests, _PG_5_DIGESTS),
    Migration("channel_pacing", _6_channel_pacing, _PG_6_CHANNEL_PACING),
    Migration("provisioning", _7_provisioning, _PG_7_PROVISIONING),
    Migration("leases", _8_leases, _PG_8_LEASES),
    Migration("create_claims", _9_create_claims, _PG_9_CREATE_CLAIMS),
    Migration("confirmations", _10_confirmations, _PG_10_CONFIRMATIONS),
]
