"""Slack work in flight: every task started while a Slack request is handled, so a stopping app lets it finish.

Bolt acks a request and runs the rest of its listener in tasks of their own (an approved delete, a live progress
message, the answer at the response_url). A replica that stops (SIGTERM: a deploy, a scale-down) must not cut that
work off halfway. `observe_request` marks the request's context (`handling()`); a task factory on the serving loop
(`InFlight.install`) remembers each task created in a marked context, and tasks they create in turn, and
`InFlight.drain` waits for them, within a bound, once the app stops taking requests.
"""

from __future__ import annotations

import asyncio
import logging
import time
import weakref
from contextvars import ContextVar
from typing import Any

log = logging.getLogger("projectops.inflight")

_handling: ContextVar[bool] = ContextVar("projectops_handling_slack", default=False)


def handling() -> None:
    """Mark the current context as handling a Slack request: tasks started from here on are in flight."""
    _handling.set(True)


class InFlight:
    """The serving loop's Slack work still running."""

    def __init__(self) -> None:
        self._tasks: weakref.WeakSet[asyncio.Task[Any]] = weakref.WeakSet()

    def install(self, loop: asyncio.AbstractEventLoop) -> None:
        """Remember every task `loop` creates in a context marked by `handling()` (keeps any factory already set)."""
        previous = loop.get_task_factory()

        def factory(loop: asyncio.AbstractEventLoop, coro: Any, **kwargs: Any) -> asyncio.Task[Any]:
            task = previous(loop, coro, **kwargs) if previous else asyncio.Task(coro, loop=loop, **kwargs)
            if _handling.get():
                self._tasks.add(task)
            return task

        loop.set_task_factory(factory)  # type: ignore[arg-type]

    def running(self) -> list[asyncio.Task[Any]]:
        return [t for t in list(self._tasks) if not t.done()]

    async def drain(self, seconds: float) -> int:
        """Wait up to `seconds` for the work in flight (and what it starts meanwhile) to finish; cancel what is
        left (an operation cut off completes its audit row as failed). Returns how many were cut off."""
        deadline = time.monotonic() + seconds
        running = self.running()
        if running:
            log.info("stopping: waiting up to %.0f s for %d Slack task(s) in flight", seconds, len(running))
        while running and time.monotonic() < deadline:
            await asyncio.wait(running, timeout=deadline - time.monotonic())
            running = self.running()
        for task in running:
            task.cancel()
        if running:
            log.warning("stopping: %d Slack task(s) did not finish within %.0f s and were cancelled", len(running),
                        seconds)
            await asyncio.wait(running, timeout=5)
        return len(running)
