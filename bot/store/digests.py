"""Digest subscriptions, last-digest figures, alert state and run leases."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from bot.store.database import Database, Session

KINDS = ("job-health", "storage", "all")
COLUMNS = ("id, kind, channel, targets, schedule, tz, created_by, created_at, next_run, last_run, threshold, "
           "failing")


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
    """Thread-safe; every call is one short transaction. Several processes may share the database."""

    def __init__(self, database: Database) -> None:
        self.database = database

    # ------------------------------------------------------------ subscriptions

    def add(self, kind: str, channel: str, schedule: str, tz: str, targets: list[str], created_by: str,
            next_run: datetime, now: datetime, threshold: int | None = None) -> Subscription:
        row = self.database.query_one(
            "INSERT INTO digest_subscriptions (kind, channel, targets, schedule, tz, created_by, created_at, "
            f"next_run, threshold) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING {COLUMNS}",
            [kind, channel, json.dumps(targets), schedule, tz, created_by, iso(now), iso(next_run), threshold],
        )
        assert row is not None
        return Subscription.from_row(row)

    def get(self, sub_id: int) -> Subscription | None:
        row = self.database.query_one(f"SELECT {COLUMNS} FROM digest_subscriptions WHERE id = ?", [sub_id])
        return Subscription.from_row(row) if row else None

    def subscriptions(self, channel: str | None = None) -> list[Subscription]:
        """Every subscription (of `channel`, when given), oldest first."""
        sql, args = f"SELECT {COLUMNS} FROM digest_subscriptions", []
        if channel:
            sql, args = sql + " WHERE channel = ?", [channel]
        return [Subscription.from_row(r) for r in self.database.query(sql + " ORDER BY id", args)]

    def remove(self, sub_id: int) -> bool:
        with self.database.transaction() as session:
            removed = session.execute("DELETE FROM digest_subscriptions WHERE id = ?", [sub_id])
            session.execute("DELETE FROM digest_figures WHERE subscription = ?", [sub_id])
        return removed > 0

    def mark_failing(self, sub_id: int, failing: bool) -> bool:
        """Record whether runs fail; True when that changed (tell the subscriber once, not every run)."""
        return self.database.execute(
            "UPDATE digest_subscriptions SET failing = ? WHERE id = ? AND coalesce(failing, 0) != ?",
            [int(failing), sub_id, int(failing)],
        ) == 1

    def due(self, now: datetime) -> list[Subscription]:
        rows = self.database.query(
            f"SELECT {COLUMNS} FROM digest_subscriptions WHERE next_run IS NOT NULL AND next_run <= ? ORDER BY id",
            [iso(now)])
        return [Subscription.from_row(r) for r in rows]

    def claim_run(self, sub: Subscription, next_run: datetime, now: datetime, holder: str) -> bool:
        """Move the subscription's next run forward, once: True for the one process whose lease row wins.

        One transaction: the run's lease row (`run:<id>:<slot>`, INSERT … ON CONFLICT DO NOTHING) and the move of
        `next_run` commit together, so a slot is claimed by exactly one process and never left claimed-but-unmoved.
        """
        with self.database.transaction() as session:
            if not self._lease(session, f"run:{sub.id}:{sub.next_run}", holder, now):
                return False
            same_slot = "next_run IS NULL" if sub.next_run is None else "next_run = ?"
            session.execute(f"UPDATE digest_subscriptions SET next_run = ?, last_run = ? WHERE id = ? AND {same_slot}",
                            [iso(next_run), iso(now), sub.id, *([] if sub.next_run is None else [sub.next_run])])
        return True

    def release_run(self, sub: Subscription, next_run: datetime, holder: str) -> bool:
        """Hand back a run `holder` claimed (`claim_run(sub, next_run, …)`) and never posted, so the slot is due
        again for whichever process leads next (the app stopped before posting). One transaction; False when the
        claim is not `holder`'s or the subscription moved on since."""
        with self.database.transaction() as session:
            if session.execute("DELETE FROM digest_leases WHERE key = ? AND holder = ?",
                               [f"run:{sub.id}:{sub.next_run}", holder]) != 1:
                return False
            session.execute("UPDATE digest_subscriptions SET next_run = ? WHERE id = ? AND next_run = ?",
                            [sub.next_run, sub.id, iso(next_run)])
        return True

    @staticmethod
    def _lease(session: Session, key: str, holder: str, now: datetime) -> bool:
        return session.execute("INSERT INTO digest_leases (key, holder, at) VALUES (?, ?, ?) ON CONFLICT (key) "
                               "DO NOTHING", [key, holder, iso(now)]) == 1

    def lease(self, key: str, holder: str, now: datetime) -> bool:
        """Take the lease `key` for good; True only for the first holder that asks (a run's claim: once ever).

        A lease that expires and can be renewed (one scheduler leader) is `Store.leases`.
        """
        return self._lease(self.database, key, holder, now)

    # ------------------------------------------------------------ figures

    def figures(self, sub_id: int) -> tuple[datetime | None, dict[str, Any]]:
        """When the last digest of this subscription ran, and the figures it recorded."""
        row = self.database.query_one("SELECT at, figures FROM digest_figures WHERE subscription = ?", [sub_id])
        if not row:
            return None, {}
        return parse_iso(row["at"]), json.loads(row["figures"] or "{}")

    def save_figures(self, sub_id: int, at: datetime, figures: dict[str, Any]) -> None:
        self.database.execute(
            "INSERT INTO digest_figures (subscription, at, figures) VALUES (?, ?, ?) "
            "ON CONFLICT (subscription) DO UPDATE SET at = excluded.at, figures = excluded.figures",
            [sub_id, iso(at), json.dumps(figures)])

    # ------------------------------------------------------------ alerts

    def raise_alert(self, key: str, channel: str, subject: str, now: datetime) -> bool:
        """Record an alert as active; True when it was not active already (post it), False otherwise."""
        return self.database.execute(
            "INSERT INTO digest_alerts (key, channel, subject, raised_at, cleared_at) VALUES (?, ?, ?, ?, NULL) "
            "ON CONFLICT (key) DO UPDATE SET raised_at = excluded.raised_at, cleared_at = NULL "
            "WHERE digest_alerts.cleared_at IS NOT NULL",
            [key, channel, subject, iso(now)],
        ) == 1

    def clear_alert(self, key: str, now: datetime) -> bool:
        """Mark an active alert recovered; True when it was active."""
        return self.database.execute("UPDATE digest_alerts SET cleared_at = ? WHERE key = ? AND cleared_at IS NULL",
                                     [iso(now), key]) == 1

    def active_alerts(self) -> list[dict[str, Any]]:
        """Alerts raised and not cleared: each with its key, channel, subject and raised_at."""
        return self.database.query(
            "SELECT key, channel, subject, raised_at, cleared_at FROM digest_alerts WHERE cleared_at IS NULL "
            "ORDER BY key")
