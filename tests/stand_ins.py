"""Stand-in destructive operations for testing the confirmation and approval paths without a back end.

A test adds them to its own registry (the `registry` fixture, which every app the test builds uses):

    @pytest.fixture
    def wipe(registry):
        with registered(registry, WIPE) as op:
            yield op
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from pydantic import BaseModel

from bot.operations.base import Operation, Preview, Rendered, Risk
from bot.operations.registry import Registry

#: Every thing a stand-in operation ran on, in order (tests clear it).
RUNS: list[str] = []


class ThingParams(BaseModel):
    thing: str


async def run_on_thing(ctx, params: ThingParams) -> str:
    RUNS.append(params.thing)
    return params.thing


def stand_in(name: str, done: str, impact: str | None = None, **kw) -> Operation:
    """A destructive operation `name` that records its runs in RUNS and answers "<done> <thing>."."""

    async def preview(ctx, params: ThingParams) -> Preview:
        return Preview(f"*{params.thing}* {impact}")

    return Operation(name=name, summary=f"{name.split('.')[-1]} a thing", params=ThingParams,
                     risk=Risk.DESTRUCTIVE, run=run_on_thing, render=lambda v, c: Rendered(f"{done} {v}."),
                     preview=preview if impact else None, **kw)


@contextmanager
def registered(registry: Registry, op: Operation) -> Iterator[Operation]:
    """`op` in `registry` for the duration (and RUNS cleared); never a registry other apps share."""
    RUNS.clear()
    registry.register(op)
    try:
        yield op
    finally:
        registry.unregister(op)
