from __future__ import annotations

import asyncio
import time

from bot.pacing import ChannelPacer


async def test_same_channel_is_spaced_and_others_are_not() -> None:
    pacer = ChannelPacer(per_second=10)  # 100 ms apart
    started = time.monotonic()
    stamps: dict[str, list[float]] = {"C1": [], "C2": []}

    async def post(channel: str) -> None:
        await pacer.turn(channel)
        stamps[channel].append(time.monotonic() - started)

    await asyncio.gather(*(post("C1") for _ in range(3)), post("C2"))
    c1 = sorted(stamps["C1"])
    assert c1[1] - c1[0] >= 0.09 and c1[2] - c1[1] >= 0.09
    assert stamps["C2"][0] < 0.05
