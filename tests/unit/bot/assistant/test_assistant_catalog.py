"""The live-names snapshot and its short-lived cache."""

from __future__ import annotations

import asyncio

import pytest

from bot.assistant import Catalog, CatalogCache, ProjectNames, TargetNames

TARGETS = {"polaris": "polaris", "phoenix": "phoenix"}


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def names_of(target: str, kind: str, *projects: str) -> TargetNames:
    return TargetNames(target, kind, tuple(ProjectNames(p) for p in projects))


def test_catalog_index_finds_names_in_any_case_and_their_owners() -> None:
    catalog = Catalog.build({
        "polaris": ("polaris", [ProjectNames("clickstream", tables=("clicks",), jobs=("0b376ddb-f87f",),
                                             connections=("clickstream-archive",))]),
        "terraform": ("terraform", [ProjectNames("Default Project", id="prj-abc", workspaces=("scratch",))]),
    })
    assert [e.what for e in catalog.by_folded["clickstream"]] == ["project"]
    (table,) = catalog.by_folded["clicks"]
    assert (table.what, table.target, table.project) == ("table", "polaris", "clickstream")
    assert catalog.by_folded["default project"][0].value == "Default Project"
    assert catalog.by_folded["prj-abc"][0].value == "Default Project"
    assert catalog.by_folded["scratch"][0].what == "workspace"
    assert [e.value for e in catalog.job_entries] == ["0b376ddb-f87f"]
    assert "archive" in catalog.components
    assert catalog.projects_of("polaris") == ["clickstream"]
    assert catalog.projects_of("nowhere") == []


async def test_cache_loads_every_target_once_within_the_ttl() -> None:
    calls: list[str] = []

    async def loader(target: str, kind: str) -> TargetNames:
        calls.append(target)
        return names_of(target, kind, f"{target}-project")

    clock = Clock()
    cache = CatalogCache(loader, ttl_seconds=30, clock=clock)
    first = await cache.get(TARGETS)
    assert sorted(calls) == ["phoenix", "polaris"]
    assert first.projects_of("polaris") == ["polaris-project"]
    clock.now += 10
    await cache.get(TARGETS)
    assert len(calls) == 2
    clock.now += 25
    await cache.get(TARGETS)
    assert len(calls) == 4


async def test_concurrent_callers_share_one_load() -> None:
    started = asyncio.Event()
    release = asyncio.Event()
    calls = 0

    async def loader(target: str, kind: str) -> TargetNames:
        nonlocal calls
        calls += 1
        started.set()
        await release.wait()
        return names_of(target, kind, "clickstream")

    cache = CatalogCache(loader, clock=Clock())
    one = asyncio.create_task(cache.get({"polaris": "polaris"}))
    await started.wait()
    two = asyncio.create_task(cache.get({"polaris": "polaris"}))
    await asyncio.sleep(0)
    release.set()
    first, second = await asyncio.gather(one, two)
    assert calls == 1
    assert first.projects_of("polaris") == second.projects_of("polaris") == ["clickstream"]


async def test_a_failing_target_keeps_its_last_names_or_is_marked_unavailable() -> None:
    fail = {"polaris": False, "phoenix": True}

    async def loader(target: str, kind: str) -> TargetNames:
        if fail[target]:
            raise RuntimeError("502 from the back end")
        return names_of(target, kind, "clickstream")

    clock = Clock()
    cache = CatalogCache(loader, ttl_seconds=5, clock=clock)
    catalog = await cache.get(TARGETS)
    assert catalog.unavailable == {"phoenix"}
    assert catalog.projects_of("polaris") == ["clickstream"]
    fail["polaris"] = True
    clock.now += 10
    stale = await cache.get(TARGETS)
    assert stale.projects_of("polaris") == ["clickstream"]  # stale beats nothing
    assert stale.unavailable == {"phoenix"}


async def test_a_slow_target_costs_only_its_timeout() -> None:
    async def loader(target: str, kind: str) -> TargetNames:
        if target == "phoenix":
            await asyncio.sleep(5)
        return names_of(target, kind, "x")

    cache = CatalogCache(loader, timeout_seconds=0.05, clock=Clock())
    catalog = await asyncio.wait_for(cache.get(TARGETS), 2)
    assert catalog.unavailable == {"phoenix"}
    assert catalog.projects_of("polaris") == ["x"]


async def test_invalidate_refills_one_target() -> None:
    calls: list[str] = []

    async def loader(target: str, kind: str) -> TargetNames:
        calls.append(target)
        return names_of(target, kind)

    cache = CatalogCache(loader, clock=Clock())
    await cache.get(TARGETS)
    cache.invalidate("polaris")
    await cache.get(TARGETS)
    assert sorted(calls) == ["phoenix", "polaris", "polaris"]
    cache.invalidate()
    await cache.get(TARGETS)
    assert len(calls) == 5


@pytest.mark.parametrize("ttl", [0.0])
async def test_zero_ttl_always_reloads(ttl: float) -> None:
    calls = 0

    async def loader(target: str, kind: str) -> TargetNames:
        nonlocal calls
        calls += 1
        return names_of(target, kind)

    cache = CatalogCache(loader, ttl_seconds=ttl, clock=Clock())
    await cache.get({"polaris": "polaris"})
    await cache.get({"polaris": "polaris"})
    assert calls == 2
