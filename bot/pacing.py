"""Slack allows about one message per second per channel: every chat.postMessage of the app takes its turn here."""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any


class ChannelPacer:
    """Spaces messages to the same channel `interval` seconds apart; other channels are not held up.

    Each caller reserves the next free slot, then sleeps until it (no lock is held while waiting). With a
    database (`db`, the app's SQLite file) the slots live in a table, so several app processes sharing the
    file share the pace too; without one they live in this process only.
    """

    def __init__(self, per_second: float = 1.0, db: Any = None, lock: threading.RLock | None = None) -> None:
        self.interval = 1.0 / per_second
        self.db = db
        self._next: dict[str, float] = {}
        self._lock = lock or threading.RLock()
        if db is not None:
            with self._lock:
                db.execute("CREATE TABLE IF NOT EXISTS channel_pacing (channel TEXT PRIMARY KEY, next_at REAL)")

    def _reserve(self, channel: str) -> float:
        """Seconds to wait for this message's slot."""
        with self._lock:
            now = time.time()
            if self.db is None:
                slot = max(now, self._next.get(channel, 0.0))
                self._next[channel] = slot + self.interval
                return slot - now
            following = self.db.execute(  # one statement: atomic across processes sharing the file
                "INSERT INTO channel_pacing (channel, next_at) VALUES (?, ?) ON CONFLICT(channel) DO UPDATE "
                "SET next_at = max(next_at, ?) + ? RETURNING next_at",
                [channel, now + self.interval, now, self.interval],
            ).fetchone()[0]
            return following - self.interval - now

    async def turn(self, channel: str) -> None:
        wait = self._reserve(channel) if self.db is None else await asyncio.to_thread(self._reserve, channel)
        if wait > 0:
            await asyncio.sleep(wait)
