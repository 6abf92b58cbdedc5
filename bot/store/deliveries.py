"""Slack deliveries already handled (event ids, button clicks, view submissions): each runs once."""

from __future__ import annotations

import time

from bot.store.database import Database

#: Keys are kept at least this long whatever their ttl, then tidied away (every `PURGE_EVERY` seconds).
KEEP_SECONDS = 86400.0
PURGE_EVERY = 600.0


class Deliveries:
    """A key remembered for `ttl_seconds`; shared by every process on the database."""

    def __init__(self, database: Database) -> None:
        self.database = database
        self._purged = 0.0

    def first(self, key: str, ttl_seconds: float = 3600) -> bool:
        """True the first time `key` is seen (within ttl); False for a redelivery or a duplicate click.

        One statement (`INSERT … ON CONFLICT DO UPDATE … WHERE` the key is older than its ttl): of several
        processes or replicas handed the same delivery at once, exactly one is told True.
        """
        now = time.time()
        first = self.database.execute(
            "INSERT INTO seen_deliveries (key, at) VALUES (?, ?) "
            "ON CONFLICT (key) DO UPDATE SET at = excluded.at WHERE seen_deliveries.at <= ?",
            [key, now, now - ttl_seconds],
        ) == 1
        if now - self._purged > PURGE_EVERY:
            self._purged = now
            self.database.execute("DELETE FROM seen_deliveries WHERE at < ?", [now - max(ttl_seconds, KEEP_SECONDS)])
        return first
