"""One store on either database: one migration list for every table, upgrades from today's SQLite files, the
exactly-once primitives (deliveries, approvals, digest runs, leases, pacing) under concurrent writers."""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from store_helpers import Proxy, free_port, schema

from bot.store import Store, StoreError, StoreUnavailable
from bot.store.approvals import APPROVED, EXPIRED, PENDING, REJECTED
from bot.store.migrations import MIGRATIONS

TABLES = {"audit", "audit_chain", "seen_deliveries", "approvals", "digest_subscriptions", "digest_figures",
          "digest_alerts", "digest_leases", "channel_pacing", "provisioning", "leases", "create_claims",
          "confirmations"}
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


def run_threads(count: int, work: Callable[[int], None]) -> list[BaseException]:
    """Run `work(n)` in `count` threads released together; returns what they raised."""
    errors: list[BaseException] = []
    ready = threading.Barrier(count)

    def guarded(n: int) -> None:
        try:
            ready.wait()
            work(n)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=guarded, args=(n,)) for n in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return errors


def new_approval(store: Store, ttl_seconds: float = 60):
    return store.approvals.create(operation="polaris.project.delete", command="delete polaris x", target="polaris",
                                  requester="U0OPS", team="T1", channel="C0OPS", request_channel="C0OPS",
                                  impact="1 GB", ttl_seconds=ttl_seconds)


# ---------------------------------------------------------------- schema and migrations

def test_an_empty_database_gets_every_table_at_the_last_version(store: Store, open_store) -> None:
    assert store.schema_version == len(MIGRATIONS)
    assert set(schema(store)) == TABLES
    again = open_store()  # reopening runs nothing twice
    assert again.schema_version == len(MIGRATIONS) and schema(again) == schema(store)


def test_both_databases_have_the_same_tables_and_columns(tmp_path: Path, pg_url: str) -> None:
    sqlite, postgres = Store.open(tmp_path / "x.db"), Store.open(pg_url)
    try:
        assert schema(sqlite) == schema(postgres)
    finally:
        sqlite.close()
        postgres.close()


