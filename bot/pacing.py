"""Slack allows about one message per second per channel: every chat.postMessage of the app takes its turn here."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import threading
import time
from typing import Any

log = logging.getLogger("projectops.pacing")

#: The furthest ahead a slot is ever booked: a burst, a clock stepped back or reservations left by a crashed
#: process never hold a channel up longer than this (Slack's own 429 handling covers the rest).
HORIZON = 60.0
#: `INSERT … ON CONFLICT … RETURNING` needs SQLite 3.35.
SHARED = sqlite3.sqlite_version_info >= (3, 35)


class ChannelPacer:
    """Spaces messages to the same channel `interval` seconds apart; other channels are not held up.

    Each caller reserves the next free slot, then sleeps until it (no lock is held while waiting). With a
    database (`db`, the app's SQLite file) the slots live in a table, so several app processes sharing the
    file share the pace too; without one they live in this process only.
    """

    def __init__(self, per_second: float = 1.0, db: Any = None, lock: threading.RLock | None = None) -> None:
        self.interval = 1.0 / per_second
        self.db = db if SHARED else None
        self._next: dict[str, float] = {}
        self._lock = lock or threading.RLock()
        if db is not None and not SHARED:
            log.warning("SQLite %s is older than 3.35: message pacing is per process", sqlite3.sqlite_version)
        if self.db is not None:
            with self._lock:
                self.db.execute("CREATE TABLE IF NOT EXISTS channel_pacing (channel TEXT PRIMARY KEY, next_at REAL)")
                self.db.execute("DELETE FROM channel_pacing WHERE next_at < ?", [time.time() - 3600])

    def _reserve_here(self, channel: str) -> float:
        with self._lock:
            now = time.monotonic()
            slot = max(now, min(self._next.get(channel, 0.0), now + HORIZON))
            self._next[channel] = slot + self.interval
            return slot - now

    def _reserve_shared(self, channel: str) -> float:
        """One statement, so atomic across processes; the clamp keeps a wall clock stepped back harmless."""
        with self._lock:
            now = time.time()
            following = self.db.execute(
                "INSERT INTO channel_pacing (channel, next_at) VALUES (?, ?) ON CONFLICT(channel) DO UPDATE "
                "SET next_at = max(min(next_at, ?), ?) + ? RETURNING next_at",
                [channel, now + self.interval, now + HORIZON, now, self.interval],
            ).fetchone()[0]
            return following - self.interval - now

    async def turn(self, channel: str) -> None:
        """Wait for this channel's next slot. A pacing failure is logged and the message goes out anyway."""
        try:
            wait = (self._reserve_here(channel) if self.db is None
                    else await asyncio.to_thread(self._reserve_shared, channel))
        except sqlite3.Error as exc:
            log.warning("message pacing unavailable (%s); posting without it", exc)
            return
        if wait > 0:
            await asyncio.sleep(wait)
