"""One store: one connection, one migration list for every table, upgrades from today's databases."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.store import Store
from bot.store.approvals import APPROVED, EXPIRED, PENDING, REJECTED
from bot.store.migrations import MIGRATIONS

TABLES = {"audit", "audit_chain", "seen_deliveries", "approvals", "digest_subscriptions", "digest_figures",
          "digest_alerts", "digest_leases", "channel_pacing", "provisioning"}
T0 = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)

# A database as the code before bot/store left it: audit migrations 1-4 in user_version, the other tables made
# on the fly with CREATE TABLE IF NOT EXISTS (digest subscriptions from before `threshold` and `failing`).
VERSION_4 = """
CREATE TABLE "audit" ("id" INTEGER PRIMARY KEY, "at" TEXT NOT NULL, "team" TEXT, "user" TEXT NOT NULL,
    "channel" TEXT, "surface" TEXT NOT NULL, "operation" TEXT NOT NULL, "target" TEXT, "params" TEXT, "risk" TEXT,
    "confirmed_by" TEXT, "approved_by" TEXT, "outcome" TEXT NOT NULL, "error" TEXT, "duration_ms" INTEGER,
    "request_id" TEXT);
CREATE INDEX "idx_audit_user_at" ON "audit" ("user", "at");
CREATE INDEX "idx_audit_target_at" ON "audit" ("target", "at");
CREATE INDEX "idx_audit_at" ON "audit" ("at");
CREATE INDEX "idx_audit_operation_at" ON "audit" ("operation", "at");
CREATE TABLE "seen_deliveries" ("key" TEXT PRIMARY KEY, "at" REAL);
CREATE TABLE "audit_chain" ("seq" INTEGER PRIMARY KEY, "audit_id" INTEGER, "row_hash" TEXT, "chain_hash" TEXT);
CREATE UNIQUE INDEX "idx_audit_chain_audit_id" ON "audit_chain" ("audit_id");
CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit
    BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER audit_complete_once BEFORE UPDATE ON audit WHEN OLD.outcome != 'started'
    BEGIN SELECT RAISE(ABORT, 'a completed audit row cannot change'); END;
CREATE TRIGGER audit_chain_no_update BEFORE UPDATE ON audit_chain
    BEGIN SELECT RAISE(ABORT, 'the audit chain is append-only'); END;
CREATE TRIGGER audit_chain_no_delete BEFORE DELETE ON audit_chain
    BEGIN SELECT RAISE(ABORT, 'the audit chain is append-only'); END;
CREATE TABLE "approvals" ("id" TEXT PRIMARY KEY, "operation" TEXT, "command" TEXT, "target" TEXT,
    "requester" TEXT, "team" TEXT, "channel" TEXT, "request_channel" TEXT, "message_ts" TEXT, "impact" TEXT,
    "status" TEXT, "created_at" REAL, "expires_at" REAL, "decided_by" TEXT, "decided_at" REAL, "result" TEXT);
CREATE INDEX "idx_approvals_status_expires_at" ON "approvals" ("status", "expires_at");
CREATE TABLE digest_subscriptions (id INTEGER PRIMARY KEY AUTOINCREMENT, kind TEXT NOT NULL, channel TEXT NOT NULL,
    targets TEXT, schedule TEXT NOT NULL, tz TEXT NOT NULL, created_by TEXT, created_at TEXT, next_run TEXT,
    last_run TEXT);
CREATE TABLE digest_figures (subscription INTEGER PRIMARY KEY, at TEXT, figures TEXT);
CREATE TABLE digest_alerts (key TEXT PRIMARY KEY, channel TEXT, subject TEXT, raised_at TEXT, cleared_at TEXT);
CREATE TABLE digest_leases (key TEXT PRIMARY KEY, holder TEXT, at TEXT);
CREATE TABLE channel_pacing (channel TEXT PRIMARY KEY, next_at REAL);
CREATE TABLE "provisioning" ("id" TEXT PRIMARY KEY, "kind" TEXT, "target" TEXT, "requested_by" TEXT, "plan" TEXT,
    "status" TEXT, "steps" TEXT, "failed_step" TEXT, "error" TEXT, "attempts" INTEGER, "created_at" TEXT,
    "updated_at" TEXT, "name" TEXT);
