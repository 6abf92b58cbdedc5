"""The live names the assistant resolves words against, and a short-lived cache that fills them.

A `Catalog` is a snapshot: per target its projects, and for Polaris each project's tables, job ids
and connections (for Terraform each project's workspaces). The `CatalogCache` keeps one snapshot
per target for a few seconds and refills it through an async loader that the composition root
wires to READ operations through the choke point; a target that fails or is slow keeps its last
names (or is marked unavailable) and never delays the answer beyond the loader timeout.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Literal

NameKind = Literal["project", "table", "job", "connection", "workspace"]


@dataclass(frozen=True)
class ProjectNames:
    """One project's name (and id, when the back end has one) and the names inside it."""

    name: str
    id: str = ""
    tables: tuple[str, ...] = ()
    jobs: tuple[str, ...] = ()
    connections: tuple[str, ...] = ()
    workspaces: tuple[str, ...] = ()
    #: The project's state when the back end tells it ("running", "paused", "stopped"…); "" when unknown.
    state: str = ""
    #: Per job id its status and health when the listing tells them ("running", "error"): (id, status, health).
    job_states: tuple[tuple[str, str, str], ...] = ()


@dataclass(frozen=True)
class TargetNames:
    """The names of one configured target (`polaris`, `polaris-eu`, …) of a back-end kind."""

    target: str
    kind: str
    projects: tuple[ProjectNames, ...] = ()


@dataclass(frozen=True)
class NameEntry:
    """One name the catalog knows: what it is, where it lives."""

    what: NameKind
    value: str
    target: str
    kind: str
    project: str  # the project it belongs to (itself for a project)


@dataclass(frozen=True)
class Catalog:
    """A snapshot of live names; `unavailable` names targets whose lists could not be read."""

    targets: tuple[TargetNames, ...] = ()
    unavailable: frozenset[str] = frozenset()

    @classmethod
    def build(cls, spec: Mapping[str, tuple[str, Iterable[ProjectNames | str]]]) -> Catalog:
        """`{"polaris": ("polaris", [ProjectNames(...), "other"]), ...}`: handy for tests and demos."""
        return cls(tuple(
            TargetNames(name, kind, tuple(p if isinstance(p, ProjectNames) else ProjectNames(p) for p in projects))
            for name, (kind, projects) in spec.items()
        ))

    def of(self, target: str) -> TargetNames | None:
        return next((t for t in self.targets if t.target == target), None)

    def projects_of(self, target: str) -> list[str]:
        names = self.of(target)
        return [p.name for p in names.projects] if names else []

    def project(self, target: str, name: str) -> ProjectNames | None:
        names = self.of(target)
        return next((p for p in names.projects if p.name == name), None) if names else None

    @cached_property
    def entries(self) -> tuple[NameEntry, ...]:
        out: list[NameEntry] = []
        for t in self.targets:
            for p in t.projects:
                out.append(NameEntry("project", p.name, t.target, t.kind, p.name))
                out += [NameEntry("table", n, t.target, t.kind, p.name) for n in p.tables]
                out += [NameEntry("job", n, t.target, t.kind, p.name) for n in p.jobs]
                out += [NameEntry("connection", n, t.target, t.kind, p.name) for n in p.connections]
                out += [NameEntry("workspace", n, t.target, t.kind, p.name) for n in p.workspaces]
        return tuple(out)

    @cached_property
    def by_folded(self) -> dict[str, tuple[NameEntry, ...]]:
        """Every name (but job ids) and project id, case-folded, to the entries it names."""
        index: dict[str, list[NameEntry]] = {}
        for e in self.entries:
            if e.what != "job":
                index.setdefault(e.value.casefold(), []).append(e)
        for t in self.targets:
            for p in t.projects:
                if p.id:
                    index.setdefault(p.id.casefold(), []).append(NameEntry("project", p.name, t.target, t.kind, p.name))
        return {k: tuple(v) for k, v in index.items()}

    @cached_property
    def by_component(self) -> dict[str, tuple[NameEntry, ...]]:
        """Each part of a hyphenated name ("analytics" of analytics-prod), case-folded, to what it is part of."""
        index: dict[str, list[NameEntry]] = {}
        for key, entries in self.by_folded.items():
            parts = re.split(r"[-_ ]", key)
            if len(parts) > 1:
                for part in dict.fromkeys(p for p in parts if len(p) > 2):
                    index.setdefault(part, []).extend(entries)
        return {k: tuple(v) for k, v in index.items()}

    @property
    def components(self) -> frozenset[str]:
        return frozenset(self.by_component)

    @cached_property
    def folded_names(self) -> tuple[str, ...]:
        return tuple(self.by_folded)

    @cached_property
    def job_entries(self) -> tuple[NameEntry, ...]:
        return tuple(e for e in self.entries if e.what == "job")


#: Reads one target's names (the composition root runs READ operations through the choke point).
TargetLoader = Callable[[str, str], Awaitable[TargetNames]]


@dataclass
class _Slot:
    names: TargetNames | None = None
    loaded_at: float = float("-inf")
    failed: bool = False
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)


class CatalogCache:
    """Keeps each target's names for `ttl_seconds`; refills stale ones concurrently, once at a time.

    A target whose loader raises or takes longer than `timeout_seconds` keeps its previous names
    (stale beats nothing) or, never loaded, is listed in `Catalog.unavailable`.
    """

    def __init__(self, loader: TargetLoader, ttl_seconds: float = 30.0, timeout_seconds: float = 2.5,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.loader = loader
        self.ttl_seconds = ttl_seconds
        self.timeout_seconds = timeout_seconds
        self.clock = clock
        self._slots: dict[str, _Slot] = {}

    def invalidate(self, target: str | None = None) -> None:
        """Forget one target's names (after a create or delete there), or all of them."""
        for name, slot in self._slots.items():
            if target is None or name == target:
                slot.loaded_at = float("-inf")

    async def _refresh(self, target: str, kind: str, slot: _Slot) -> None:
        async with slot.lock:
            if self.clock() - slot.loaded_at < self.ttl_seconds:
                return  # another caller refilled it while we waited
            try:
                slot.names = await asyncio.wait_for(self.loader(target, kind), self.timeout_seconds)
                slot.failed = False
            except Exception:  # a back end that fails only costs its names, never the answer
                slot.failed = True
            slot.loaded_at = self.clock()

    async def get(self, targets: Mapping[str, str]) -> Catalog:
        """The names of every configured target (`targets`: name → kind), fresh within the TTL."""
        now = self.clock()
        stale = []
        for name, kind in targets.items():
            slot = self._slots.setdefault(name, _Slot())
            if now - slot.loaded_at >= self.ttl_seconds or (slot.names and slot.names.kind != kind):
                stale.append(self._refresh(name, kind, slot))
        if stale:
            await asyncio.gather(*stale)
        loaded, unavailable = [], []
        for name, kind in targets.items():
            slot = self._slots[name]
            if slot.names is not None and slot.names.kind == kind:
                loaded.append(slot.names)
            if slot.failed and (slot.names is None or slot.names.kind != kind):
                unavailable.append(name)
        return Catalog(tuple(loaded), frozenset(unavailable))
