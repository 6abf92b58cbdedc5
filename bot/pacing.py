"""Slack allows about one message per second per channel: every chat.postMessage of the app takes its turn here."""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from typing import TYPE_CHECKING

from bot.store.errors import StoreError

if TYPE_CHECKING:
    from bot.store.pacing import PacingStore

log = logging.getLogger("projectops.pacing")

#: The furthest ahead a slot is ever booked: a burst, a clock stepped back or reservations left by a crashed
#: process never hold a channel up longer than this (Slack's own 429 handling covers the rest).
HORIZON = 60.0


class ChannelPacer:
    """Spaces messages to the same channel `interval` seconds apart; other channels are not held up.

    Each caller reserves the next free slot, then sleeps until it (no lock is held while waiting). With the
    store's slots (`slots`, `Store.pacing`) several app processes sharing the database share the pace too;
    without them the slots live in this process only.
    """

    def __init__(self, per_second: float = 1.0, slots: PacingStore | None = None) -> None:
        self.interval = 1.0 / per_second
        self.slots = slots
        self._next: dict[str, float] = {}
        self._lock = threading.Lock()
        if slots is not None:
            try:
                slots.forget_before(time.time() - 3600)
            except StoreError as exc:
                log.warning("could not tidy the message pacing slots (%s)", exc)

    def _reserve_here(self, channel: str) -> float:
        with self._lock:
            now = time.monotonic()
            slot = max(now, min(self._next.get(channel, 0.0), now + HORIZON))
            self._next[channel] = slot + self.interval
            return slot - now

    def _reserve_shared(self, channel: str) -> float:
        """The wait for this channel's next slot in the shared table (wall clock, clamped by the store)."""
        assert self.slots is not None
        now = time.time()
        return self.slots.reserve(channel, now=now, interval=self.interval, horizon=HORIZON) - now

    async def turn(self, channel: str) -> None:
        """Wait for this channel's next slot. A pacing failure is logged and the message goes out anyway."""
        try:
            wait = (self._reserve_here(channel) if self.slots is None
                    else await asyncio.to_thread(self._reserve_shared, channel))
        except StoreError as exc:
            log.warning("message pacing unavailable (%s); posting without it", exc)
            return
        if wait > 0:
            await asyncio.sleep(wait)
