"""Posting slots per Slack channel, shared by every process on the database (bot/pacing.py waits for them)."""

from __future__ import annotations

from bot.store.database import Database


class PacingStore:
    def __init__(self, database: Database) -> None:
        self.database = database

    def reserve(self, channel: str, *, now: float, interval: float, horizon: float) -> float:
        """Book `channel`'s next free slot and return when it starts (on `now`'s clock, never before `now`).

        The following slot starts `interval` later. A slot is never booked beyond `now + horizon`, so a burst,
        a wall clock stepped back or bookings left by a crashed process cannot hold a channel up for long.
        One statement (an atomic UPSERT … RETURNING): processes and replicas sharing the database share the pace.
        """
        db = self.database
        row = db.query_one(
            "INSERT INTO channel_pacing (channel, next_at) VALUES (?, ?) ON CONFLICT (channel) DO UPDATE "
            f"SET next_at = {db.greatest}(?, {db.least}(channel_pacing.next_at, ?)) + ? RETURNING next_at",
            [channel, now + interval, now, now + horizon, interval])
        assert row is not None
        return float(row["next_at"]) - interval

    def forget_before(self, moment: float) -> None:
        """Drop slots that ended before `moment` (a table that does not grow with every channel ever used)."""
        self.database.execute("DELETE FROM channel_pacing WHERE next_at < ?", [moment])
