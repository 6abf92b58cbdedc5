"""A tiny async rate limiter: at most `limit` acquisitions in any `period` seconds (sliding window)."""

from __future__ import annotations

import asyncio
import time
from collections import deque


class SlidingWindowLimiter:
    """Waits before a call that would exceed the budget, so the server's own 429 stays rare.

    A sliding window (not a token bucket) because HCP Terraform counts requests in any one-second
    window; a full bucket plus its refill could send twice the budget within one second.
    """

    def __init__(self, limit: int, period: float = 1.0) -> None:
        if limit < 1 or period <= 0:
            raise ValueError("limit must be >= 1 and period > 0")
        self.limit = limit
        self.period = period
        self._sent: deque[float] = deque()
        self._lock: asyncio.Lock | None = None

    async def acquire(self) -> None:
        if self._lock is None:
            self._lock = asyncio.Lock()
        async with self._lock:
            while True:
                now = time.monotonic()
                while self._sent and now - self._sent[0] >= self.period:
                    self._sent.popleft()
                if len(self._sent) < self.limit:
                    self._sent.append(now)
                    return
                await asyncio.sleep(self.period - (now - self._sent[0]))
