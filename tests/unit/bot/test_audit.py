from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from bot.audit import MIGRATIONS, AuditEntry, AuditLog, AuditQuery


@pytest.fixture
def audit(tmp_path: Path) -> AuditLog:
    return AuditLog(tmp_path / "audit.db")


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


def test_wal_schema_version_and_indexes(audit: AuditLog, tmp_path: Path) -> None:
    assert audit.schema_version == len(MIGRATIONS)
    conn = sqlite3.connect(tmp_path / "audit.db")
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    indexes = {r[1] for r in conn.execute("PRAGMA index_list(audit)")}
    assert {"idx_audit_user_at", "idx_audit_target_at", "idx_audit_at"} <= indexes
    AuditLog(tmp_path / "audit.db")  # reopening does not re-run migrations
    assert AuditLog(tmp_path / "audit.db").schema_version == len(MIGRATIONS)


def test_first_delivery_is_true_once(audit: AuditLog) -> None:
    assert audit.first_delivery("event:Ev1") is True
    assert audit.first_delivery("event:Ev1") is False
    assert audit.first_delivery("event:Ev2") is True


def test_bad_outcome_is_rejected(audit: AuditLog) -> None:
    row_id = audit.start(AuditEntry(user="U1", operation="x", surface="command"))
    with pytest.raises(ValueError):
        audit.finish(row_id, "maybe")
