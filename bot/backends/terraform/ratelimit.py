"""A small async rate limiter: at most `limit` requests in flight or finished within any `period` seconds."""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress


class SlidingWindowLimiter:
    """Waits before a request that could exceed the budget, so the server's own 429 stays rare.

    A sliding window (not a token bucket) because HCP Terraform counts requests in any one-second
    window; a full bucket plus its refill could send twice the budget within one second. A request
    holds its place until its answer arrives, and the window counts from then: the server saw the
    request at some moment before that, so however late a busy event loop sends it, the next one
    allowed in its place reaches the server a full `period` after it.

    Callers queue in arrival order (an `asyncio.Lock` is fair); only the first waits for a place,
    woken by a request ending or by time. Giving a place back never awaits, so a cancelled request
    always returns it.
    """

    def __init__(self, limit: int, period: float = 1.0) -> None:
        if limit < 1 or period <= 0:
            raise ValueError("limit must be >= 1 and period > 0")
        self.limit = limit
        self.period = period
        self._ends: list[list[float]] = []  # one cell per recent request: when it ended (inf while in flight)
        self._queue: asyncio.Lock | None = None
        self._ended: asyncio.Event | None = None

    @asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        """Hold a place in the budget around one request."""
        if self._queue is None or self._ended is None:
            self._queue, self._ended = asyncio.Lock(), asyncio.Event()
        cell = await self._take(self._queue, self._ended)
        try:
            yield
        finally:
            cell[0] = time.monotonic()
            self._ended.set()

    async def _take(self, queue: asyncio.Lock, ended: asyncio.Event) -> list[float]:
        async with queue:
            while True:
                now = time.monotonic()
                self._ends = [cell for cell in self._ends if now - cell[0] < self.period]
                if len(self._ends) < self.limit:
                    cell = [math.inf]
                    self._ends.append(cell)
                    return cell
                finished = [cell[0] for cell in self._ends if cell[0] != math.inf]
                ended.clear()
                with suppress(TimeoutError):
                    async with asyncio.timeout(self.period - (now - min(finished)) if finished else None):
                        await ended.wait()
