"""Named leases that expire: one holder at a time (the scheduler's leader), timed on the database's clock.

A holder claims a lease for `ttl_seconds` and renews it (claims again) well before that; when it stops renewing
(crashed, cut off) any other holder takes the lease over once it has expired, so a dead leader is replaced
within `ttl_seconds`. Every time the lease changes hands its `token` grows: work stamped with an older token
came from a leader that lost the lease (a fencing token). Times come from the database's clock, never from the
replicas' own, so replicas whose clocks disagree still agree on who holds it.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.store.database import Database


@dataclass(frozen=True)
class Lease:
    name: str
    holder: str
    token: int  # grows by one each time the lease changes hands
    acquired_at: float  # database clock, seconds since the epoch
    expires_at: float


class LeaseStore:
    def __init__(self, database: Database) -> None:
        self.database = database

    def claim(self, name: str, holder: str, ttl_seconds: float) -> Lease | None:
        """Take the lease `name` (free or expired) or renew it (already `holder`'s) until now + ttl_seconds.

        Returns the lease when `holder` holds it, None when someone else does. One atomic UPSERT: of several
        processes asking at once, one gets it.
        """
        now = self.database.now
        row = self.database.query_one(
            "INSERT INTO leases (name, holder, token, acquired_at, expires_at) "
            f"VALUES (?, ?, 1, {now}, {now} + ?) ON CONFLICT (name) DO UPDATE SET "
            "token = CASE WHEN leases.holder = excluded.holder AND leases.expires_at > excluded.acquired_at "
            "THEN leases.token ELSE leases.token + 1 END, "
            "acquired_at = CASE WHEN leases.holder = excluded.holder AND leases.expires_at > excluded.acquired_at "
            "THEN leases.acquired_at ELSE excluded.acquired_at END, "
            "holder = excluded.holder, expires_at = excluded.expires_at "
            "WHERE leases.holder = excluded.holder OR leases.expires_at <= excluded.acquired_at "
            "RETURNING name, holder, token, acquired_at, expires_at",
            [name, holder, ttl_seconds])
        return Lease(**row) if row else None

    def release(self, name: str, holder: str) -> bool:
        """Give the lease up now (a clean shutdown), so another holder need not wait for it to expire."""
        return self.database.execute(
            f"UPDATE leases SET expires_at = {self.database.now} WHERE name = ? AND holder = ? "
            f"AND expires_at > {self.database.now}", [name, holder]) == 1

    def current(self, name: str) -> Lease | None:
        """Who holds the lease now (None when nobody does: never claimed, expired or released)."""
        row = self.database.query_one(
            f"SELECT name, holder, token, acquired_at, expires_at FROM leases WHERE name = ? AND expires_at > "
            f"{self.database.now}", [name])
        return Lease(**row) if row else None
