"""Charts are drawn in a process of their own, which is replaced when it dies."""

from __future__ import annotations

import os
import signal
import time

from bot.ui import charts

GB = 10**9
ROWS = [("polaris/clickstream", 90 * GB, 100 * GB, 80 * GB), ("polaris/ads", 10 * GB, 100 * GB, None)]


async def test_a_chart_is_drawn_in_the_chart_process_and_a_dead_one_is_replaced() -> None:
    png = await charts.render_storage_chart(ROWS, "Storage", 0.8)
    assert png.startswith(b"\x89PNG")
    [pid] = list(charts._chart_process()._processes)  # the pool's one worker
    assert pid != os.getpid()
    os.kill(pid, signal.SIGKILL)
    time.sleep(0.2)
    again = await charts.render_storage_chart(ROWS, "Storage", 0.8)
    assert again.startswith(b"\x89PNG")
    assert pid not in charts._chart_process()._processes


def test_the_chart_process_ends_when_the_app_is_killed() -> None:
    import subprocess
    import sys

    app = subprocess.Popen([sys.executable, "-c", (
        "import asyncio, sys, time\n"
        "from bot.ui import charts\n"
        f"asyncio.run(charts.render_storage_chart({ROWS!r}))\n"
        "print(*charts._chart_process()._processes, flush=True)\n"
        "time.sleep(60)\n")], stdout=subprocess.PIPE, text=True)
    try:
        worker = int(app.stdout.readline())  # type: ignore[union-attr]
        os.kill(worker, 0)  # running
        app.kill()  # SIGKILL: no atexit, no pool shutdown
        app.wait(10)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                os.kill(worker, 0)
            except ProcessLookupError:
                return
            time.sleep(0.05)
        os.kill(worker, signal.SIGKILL)
        raise AssertionError("the chart process outlived the app")
    finally:
        app.kill()