def test_a_version_4_database_upgrades_and_keeps_its_rows(tmp_path: Path) -> None:
    old = tmp_path / "old.db"
    conn = sqlite3.connect(old)
    conn.executescript(VERSION_4)
    conn.close()
    store = Store.open(old)
    try:
        assert store.schema_version == len(MIGRATIONS)
        fresh = Store.open(tmp_path / "fresh.db")
        assert schema(store) == schema(fresh)  # the same tables and columns as a new database
        fresh.close()
        sub = store.digests.get(1)
        assert sub is not None and sub.targets == ["polaris"] and sub.threshold is None and not sub.failing
        assert store.digests.mark_failing(1, True) is True
        record = store.provisioning.unfinished("dpc", "Sales")
        assert record is not None and record.failed_step == "environment"
        assert store.provisioning.for_project("dpc", "p1") == record
        assert store.approvals.decide("a1", APPROVED, "U0ADMIN") is True
    finally:
        store.close()


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_replicas_starting_at_once_on_a_new_database_migrate_it_once(
        kind: str, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    where = str(tmp_path / "race.db") if kind == "sqlite" else request.getfixturevalue("pg_blank_url")
    stores: list[Store] = []
    errors = run_threads(4, lambda n: stores.append(Store.open(where)))
    try:
        assert errors == [] and {s.schema_version for s in stores} == {len(MIGRATIONS)}
        if kind == "postgresql":
            rows = stores[0].database.query("SELECT version, name FROM schema_version ORDER BY version")
            assert [(r["version"], r["name"]) for r in rows] == [(n, m.name) for n, m in enumerate(MIGRATIONS, 1)]
    finally:
        for s in stores:
            s.close()


def test_every_part_shares_the_one_database(store: Store) -> None:
    parts = [store.audit, store.approvals, store.deliveries, store.digests, store.leases, store.provisioning,
             store.pacing]
    assert {id(part.database) for part in parts} == {id(store.database)}


# ---------------------------------------------------------------- opening, readiness, outages

def test_a_url_opens_postgresql_and_writes_no_sqlite_file(pg_url: str, tmp_path: Path) -> None:
    store = Store.connect(database_url=pg_url, sqlite_path=tmp_path / "projectops.db")
    try:
        assert store.kind == "postgresql" and store.path.startswith("postgresql://postgres@127.0.0.1:")
        store.ping()
    finally:
        store.close()
    assert list(tmp_path.iterdir()) == []
    sqlite = Store.connect(database_url=None, sqlite_path=tmp_path / "projectops.db")
    assert sqlite.kind == "sqlite" and (tmp_path / "projectops.db").exists()
    sqlite.ping()
    sqlite.close()


def test_an_unreachable_database_says_what_to_check_and_hides_the_password() -> None:
    closed = free_port()
    started = time.monotonic()
    with pytest.raises(StoreUnavailable) as caught:
        Store.open(f"postgresql://ops:hunter22@127.0.0.1:{closed}/projectops")
    assert time.monotonic() - started < 10
    message = str(caught.value)
    assert f"postgresql://ops@127.0.0.1:{closed}/projectops" in message and "PROJECTOPS_DATABASE_URL" in message
    assert "hunter22" not in message


def test_a_sqlite_file_that_cannot_be_made_says_where(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="PROJECTOPS_DB"):
        Store.open(tmp_path / "no" / "such" / "folder" / "x.db")


def test_an_outage_raises_store_unavailable_and_the_store_recovers(pg_url: str) -> None:
    port = int(pg_url.rsplit(":", 1)[1].split("/")[0])
    proxy = Proxy(port)
    store = Store.open(pg_url.replace(f":{port}/", f":{proxy.port}/"))
    try:
        store.ping()
        store.deliveries.first("event:before")
        proxy.cut()
        started = time.monotonic()
        with pytest.raises(StoreUnavailable, match="PROJECTOPS_DATABASE_URL"):
            store.ping()
        with pytest.raises(StoreUnavailable):
            store.deliveries.first("event:during")  # a StoreError, never the driver's exception
        assert time.monotonic() - started < 15
        proxy.restore()
        deadline = time.monotonic() + 10
        while True:
            try:
                store.ping()
                break
            except StoreUnavailable:
                assert time.monotonic() < deadline, "the store did not come back with the database"
                time.sleep(0.1)
        assert store.deliveries.first("event:during") is True and store.deliveries.first("event:before") is False
    finally:
        store.close()
        proxy.close()


# ---------------------------------------------------------------- deliveries

def test_a_delivery_is_first_once(store: Store) -> None:
    assert store.deliveries.first("event:Ev1") is True
    assert store.deliveries.first("event:Ev1") is False
    assert store.deliveries.first("event:Ev2", 60) is True
    assert store.deliveries.first("event:Ev1", ttl_seconds=0) is True  # forgotten after its time


def test_one_delivery_to_several_replicas_is_handled_once(open_store) -> None:
    stores = [open_store(), open_store()]
    firsts: list[bool] = []
    assert run_threads(20, lambda n: firsts.append(stores[n % 2].deliveries.first("event:Ev9"))) == []
    assert sorted(firsts) == [False] * 19 + [True]


# ---------------------------------------------------------------- approvals

def test_an_approval_is_decided_once(store: Store) -> None:
    approval = new_approval(store)
    assert store.approvals.get(approval.id) == approval
    assert [a.id for a in store.approvals.pending_for()] == [approval.id]
    results: list[bool] = []
    assert run_threads(4, lambda n: results.append(store.approvals.decide(approval.id, APPROVED, f"U{n}"))) == []
    assert sorted(results) == [False, False, False, True]
    assert store.approvals.decide(approval.id, REJECTED, "U5") is False
    decided = store.approvals.get(approval.id)
    assert decided is not None and decided.status == APPROVED and decided.decided_by in {"U0", "U1", "U2", "U3"}
    store.approvals.set_message(approval.id, "1700000000.000100")
    store.approvals.finish(approval.id, "done", "deleted")
    finished = store.approvals.get(approval.id)
    assert finished is not None and (finished.message_ts, finished.status) == ("1700000000.000100", "done")


def test_fifty_clicks_on_two_replicas_decide_once(open_store) -> None:
    stores = [open_store(), open_store()]
    approval = new_approval(stores[0])
    results: list[tuple[bool, int]] = []
    errors = run_threads(50, lambda n: results.append(
        (stores[n % 2].approvals.decide(approval.id, APPROVED if n % 3 else REJECTED, f"U{n}"), n)))
    assert errors == []
    winners = [n for won, n in results if won]
    assert len(winners) == 1
    decided = stores[1].approvals.get(approval.id)
    assert decided is not None and decided.decided_by == f"U{winners[0]}"
    assert decided.status == (APPROVED if winners[0] % 3 else REJECTED)


def test_a_request_past_its_time_expires_and_cannot_be_decided(store: Store) -> None:
    approval = new_approval(store, ttl_seconds=-1)
    assert approval.status == PENDING and approval.expired
    assert store.approvals.decide(approval.id, APPROVED, "U1") is False
    assert [a.id for a in store.approvals.expire_due()] == [approval.id]
    expired = store.approvals.get(approval.id)
    assert expired is not None and expired.status == EXPIRED
    assert store.approvals.expire_due() == []


def test_replicas_sweeping_at_once_expire_each_request_once(open_store) -> None:
    stores = [open_store(), open_store()]
    ids = {new_approval(stores[0], ttl_seconds=-1).id for _ in range(5)}
    swept: list[str] = []
    assert run_threads(6, lambda n: swept.extend(a.id for a in stores[n % 2].approvals.expire_due())) == []
    assert sorted(swept) == sorted(ids)


# ---------------------------------------------------------------- digests

def test_digest_subscriptions_leases_figures_and_alerts(store: Store) -> None:
    digests = store.digests
    sub = digests.add("all", "C0OPS", "hourly", "UTC", ["polaris"], "U0", T0 + timedelta(hours=1), T0, threshold=70)
    assert digests.subscriptions() == [sub] and digests.subscriptions("C0OTHER") == []
    assert digests.get(sub.id) == sub and sub.threshold == 70 and sub.targets == ["polaris"]
    assert digests.due(T0) == [] and digests.due(T0 + timedelta(hours=1)) == [sub]
    assert digests.claim_run(sub, T0 + timedelta(hours=2), T0, "a") is True
    assert digests.claim_run(sub, T0 + timedelta(hours=2), T0, "b") is False  # the same slot, once
    moved = digests.get(sub.id)
    assert moved is not None and moved.next_run == (T0 + timedelta(hours=2)).isoformat()
    assert digests.mark_failing(sub.id, True) is True and digests.mark_failing(sub.id, True) is False
    digests.save_figures(sub.id, T0, {"x": 1})
    digests.save_figures(sub.id, T0, {"x": 2})
    assert digests.figures(sub.id) == (T0, {"x": 2})
    assert digests.raise_alert("k", "C0OPS", "job j1", T0) is True
    assert digests.raise_alert("k", "C0OPS", "job j1", T0) is False
    assert [a["key"] for a in digests.active_alerts()] == ["k"]
    assert digests.clear_alert("k", T0) is True and digests.active_alerts() == []
    assert digests.raise_alert("k", "C0OPS", "job j1", T0) is True  # raised again after it cleared
    assert digests.lease("once", "a", T0) is True and digests.lease("once", "b", T0) is False
    assert digests.remove(sub.id) is True and digests.figures(sub.id) == (None, {})


def test_a_digest_slot_is_claimed_by_one_replica(open_store) -> None:
    stores = [open_store(), open_store()]
    sub = stores[0].digests.add("storage", "C0OPS", "hourly", "UTC", [], "U0", T0, T0)
    claims: list[bool] = []
    assert run_threads(10, lambda n: claims.append(
        stores[n % 2].digests.claim_run(sub, T0 + timedelta(hours=1), T0, f"replica-{n}"))) == []
    assert sorted(claims) == [False] * 9 + [True]
    assert stores[1].digests.due(T0) == []


# ---------------------------------------------------------------- leases (one scheduler leader)

def test_a_lease_has_one_holder_is_renewed_and_taken_over_after_it_expires(store: Store) -> None:
    leases = store.leases
    first = leases.claim("scheduler", "a", 0.5)
    assert first is not None and first.holder == "a" and first.expires_at - first.acquired_at == pytest.approx(0.5)
    assert leases.claim("scheduler", "b", 0.5) is None  # held by a
    renewed = leases.claim("scheduler", "a", 0.5)
    assert renewed is not None and renewed.token == first.token and renewed.expires_at >= first.expires_at
    current = leases.current("scheduler")
    assert current is not None and current.holder == "a"
    time.sleep(0.6)  # a stops renewing
    assert leases.current("scheduler") is None
    taken = leases.claim("scheduler", "b", 30)
    assert taken is not None and taken.holder == "b" and taken.token == first.token + 1
    assert leases.claim("scheduler", "a", 30) is None
    assert leases.release("scheduler", "a") is False and leases.release("scheduler", "b") is True
    again = leases.claim("scheduler", "a", 30)  # released: no wait for it to expire
    assert again is not None and again.token == taken.token + 1
    assert leases.claim("other", "b", 30) is not None  # leases are independent


def test_replicas_claiming_one_lease_at_once_get_one_holder(open_store) -> None:
    stores = [open_store(), open_store()]
    held: list[str] = []

    def claim(n: int) -> None:
        lease = stores[n % 2].leases.claim("scheduler", f"replica-{n}", 30)
        if lease is not None:
            held.append(lease.holder)

    assert run_threads(10, claim) == []
    assert len(held) == 1
    current = stores[0].leases.current("scheduler")
    assert current is not None and current.holder == held[0]


def test_a_lease_is_timed_on_the_database_clock(store: Store) -> None:
    lease = store.leases.claim("scheduler", "a", 10)
    assert lease is not None and abs(lease.acquired_at - time.time()) < 5  # this machine's clock is the server's


# ---------------------------------------------------------------- provisioning

def test_provisioning_records_steps_and_failures(store: Store) -> None:
    prov = store.provisioning
    record = prov.create("matillion", "dpc", "U0", {"name": "Sales"})
    assert prov.get(record.id) == record
    prov.step_done(record, "project", {"project_id": "p1"})
    prov.step_failed(record, "environment", "boom")
    again = prov.unfinished("dpc", "sales")
    assert again is not None and again.done("project") and again.error == "boom"
    assert prov.for_project("dpc", "p1") == again
    prov.resume(again)
    prov.finish(again)
    assert prov.unfinished("dpc", "sales") is None and prov.recent("dpc")[0].status == "succeeded"
    assert prov.recent("dpc")[0].attempts == 2


# ---------------------------------------------------------------- pacing

def test_pacing_slots_follow_each_other_and_stay_within_the_horizon(store: Store) -> None:
    slots = [store.pacing.reserve("C1", now=100.0, interval=1.0, horizon=5.0) for _ in range(10)]
    assert slots[:3] == [100.0, 101.0, 102.0] and max(slots) == 105.0
    assert store.pacing.reserve("C2", now=100.0, interval=1.0, horizon=5.0) == 100.0
    store.pacing.forget_before(1000.0)
    assert store.pacing.reserve("C1", now=100.0, interval=1.0, horizon=5.0) == 100.0


def test_two_stores_on_one_database_share_the_pace(open_store) -> None:
    stores = [open_store(), open_store()]
    slots: list[float] = []
    assert run_threads(20, lambda n: slots.append(
        stores[n % 2].pacing.reserve("C1", now=100.0, interval=1.0, horizon=60.0))) == []
    assert sorted(slots) == [100.0 + n for n in range(20)]  # one slot each: none shared, none skipped
