"""The audit log on both databases: rows written before and completed after, queries, the hash chain, its guards,
idempotent creates, and (PostgreSQL) one chain while several replicas append."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable
from pathlib import Path

import pytest
from store_helpers import as_owner, index_names
from typer.testing import CliRunner

from bot.store import AuditEntry, AuditLog, AuditQuery, Store, StoreError

CREATE = AuditEntry(user="U1", operation="polaris.project.create", surface="command", target="polaris",
                    params={"name": "sales"})


@pytest.fixture
def audit(store: Store) -> AuditLog:
    return store.audit


def run_threads(count: int, work: Callable[[int], None]) -> None:
    threads = [threading.Thread(target=work, args=(n,)) for n in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def test_start_then_finish_completes_one_row(audit: AuditLog) -> None:
    row_id = audit.start(AuditEntry(user="U1", operation="polaris.project.list", surface="command",
                                    target="polaris-us", params={"limit": 5}))
    row = audit.get(row_id)
    assert row is not None and row["outcome"] == "started"
    audit.finish(row_id, "succeeded", duration_ms=12, request_id="req-1")
    row = audit.get(row_id)
    assert row is not None and (row["outcome"], row["duration_ms"], row["request_id"]) == ("succeeded", 12, "req-1")
    assert row["at"].endswith("Z") and audit.count() == 1
    assert audit.get(row_id + 1) is None


def test_query_filters_and_orders_newest_first(audit: AuditLog) -> None:
    for user, target in [("U1", "a"), ("U2", "a"), ("U1", "b")]:
        audit.record(AuditEntry(user=user, operation="x", surface="command", target=target), "succeeded")
    assert [r["target"] for r in audit.query(AuditQuery(user="U1"))] == ["b", "a"]
    assert [r["user"] for r in audit.query(AuditQuery(target="a"))] == ["U2", "U1"]
    assert len(audit.query(AuditQuery(limit=1))) == 1
    assert [r["user"] for r in audit.query(AuditQuery(limit=1, offset=1))] == ["U2"]


def test_a_query_can_leave_out_reads_still_running(audit: AuditLog) -> None:
    running_read = audit.start(AuditEntry(user="U1", operation="audit", surface="command", risk="read"))
    running_change = audit.start(AuditEntry(user="U1", operation="x.delete", surface="command", risk="destructive"))
    done_read = audit.record(AuditEntry(user="U1", operation="x.list", surface="command", risk="read"), "succeeded")
    ids = [r["id"] for r in audit.query(AuditQuery(without_running_reads=True))]
    assert ids == [done_read, running_change]
    assert running_read in [r["id"] for r in audit.query(AuditQuery())]


def test_indexes(store: Store) -> None:
    assert {"idx_audit_user_at", "idx_audit_target_at", "idx_audit_at"} <= index_names(store, "audit")


def test_sqlite_runs_in_wal_mode(tmp_path: Path) -> None:
    Store.open(tmp_path / "audit.db").close()
    conn = sqlite3.connect(tmp_path / "audit.db")
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    conn.close()


def test_bad_outcome_is_rejected(audit: AuditLog) -> None:
    row_id = audit.start(AuditEntry(user="U1", operation="x", surface="command"))
    with pytest.raises(ValueError):
        audit.finish(row_id, "maybe")
    audit.finish(row_id, "failed")
    with pytest.raises(ValueError):
        audit.finish(row_id, "succeeded")  # a row is completed once


def test_the_database_refuses_to_change_completed_rows_or_delete_any(store: Store) -> None:
    done = store.audit.record(AuditEntry(user="U1", operation="x", surface="command"), "succeeded")
    running = store.audit.start(AuditEntry(user="U1", operation="y", surface="command"))
    refusals = [
        ("UPDATE audit SET error = 'edited' WHERE id = ?", [done], "a completed audit row cannot change"),
        ("DELETE FROM audit WHERE id = ?", [running], "the audit log is append-only"),
        ("UPDATE audit_chain SET row_hash = 'x'", [], "the audit chain is append-only"),
        ("DELETE FROM audit_chain", [], "the audit chain is append-only"),
    ]
    for sql, args, why in refusals:
        with pytest.raises(StoreError, match=why):  # a StoreError, not the driver's exception
            store.database.execute(sql, args)
    assert store.audit.count() == 2 and store.audit.verify().ok


def test_postgresql_refuses_truncate(pg_stores: tuple[Store, Store]) -> None:
    store, _ = pg_stores
    store.audit.record(AuditEntry(user="U1", operation="x", surface="command"), "succeeded")
    for table in ("audit", "audit_chain"):
        with pytest.raises(StoreError, match="append-only"):
            store.database.execute(f"TRUNCATE {table}")
    assert store.audit.count() == 1


def test_the_chain_holds_and_breaks_when_a_row_is_edited(store: Store, store_url: str) -> None:
    for n in range(3):
        store.audit.record(AuditEntry(user=f"U{n}", operation="x", surface="command"), "succeeded")
    report = store.audit.verify()
    assert report.ok and report.checked == 3
    if store.kind == "sqlite":  # someone with file access
        as_owner(store_url, "DROP TRIGGER audit_complete_once", "UPDATE audit SET user = 'UEVIL' WHERE id = 2")
    else:  # the database's owner
        as_owner(store_url, "ALTER TABLE audit DISABLE TRIGGER audit_guard",
                 "UPDATE audit SET \"user\" = 'UEVIL' WHERE id = 2")
    report = store.audit.verify()
    assert not report.ok and report.problems == ["audit row #2 was changed after it was written"]


def test_a_removed_row_breaks_the_chain(store: Store, store_url: str) -> None:
    for n in range(3):
        store.audit.record(AuditEntry(user=f"U{n}", operation="x", surface="command"), "succeeded")
    if store.kind == "sqlite":
        as_owner(store_url, "DROP TRIGGER audit_no_delete", "DELETE FROM audit WHERE id = 2")
    else:
        as_owner(store_url, "ALTER TABLE audit DISABLE TRIGGER audit_guard", "DELETE FROM audit WHERE id = 2")
    assert store.audit.verify().problems == ["audit row #2 is missing (chain link 2)"]


def test_writers_on_two_stores_make_one_chain_and_lose_nothing(open_store: Callable[[], Store]) -> None:
    """20 threads over two Stores (two processes or replicas) append at once: one valid chain, every row in it."""
    stores = [open_store(), open_store()]
    errors: list[BaseException] = []

    def append(n: int) -> None:
        try:
            for i in range(5):
                stores[n % 2].audit.record(AuditEntry(user=f"U{n}", operation="x", surface="command",
                                                      params={"i": i}), "succeeded")
        except BaseException as exc:
            errors.append(exc)

    run_threads(20, append)
    report = stores[0].audit.verify()
    assert errors == [] and report.ok, report.problems
    assert report.checked == 100 and stores[1].audit.count() == 100


def test_audit_verify_from_the_command_line(store: Store, store_url: str, tmp_path: Path) -> None:
    from bot.cli import cli

    store.audit.record(AuditEntry(user="U1", operation="x", surface="command"), "succeeded")
    env = ({"PROJECTOPS_DATABASE_URL": store_url, "PROJECTOPS_DB": str(tmp_path / "never.db")}
           if store.kind == "postgresql" else {"PROJECTOPS_DB": store_url, "PROJECTOPS_DATABASE_URL": ""})
    result = CliRunner().invoke(cli, ["audit", "verify"], env=env)
    assert result.exit_code == 0 and "audit log intact: 1 completed rows chained" in result.output
    assert not (tmp_path / "never.db").exists()  # with a URL, no SQLite file is made
    if store.kind == "postgresql":
        as_owner(store_url, "ALTER TABLE audit DISABLE TRIGGER audit_guard", "UPDATE audit SET error = 'x'")
        result = CliRunner().invoke(cli, ["audit", "verify"], env=env)
        assert result.exit_code == 1 and "TAMPERED: audit row #1 was changed" in result.output


# ---------------------------------------------------------------- idempotent creates

def test_a_create_starts_once_within_its_window(audit: AuditLog) -> None:
    first, earlier = audit.start_once(CREATE, 60)
    assert first is not None and earlier is None
    again, earlier = audit.start_once(CREATE, 60)  # still running
    assert again is None and earlier is not None and earlier["id"] == first and earlier["outcome"] == "started"
    audit.finish(first, "succeeded")
    again, earlier = audit.start_once(CREATE, 60)  # done
    assert again is None and earlier is not None and earlier["outcome"] == "succeeded"
    other, _ = audit.start_once(AuditEntry(**{**CREATE.__dict__, "params": {"name": "ops"}}), 60)
    assert other is not None  # another name is another create


def test_a_failed_create_can_be_tried_again_at_once(audit: AuditLog) -> None:
    first, _ = audit.start_once(CREATE, 60)
    assert first is not None
    audit.finish(first, "failed", error="boom")
    second, earlier = audit.start_once(CREATE, 60)
    assert second is not None and second != first and earlier is None


def test_a_create_may_run_again_after_its_window(audit: AuditLog) -> None:
    first, _ = audit.start_once(CREATE, 0)
    assert first is not None
    second, earlier = audit.start_once(CREATE, 0)
    assert second is not None and earlier is None


def test_replicas_asking_to_create_at_once_start_it_once(open_store: Callable[[], Store]) -> None:
    stores = [open_store(), open_store()]
    started: list[int] = []
    refused: list[int] = []

    def create(n: int) -> None:
        row_id, earlier = stores[n % 2].audit.start_once(CREATE, 60)
        if row_id is not None:
            started.append(row_id)
        else:
            assert earlier is not None
            refused.append(earlier["id"])

    run_threads(20, create)
    assert len(started) == 1 and refused == [started[0]] * 19
    assert stores[0].audit.count() == 1
