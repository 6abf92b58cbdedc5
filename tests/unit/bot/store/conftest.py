"""The store's tests run on both databases: every test taking `store` runs once on SQLite, once on PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from bot.store import Store


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Where this test's database is: a SQLite file's path, or a fresh PostgreSQL database's URL."""
    if request.param == "sqlite":
        return str(tmp_path / "projectops.db")
    url: str = request.getfixturevalue("pg_url")
    return url


@pytest.fixture
def open_store(store_url: str) -> Iterator[Callable[[], Store]]:
    """Open another Store on this test's database (what a second process or replica would have)."""
    opened: list[Store] = []

    def factory() -> Store:
        opened.append(Store.open(store_url))
        return opened[-1]

    yield factory
    for store in opened:
        store.close()


@pytest.fixture
def store(open_store: Callable[[], Store]) -> Store:
    return open_store()


@pytest.fixture
def pg_stores(pg_url: str) -> Iterator[tuple[Store, Store]]:
    """Two Stores on one PostgreSQL database: two replicas, each with its own connection pool."""
    first, second = Store.open(pg_url), Store.open(pg_url)
    yield first, second
    first.close()
    second.close()
