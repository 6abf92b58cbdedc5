"""Workflow-layer fixtures: real services over a temporary database, a fake Slack client that records calls."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import BaseModel

from bot.operations.base import Operation, Rendered, Risk
from bot.operations.context import Services
from bot.operations.registry import Registry


class FakeSlack:
    """Records Web API calls; `chat_postMessage` answers with a fresh ts, `views_open` with a view id."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []

    def __getattr__(self, method: str):
        async def call(**kwargs: Any) -> dict[str, Any]:
            self.calls.append((method, kwargs))
            return {"ok": True, "ts": f"1700000000.{len(self.calls):06d}", "view": {"id": f"V{len(self.calls)}"}}

        return call

    def named(self, method: str) -> list[dict[str, Any]]:
        return [kwargs for name, kwargs in self.calls if name == method]


class Replies:
    """A Bolt `respond` stand-in."""

    def __init__(self) -> None:
        self.sent: list[dict[str, Any]] = []

    async def __call__(self, **kwargs: Any) -> None:
        self.sent.append(kwargs)

    @property
    def texts(self) -> list[str]:
        return [str(s.get("text", "")) + " " + str(s.get("blocks", "")) for s in self.sent]


class ThingParams(BaseModel):
    thing: str


RUNS: list[str] = []


async def _run(ctx: Any, params: ThingParams) -> str:
    RUNS.append(params.thing)
    return params.thing


def thing_op(name: str = "thing.delete", risk: Risk = Risk.DESTRUCTIVE, **kw: Any) -> Operation:
    return Operation(name=name, summary=f"{name} a thing", params=ThingParams, risk=risk, run=_run,
                     render=lambda v, c: Rendered(f"Done {v}."), kind="polaris", verb=name.replace(".", " "), **kw)


@pytest.fixture
def slack() -> FakeSlack:
    return FakeSlack()


@pytest.fixture
def services(make_services, slack: FakeSlack) -> Services:
    RUNS.clear()
    registry = Registry()
    registry.register(thing_op())
    registry.register(thing_op("thing.stop", typed_confirmation=False))
    registry.register(thing_op("thing.wipe", typed_confirmation=True))
    registry.register(thing_op("thing.look", risk=Risk.READ))
    return make_services({"targets": {"pol": {"kind": "polaris", "url": "http://x"}},
                          "roles": {"admin": ["UADMIN", "UADMIN2"], "operator": ["UOPS"], "default": "viewer"},
                          "approvals": {"required_for": ["thing.delete"]}}, registry=registry, slack=slack)
