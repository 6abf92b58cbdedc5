"""One registry per built app: declarations are shared, registries are not."""

from __future__ import annotations

import pytest
from stand_ins import registered, stand_in

from bot.operations.loader import load_operations
from bot.operations.registry import Registry

SPARE = stand_in("thing.spare", "Spared")


def test_each_load_is_a_new_registry_with_every_declared_operation() -> None:
    first, second = load_operations(), load_operations()
    assert first is not second
    assert {op.qualified_name for op in first.all()} == {op.qualified_name for op in second.all()}
    assert first.get("project.list", "polaris") is not None and first.get("help") is not None


def test_a_stand_in_stays_in_the_registry_it_was_given() -> None:
    mine, other = load_operations(), load_operations()
    with registered(mine, SPARE):
        assert mine.get("thing.spare") is SPARE
        assert other.get("thing.spare") is None and load_operations().get("thing.spare") is None
    assert mine.get("thing.spare") is None


def test_an_operation_registered_twice_is_refused() -> None:
    registry = Registry([SPARE])
    with pytest.raises(ValueError, match="registered twice"):
        registry.register(SPARE)
