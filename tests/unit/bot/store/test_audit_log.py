"""The audit log: rows written before and completed after, queries, the hash chain."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.store import AuditEntry, AuditLog, AuditQuery, Store


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    store = Store.open(tmp_path / "audit.db")
    yield store
    store.close()


@pytest.fixture
def audit(store: Store) -> AuditLog:
    return store.audit


def test_start_then_finish_completes_one_row(audit: AuditLog) -> None:
    row_id = audit.start(AuditEntry(user="U1", operation="polaris.project.list", surface="command",
                                    target="polaris-us", params={"limit": 5}))
    assert audit.get(row_id)["outcome"] == "started"
    audit.finish(row_id, "succeeded", duration_ms=12, request_id="req-1")
    row = audit.get(row_id)
    assert (row["outcome"], row["duration_ms"], row["request_id"]) == ("succeeded", 12, "req-1")
    assert row["at"].endswith("Z") and audit.count() == 1


def test_query_filters_and_orders_newest_first(audit: AuditLog) -> None:
    for user, target in [("U1", "a"), ("U2", "a"), ("U1", "b")]:
        audit.record(AuditEntry(user=user, operation="x", surface="command", target=target), "succeeded")
    assert [r["target"] for r in audit.query(AuditQuery(user="U1"))] == ["b", "a"]
    assert [r["user"] for r in audit.query(AuditQuery(target="a"))] == ["U2", "U1"]
    assert len(audit.query(AuditQuery(limit=1))) == 1


def test_wal_and_indexes(store: Store, tmp_path: Path) -> None:
    conn = sqlite3.connect(tmp_path / "audit.db")
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    indexes = {r[1] for r in conn.execute("PRAGMA index_list(audit)")}
    assert {"idx_audit_user_at", "idx_audit_target_at", "idx_audit_at"} <= indexes


def test_bad_outcome_is_rejected(audit: AuditLog) -> None:
    row_id = audit.start(AuditEntry(user="U1", operation="x", surface="command"))
    with pytest.raises(ValueError):
        audit.finish(row_id, "maybe")
    audit.finish(row_id, "failed")
    with pytest.raises(ValueError):
        audit.finish(row_id, "succeeded")  # a row is completed once


def test_the_chain_holds_and_breaks_when_a_row_is_edited(store: Store, tmp_path: Path) -> None:
    for n in range(3):
        store.audit.record(AuditEntry(user=f"U{n}", operation="x", surface="command"), "succeeded")
    report = store.audit.verify()
    assert report.ok and report.checked == 3
    conn = sqlite3.connect(tmp_path / "audit.db")  # someone with file access
    conn.execute("DROP TRIGGER audit_complete_once")
    conn.execute("UPDATE audit SET user = 'UEVIL' WHERE id = 2")
    conn.commit()
    report = store.audit.verify()
    assert not report.ok and report.problems == ["audit row #2 was changed after it was written"]
