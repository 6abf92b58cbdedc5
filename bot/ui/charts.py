"""PNG charts for digests (matplotlib, Agg backend: no display needed).

matplotlib is imported with the first chart, not with the app: it is over a third of the app's import time, and
most processes (a replica that never builds a digest, the CLI) never draw one.
"""

from __future__ import annotations

import functools
import io
from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from matplotlib.figure import Figure

MAX_BARS = 25


@functools.cache
def _figure_class() -> type[Figure]:
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    return Figure


def storage_chart(rows: Sequence[tuple[str, int, int | None, int | None]], title: str = "Storage used",
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