CREATE INDEX "idx_provisioning_target_name" ON "provisioning" ("target", "name");
INSERT INTO digest_subscriptions (kind, channel, targets, schedule, tz, created_by, created_at, next_run)
    VALUES ('storage', 'C0OPS', '["polaris"]', 'daily 09:00', 'UTC', 'U0OPS', '2026-01-01T00:00:00+00:00',
            '2026-01-02T09:00:00+00:00');
INSERT INTO provisioning VALUES ('ma-0001', 'matillion', 'dpc', 'U0OPS', '{"name": "Sales"}', 'failed',
    '{"project": {"project_id": "p1"}}', 'environment', 'boom', 1, '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z',
    'sales');
INSERT INTO approvals (id, operation, command, target, requester, status, created_at, expires_at)
    VALUES ('a1', 'polaris.project.delete', 'delete polaris x', 'polaris', 'U0OPS', 'pending', 0, 4102444800);
PRAGMA user_version = 4;
"""


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    store = Store.open(tmp_path / "projectops.db")
    yield store
    store.close()


def schema(path: Path) -> dict[str, list[str]]:
    """Every table of the file with its columns (what a query can rely on)."""
    conn = sqlite3.connect(path)
    try:
        names = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        return {n: sorted(r[1] for r in conn.execute(f"PRAGMA table_info([{n}])"))
                for n in names if not n.startswith("sqlite_")}
    finally:
        conn.close()


def test_an_empty_file_gets_every_table_at_the_last_version(store: Store, tmp_path: Path) -> None:
    assert store.schema_version == len(MIGRATIONS)
    assert set(schema(tmp_path / "projectops.db")) == TABLES
    store.close()
    again = Store.open(tmp_path / "projectops.db")  # reopening runs nothing twice
    assert again.schema_version == len(MIGRATIONS)
    again.close()


def test_a_version_4_database_upgrades_and_keeps_its_rows(tmp_path: Path) -> None:
    old = tmp_path / "old.db"
    conn = sqlite3.connect(old)
    conn.executescript(VERSION_4)
    conn.close()
    store = Store.open(old)
    try:
        assert store.schema_version == len(MIGRATIONS)
        fresh = Store.open(tmp_path / "fresh.db")
        fresh.close()
        assert schema(old) == schema(tmp_path / "fresh.db")  # the same tables and columns as a new database
        sub = store.digests.get(1)
        assert sub is not None and sub.targets == ["polaris"] and sub.threshold is None and not sub.failing
        assert store.digests.mark_failing(1, True) is True
        record = store.provisioning.unfinished("dpc", "Sales")
        assert record is not None and record.failed_step == "environment"
        assert store.provisioning.for_project("dpc", "p1") == record
        assert store.approvals.decide("a1", APPROVED, "U0ADMIN") is True
    finally:
        store.close()


def test_two_processes_opening_a_new_file_at_once_migrate_it_once(tmp_path: Path) -> None:
    errors: list[Exception] = []
    stores: list[Store] = []

    def open_it() -> None:
        try:
            stores.append(Store.open(tmp_path / "race.db"))
        except Exception as exc:
            errors.append(exc)

    threads = [threading.Thread(target=open_it) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == [] and {s.schema_version for s in stores} == {len(MIGRATIONS)}
    for s in stores:
        s.close()


def test_every_part_shares_the_one_connection(store: Store) -> None:
    parts = [store.audit, store.approvals, store.deliveries, store.digests, store.provisioning, store.pacing]
    assert {id(part.database) for part in parts} == {id(store.database)}
    assert store.provisioning.database.conn is store.audit.database.conn


def test_a_delivery_is_first_once(store: Store) -> None:
    assert store.deliveries.first("event:Ev1") is True
    assert store.deliveries.first("event:Ev1") is False
    assert store.deliveries.first("event:Ev2", 60) is True
    assert store.deliveries.first("event:Ev1", ttl_seconds=0) is True  # forgotten after its time


def test_an_approval_is_decided_once(store: Store) -> None:
    approval = store.approvals.create(operation="polaris.project.delete", command="delete polaris x",
                                      target="polaris", requester="U0OPS", team="T1", channel="C0OPS",
                                      request_channel="C0OPS", impact="1 GB", ttl_seconds=60)
    assert store.approvals.get(approval.id) == approval
    assert [a.id for a in store.approvals.pending_for()] == [approval.id]
    results = []
    threads = [threading.Thread(target=lambda u=u: results.append(store.approvals.decide(approval.id, APPROVED, u)))
               for u in ("U1", "U2", "U3", "U4")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == [False, False, False, True]
    assert store.approvals.decide(approval.id, REJECTED, "U5") is False
    decided = store.approvals.get(approval.id)
    assert decided is not None and decided.status == APPROVED and decided.decided_by in {"U1", "U2", "U3", "U4"}


def test_a_request_past_its_time_expires_and_cannot_be_decided(store: Store) -> None:
    approval = store.approvals.create(operation="x", command="x", target="t", requester="U0", team="", channel="C",
                                      request_channel="C", impact="", ttl_seconds=-1)
    assert approval.status == PENDING and approval.expired
    assert store.approvals.decide(approval.id, APPROVED, "U1") is False
    assert [a.id for a in store.approvals.expire_due()] == [approval.id]
    expired = store.approvals.get(approval.id)
    assert expired is not None and expired.status == EXPIRED
    assert store.approvals.expire_due() == []


def test_digest_subscriptions_leases_figures_and_alerts(store: Store) -> None:
    digests = store.digests
    sub = digests.add("all", "C0OPS", "hourly", "UTC", ["polaris"], "U0", T0 + timedelta(hours=1), T0, threshold=70)
    assert digests.subscriptions() == [sub] and digests.subscriptions("C0OTHER") == []
    assert digests.due(T0) == [] and digests.due(T0 + timedelta(hours=1)) == [sub]
    assert digests.claim_run(sub, T0 + timedelta(hours=2), T0, "a") is True
    assert digests.claim_run(sub, T0 + timedelta(hours=2), T0, "b") is False  # the same slot, once
    digests.save_figures(sub.id, T0, {"x": 1})
    assert digests.figures(sub.id) == (T0, {"x": 1})
    assert digests.raise_alert("k", "C0OPS", "job j1", T0) is True
    assert digests.raise_alert("k", "C0OPS", "job j1", T0) is False
    assert [a["key"] for a in digests.active_alerts()] == ["k"]
    assert digests.clear_alert("k", T0) is True and digests.active_alerts() == []
    assert digests.remove(sub.id) is True and digests.figures(sub.id) == (None, {})


def test_provisioning_records_steps_and_failures(store: Store) -> None:
    prov = store.provisioning
    record = prov.create("matillion", "dpc", "U0", {"name": "Sales"})
    prov.step_done(record, "project", {"project_id": "p1"})
    prov.step_failed(record, "environment", "boom")
    again = prov.unfinished("dpc", "sales")
    assert again is not None and again.done("project") and again.error == "boom"
    prov.resume(again)
    prov.finish(again)
    assert prov.unfinished("dpc", "sales") is None and prov.recent("dpc")[0].status == "succeeded"


def test_pacing_slots_follow_each_other_and_stay_within_the_horizon(store: Store) -> None:
    slots = [store.pacing.reserve("C1", now=100.0, interval=1.0, horizon=5.0) for _ in range(10)]
    assert slots[:3] == [100.0, 101.0, 102.0] and max(slots) == 105.0
    assert store.pacing.reserve("C2", now=100.0, interval=1.0, horizon=5.0) == 100.0
    store.pacing.forget_before(1000.0)
    assert store.pacing.reserve("C1", now=100.0, interval=1.0, horizon=5.0) == 100.0
