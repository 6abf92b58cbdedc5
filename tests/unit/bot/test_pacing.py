from __future__ import annotations

import asyncio
import time

from bot.pacing import ChannelPacer
from bot.store import Store


async def test_same_channel_is_spaced_and_others_are_not() -> None:
    pacer = ChannelPacer(per_second=10)  # 100 ms apart
    started = time.monotonic()
    stamps: dict[str, list[float]] = {"C1": [], "C2": []}

    async def post(channel: str) -> None:
        await pacer.turn(channel)
        stamps[channel].append(time.monotonic() - started)

    await asyncio.gather(*(post("C1") for _ in range(3)), post("C2"))
    c1 = sorted(stamps["C1"])
    # turns are slots 100 ms apart from the first: a late wake-up of one post cannot pull the next one closer
    assert c1[1] >= 0.095 and c1[2] >= 0.195, c1
    assert stamps["C2"][0] < c1[1]  # C2 had its turn before C1's second slot: it did not queue behind C1


async def test_processes_sharing_the_database_share_the_pace(tmp_path) -> None:
    # two app processes = two Stores (two connections) on one file, each with its own pacer
    first, second = Store.open(tmp_path / "db.sqlite"), Store.open(tmp_path / "db.sqlite")
    pacers = [ChannelPacer(per_second=10, slots=store.pacing) for store in (first, second)]
    started = time.monotonic()
    stamps: list[float] = []

    async def post(pacer: ChannelPacer, channel: str = "C1") -> None:
        await pacer.turn(channel)
        stamps.append(time.monotonic() - started)

    await asyncio.gather(*(post(pacers[i % 2]) for i in range(4)))
    stamps.sort()
    # slots 100 ms apart across both pacers (asserted as slots: one late wake-up cannot pull the next one closer)
    assert all(stamp >= 0.1 * i - 0.005 for i, stamp in enumerate(stamps)), stamps
    other = time.monotonic()
    await post(pacers[1], "C2")
    assert time.monotonic() - other < 0.09  # another channel is not held up: it does not wait for a slot


def test_a_wall_clock_stepped_back_or_a_burst_never_books_beyond_the_horizon(tmp_path, monkeypatch) -> None:
    from bot import pacing

    pacer = ChannelPacer(per_second=1, slots=Store.open(tmp_path / "db.sqlite").pacing)
    clock = [1_000_000.0]
    monkeypatch.setattr(pacing.time, "time", lambda: clock[0])
    waits = [pacer._reserve_shared("C1") for _ in range(100)]  # a burst of 100
    assert waits[:3] == [0.0, 1.0, 2.0] and max(waits) <= pacing.HORIZON + 1
    clock[0] -= 3600  # the clock steps back an hour
    assert pacer._reserve_shared("C1") <= pacing.HORIZON + 1
    assert pacer._reserve_shared("C2") == 0.0
