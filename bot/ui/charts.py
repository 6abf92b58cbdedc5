"""PNG charts for digests (matplotlib, Agg backend: no display needed).

Charts are drawn in a process of their own (`render_storage_chart`): drawing one is some 100 ms of pure-Python work
that holds the interpreter lock, which, drawn on a thread of the app, would hold up the acks of every request
arriving meanwhile. One process serves every app in this one (started with the first chart, reused, stopped at
exit); if it dies, the next chart starts another; if the app dies (even by SIGKILL), it ends too. matplotlib is
therefore never imported by the app itself.
"""

from __future__ import annotations

import asyncio
import functools
import io
import logging
import multiprocessing
import multiprocessing.connection
import os
import threading
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from matplotlib.figure import Figure

log = logging.getLogger("projectops.charts")

MAX_BARS = 25
StorageRow = tuple[str, int, int | None, int | None]

_process: ProcessPoolExecutor | None = None
_process_lock = threading.Lock()


def _chart_process() -> ProcessPoolExecutor:
    global _process
    with _process_lock:
        if _process is None:  # spawn: a clean interpreter, not a fork of a threaded app
            _process = ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn"),
                                           initializer=_end_with_parent)
        return _process


def _end_with_parent() -> None:
    """In the chart process: exit as soon as the app process is gone. A pool worker holds both ends of its task
    queue, so a parent killed without shutting the pool down would otherwise leave it waiting forever."""
    parent = multiprocessing.parent_process()
    if parent is None:
        return

    def watch() -> None:
        multiprocessing.connection.wait([parent.sentinel])
        os._exit(0)

    threading.Thread(target=watch, name="end-with-parent", daemon=True).start()


def _discard(process: ProcessPoolExecutor) -> None:
    global _process
    with _process_lock:
        if _process is process:
            _process = None
    process.shutdown(wait=False, cancel_futures=True)


async def render_storage_chart(rows: Sequence[StorageRow], title: str = "Storage used",
                               threshold: float = 0.8) -> bytes:
    """`storage_chart`, drawn in the chart process; a process that died is replaced once, then the chart is drawn
    on a thread here."""
    rows = list(rows)
    loop = asyncio.get_running_loop()
    for _ in range(2):
        process = _chart_process()
        try:
            return await loop.run_in_executor(process, storage_chart, rows, title, threshold)
        except BrokenProcessPool:
            log.warning("the chart process stopped; starting another")
            _discard(process)
    return await asyncio.to_thread(storage_chart, rows, title, threshold)


@functools.cache
def _figure_class() -> type[Figure]:
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    return Figure


def storage_chart(rows: Sequence[StorageRow], title: str = "Storage used",
                  threshold: float = 0.8) -> bytes:
    """Horizontal bars of storage used per project (GB), red at `threshold` of the maximum or more, a tick for the
    last digest, a pale bar for the maximum.

    `rows` are `(label, current_bytes, max_bytes, previous_bytes)`, most used first; at most `MAX_BARS` drawn.
    """
    rows = list(rows)[:MAX_BARS]
    gb = 1e9
    figure = _figure_class()(figsize=(8, max(2.0, 0.35 * len(rows) + 1.2)), dpi=100)
    axes = figure.subplots()
    labels = [r[0] for r in rows][::-1]
    current = [r[1] / gb for r in rows][::-1]
    caps = [(r[2] or 0) / gb for r in rows][::-1]
    previous = [(r[3] / gb if r[3] is not None else None) for r in rows][::-1]
    positions = range(len(rows))
    colors = ["#d9534f" if cap and used / cap >= threshold else "#4a90d9"
              for used, cap in zip(current, caps, strict=True)]
    axes.barh(positions, caps, color="#eeeeee", label="maximum")
    axes.barh(positions, current, color=colors, label="used")
    trend = [(p, i) for i, p in enumerate(previous) if p is not None]
    if trend:
        axes.scatter([p for p, _ in trend], [i for _, i in trend], marker="|", s=200, color="black",
                     label="last digest", zorder=3)
    axes.set_yticks(list(positions), labels, fontsize=8)
    axes.set_xlabel("GB")
    axes.set_title(title)
    axes.legend(loc="lower right", fontsize=7)
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()
