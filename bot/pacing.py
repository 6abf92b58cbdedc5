"""Slack allows about one message per second per channel: every chat.postMessage of the app takes its turn here."""

from __future__ import annotations

import asyncio
import threading
import time


class ChannelPacer:
    """Spaces messages to the same channel `interval` seconds apart; other channels are not held up.

    Each caller reserves the next free slot under a thread lock, then sleeps until it, so the pacer
    works across event loops and threads (and never holds a lock while waiting).
    """

    def __init__(self, per_second: float = 1.0) -> None:
        self.interval = 1.0 / per_second
        self._next: dict[str, float] = {}
        self._lock = threading.Lock()

    def _reserve(self, channel: str) -> float:
        with self._lock:
            now = time.monotonic()
            slot = max(now, self._next.get(channel, 0.0))
            self._next[channel] = slot + self.interval
            return slot - now

    async def turn(self, channel: str) -> None:
        wait = self._reserve(channel)
        if wait > 0:
            await asyncio.sleep(wait)


#: The app's one pacer (digests, alerts, announcements, approvals and live messages share it).
PACER = ChannelPacer()
