"""Slack deliveries already handled (event ids, button clicks, view submissions): each runs once."""

from __future__ import annotations

import time

from bot.store.database import Database


class Deliveries:
    """A key remembered for `ttl_seconds`; shared by every process on the database."""

    def __init__(self, database: Database) -> None:
        self.database = database

    def first(self, key: str, ttl_seconds: float = 3600) -> bool:
        """True the first time `key` is seen (within ttl); False for a redelivery or a duplicate click."""
        now = time.time()
        with self.database.transaction() as db:
            db.execute("DELETE FROM seen_deliveries WHERE at < ?", [now - ttl_seconds])
            cursor = db.execute("INSERT OR IGNORE INTO seen_deliveries (key, at) VALUES (?, ?)", [key, now])
            return cursor.rowcount == 1
