"""The assistant's fixtures: the real registry, the demo targets, and the demo seed's names typed out (the same
`bench.assistant` measures against)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from bench.assistant import NOW, TARGETS, demo_catalog
from bot.assistant import Catalog, Understanding, understand
from bot.operations.loader import load_operations
from bot.operations.registry import Registry

Ask = Callable[..., Understanding]


@pytest.fixture
def registry() -> Registry:
    return load_operations()


@pytest.fixture
def catalog() -> Catalog:
    return demo_catalog()


@pytest.fixture
def ask(registry: Registry, catalog: Catalog) -> Ask:
    """`ask("pause clickstream", "earlier turn", ...)`: understands the first text after the others."""

    def run(text: str, *earlier: str, targets: dict[str, str] | None = None, names: Catalog | None = None,
            tz: str = "UTC") -> Understanding:
        history: list[Understanding] = []
        for turn in earlier:
            history.append(understand(turn, registry, targets or TARGETS, names or catalog, history, now=NOW, tz=tz))
        return understand(text, registry, targets or TARGETS, names or catalog, history, now=NOW, tz=tz)

    return run

