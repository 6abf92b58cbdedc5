"""`/projects list` across targets at the executor: concurrency, per-target failures, unsupported clients."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

import pytest

from bot.errors import BackendError
from bot.operations import multi
from bot.operations.base import Actor, OpRequest
from bot.operations.context import OpContext, Services
from bot.operations.executor import execute


@dataclass
class Item:
    name: str
    id: str = ""
    uid: str = ""
    state: str = ""


class Lister:
    def __init__(self, items=(), error: Exception | None = None, delay: float = 0.0) -> None:
        self.items, self.error, self.delay = list(items), error, delay

    async def list_projects(self):
        await asyncio.sleep(self.delay)
        if self.error:
            raise self.error
        return self.items

    async def ping(self) -> str:
        return "ok"

    async def aclose(self) -> None: ...


class NoLister:
    async def ping(self) -> str:
        return "ok"

    async def aclose(self) -> None: ...


@pytest.fixture
def services(make_services) -> Services:
    targets = {name: {"kind": kind, "url": "http://x"} for name, kind in
               [("pol", "polaris"), ("phx", "phoenix"), ("tfc", "terraform"), ("dpc", "matillion")]}
    targets["tfc"]["options"] = {"organization": "acme"}
    return make_services({"targets": targets, "roles": {"viewer": ["UV"], "default": "none"}}, clients={
        "pol": Lister([Item("b", uid="u2", state="running"), Item("A", uid="u1", state="paused")], delay=0.2),
        "phx": Lister([Item("chatbot", id="UHJvamVjdDoy")], delay=0.2),
        "tfc": Lister(error=BackendError("HCP Terraform answered 503: Service unavailable."), delay=0.2),
        "dpc": NoLister(),
    })


async def test_lists_every_target_concurrently_and_reports_failures_as_lines(services: Services) -> None:
    op = services.registry.get("project.list", None)
    assert op is multi.LIST_ALL and op.command == "list" and not op.needs_target
    started = time.monotonic()
    result = await execute(services, OpRequest(op, Actor("UV"), multi.ListAllParams()))
    assert time.monotonic() - started < 0.5  # three 0.2 s back ends, fetched together
    assert result.ok
    by_target = {r.target: r for r in result.value}
    pol = by_target["pol"].projects
    assert [(p.name, p.id, p.state) for p in pol] == [("A", "u1", "paused"), ("b", "u2", "running")]
    assert by_target["tfc"].error == "HCP Terraform answered 503: Service unavailable."
    assert by_target["dpc"].error == "listing not supported"
    text = op.render(result.value, OpContext(services, Actor("UV"))).text
    assert text == "Projects on 4 targets (3); 2 failed"


async def test_a_target_the_user_may_not_read_is_a_line(services: Services) -> None:
    services.config.targets["phx"].policy.roles = {"viewer": ["USOMEONE"]}
    services.config.roles.default = "none"
    services.config.roles.viewer.append("UOTHER")
    rows = await multi.run_list_all(OpContext(services, Actor("UOTHER")), multi.ListAllParams())
    assert {r.target: r.error for r in rows}["phx"] == "you may not list projects here"


async def test_a_hanging_target_times_out_alone(services: Services, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(multi, "TARGET_TIMEOUT_SECONDS", 0.1)
    services.clients.register("phx", Lister([Item("late", id="x")], delay=5))
    services.clients.register("pol", Lister([Item("quick", uid="u1")]))
    rows = await multi.run_list_all(OpContext(services, Actor("UV")), multi.ListAllParams())
    by_target = {r.target: r for r in rows}
    assert by_target["phx"].error == "no answer within 0.1 s"
    assert [p.name for p in by_target["pol"].projects] == ["quick"]
