"""Audit outcomes that could not be written because the database was unreachable, kept until it is back.

The choke point writes an operation's `started` row before it runs; when that write fails, nothing runs (the person
is told the database cannot be reached). The outcome is written after the operation ran, when the database may have
gone away meanwhile: the work is done and cannot be undone, so the outcome is kept here, in memory, and written as
soon as the database answers again (retried every `RETRY_SECONDS`, and once more when the app stops). An outcome
that still cannot be written when the app stops is logged at ERROR with everything it holds, so an operator can
enter it; its `started` row is already in the database, so `/projects audit` shows the attempt meanwhile.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from dataclasses import dataclass, field
from typing import Any

from bot.store.audit import AuditLog
from bot.store.errors import StoreError

log = logging.getLogger("projectops.audit")

#: How often the kept outcomes are tried again while the database is away.
RETRY_SECONDS = 5.0


@dataclass
class PendingOutcome:
    row_id: int
    outcome: str
    details: dict[str, Any] = field(default_factory=dict)  # error, duration_ms, request_id


class AuditBacklog:
    """Thread-safe; one per app, shared by its serving and background loops."""

    def __init__(self) -> None:
        self._pending: list[tuple[AuditLog, PendingOutcome]] = []
        self._lock = threading.Lock()
        self._retrying: asyncio.Task | None = None

    def __len__(self) -> int:
        with self._lock:
            return len(self._pending)

    def keep(self, audit: AuditLog, row_id: int, outcome: str, **details: Any) -> None:
        """Keep an outcome the database did not take, and retry it in the background of the running loop."""
        with self._lock:
            self._pending.append((audit, PendingOutcome(row_id, outcome, details)))
        log.warning("audit #%s: outcome %s kept in memory until the database is back", row_id, outcome)
        if self._retrying is None or self._retrying.done():
            with contextlib.suppress(RuntimeError):  # no running loop (a sync caller): the next keep or flush does
                self._retrying = asyncio.get_running_loop().create_task(self._retry(), name="audit-backlog")

    def flush(self) -> int:
        """Write every kept outcome the database takes now, oldest first (blocking); returns how many are still
        kept. An outcome stays counted until it is written."""
        with self._lock:
            pending = list(self._pending)
        for entry in pending:
            audit, item = entry
            try:
                audit.finish(item.row_id, item.outcome, **item.details)
            except StoreError:
                break  # still away: the rest stay kept, in order, for the next try
            except ValueError:  # already completed (the first write did commit before the connection broke)
                pass
            else:
                log.info("audit #%s: kept outcome %s written", item.row_id, item.outcome)
            with self._lock:
                if entry in self._pending:  # another flush (the retry, the stop) may have written it first
                    self._pending.remove(entry)
        with self._lock:
            return len(self._pending)

    async def _retry(self) -> None:
        while len(self):
            await asyncio.sleep(RETRY_SECONDS)
            await asyncio.to_thread(self.flush)

    async def close(self) -> None:
        """The app is stopping: one last write; what is still kept is logged with all it holds."""
        if self._retrying is not None and not self._retrying.done():
            self._retrying.cancel()
        if await asyncio.to_thread(self.flush):
            with self._lock:
                lost, self._pending = self._pending, []
            for _, item in lost:
                log.error("audit #%s could not be completed before the app stopped: outcome=%s %s", item.row_id,
                          item.outcome, item.details)
