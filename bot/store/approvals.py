"""Destructive requests waiting for a second person: persisted, expiring, decided once.

A decision is one conditional UPDATE (`WHERE status = 'pending' AND expires_at > now`), so fifty
simultaneous Approve clicks, a Slack retry or a second app process still decide a request once.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import asdict, dataclass

from bot.store.database import Database

PENDING, APPROVED, REJECTED, EXPIRED, DONE, FAILED = "pending", "approved", "rejected", "expired", "done", "failed"


@dataclass
class Approval:
    id: str
    operation: str
    command: str
    target: str
    requester: str
    team: str
    channel: str
    request_channel: str
    message_ts: str
    impact: str
    status: str
    created_at: float
    expires_at: float
    decided_by: str = ""
    decided_at: float = 0.0
    result: str = ""

    @property
    def expired(self) -> bool:
        return self.status == PENDING and time.time() >= self.expires_at


COLUMNS = ", ".join(Approval.__dataclass_fields__)


class ApprovalStore:
    def __init__(self, database: Database) -> None:
        self.database = database

    def create(self, *, operation: str, command: str, target: str, requester: str, team: str, channel: str,
               request_channel: str, impact: str, ttl_seconds: float) -> Approval:
        now = time.time()
        approval = Approval(
            id=secrets.token_hex(8), operation=operation, command=command, target=target, requester=requester,
            team=team, channel=channel, request_channel=request_channel, message_ts="", impact=impact,
            status=PENDING, created_at=now, expires_at=now + ttl_seconds,
        )
        values = asdict(approval)
        self.database.execute(f"INSERT INTO approvals ({COLUMNS}) VALUES ({', '.join('?' * len(values))})",
                              list(values.values()))
        return approval

    def get(self, approval_id: str) -> Approval | None:
        row = self.database.query_one(f"SELECT {COLUMNS} FROM approvals WHERE id = ?", [approval_id])
        return Approval(**row) if row else None

    def set_message(self, approval_id: str, message_ts: str) -> None:
        self.database.execute("UPDATE approvals SET message_ts = ? WHERE id = ?", [message_ts, approval_id])

    def decide(self, approval_id: str, status: str, user_id: str) -> bool:
        """Move a pending, unexpired request to `status`; True only for the one caller that did it.

        One conditional UPDATE: under concurrent writers (threads, processes, replicas) the database re-checks
        `status = 'pending'` after the first writer commits, so every other caller changes no row.
        """
        now = time.time()
        return self.database.execute(
            "UPDATE approvals SET status = ?, decided_by = ?, decided_at = ? "
            "WHERE id = ? AND status = 'pending' AND expires_at > ?",
            [status, user_id, now, approval_id, now],
        ) == 1

    def finish(self, approval_id: str, status: str, result: str) -> None:
        self.database.execute("UPDATE approvals SET status = ?, result = ? WHERE id = ?",
                              [status, result, approval_id])

    def expire_due(self) -> list[Approval]:
        """Mark every pending request past its time as expired; returns them (to update their messages).

        One UPDATE … RETURNING: when several processes sweep at once, each expired request is returned once.
        """
        rows = self.database.query(
            f"UPDATE approvals SET status = 'expired' WHERE status = 'pending' AND expires_at <= ? "
            f"RETURNING {COLUMNS}", [time.time()])
        return sorted((Approval(**r) for r in rows), key=lambda a: a.created_at)

    def count_pending(self) -> int:
        """How many requests wait for a decision (the pending-approvals gauge of GET /metrics)."""
        row = self.database.query_one("SELECT COUNT(*) AS n FROM approvals WHERE status = 'pending' AND expires_at > ?",
                                      [time.time()])
        return int(row["n"]) if row else 0

    def pending_for(self, limit: int = 20) -> list[Approval]:
        rows = self.database.query(
            f"SELECT {COLUMNS} FROM approvals WHERE status = 'pending' AND expires_at > ? ORDER BY created_at LIMIT ?",
            [time.time(), limit])
        return [Approval(**r) for r in rows]
