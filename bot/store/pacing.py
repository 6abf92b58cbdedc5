"""Posting slots per Slack channel, shared by every process on the database (bot/pacing.py waits for them)."""

from __future__ import annotations

import sqlite3

from bot.store.database import Database
from bot.store.errors import StoreError


class PacingStore:
    def __init__(self, database: Database) -> None:
        self.database = database

    def reserve(self, channel: str, *, now: float, interval: float, horizon: float) -> float:
        """Book `channel`'s next free slot and return when it starts (on `now`'s clock, never before `now`).

        The following slot starts `interval` later. A slot is never booked beyond `now + horizon`, so a burst,
        a wall clock stepped back or bookings left by a crashed process cannot hold a channel up for long.
        One write transaction: processes sharing the database share the pace.
        """
        try:
            with self.database.transaction() as db:
                row = db.execute("SELECT next_at FROM channel_pacing WHERE channel = ?", [channel]).fetchone()
                slot = now if row is None else max(now, min(float(row[0]), now + horizon))
                db.execute("INSERT OR REPLACE INTO channel_pacing (channel, next_at) VALUES (?, ?)",
                           [channel, slot + interval])
            return slot
        except sqlite3.Error as exc:
            raise StoreError(f"could not reserve a posting slot: {exc}") from exc

    def forget_before(self, moment: float) -> None:
        """Drop slots that ended before `moment` (a table that does not grow with every channel ever used)."""
        try:
            with self.database.lock:
                self.database.db.execute("DELETE FROM channel_pacing WHERE next_at < ?", [moment])
        except sqlite3.Error as exc:
            raise StoreError(f"could not tidy the posting slots: {exc}") from exc
