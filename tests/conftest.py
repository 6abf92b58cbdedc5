"""Shared fixtures: the Slack emulator, the back-end emulators and a running projectops."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import loopback
import pytest
from rig import WireLog, bot_fixtures, running_bot, running_inproc_bot

from bot.operations.loader import load_operations
from bot.operations.registry import Registry
from sandbox.backends.server import create_emulators_app, demo_config, emulator_apps
from sandbox.serving import ServerHandle, serve_in_thread
from sandbox.slack import SlackEmulator


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Modules with slow tests (real Phoenix servers, app processes) first: with `make test`'s `-n auto --dist
    loadfile`, each goes whole to one worker at the start, while the others run the rest, instead of leaving a
    long module to the end of the run."""
    slow = {item.path for item in items if item.get_closest_marker("slow")}
    items.sort(key=lambda item: item.path not in slow)  # stable: everything else keeps its order


@pytest.fixture(scope="session")
def slack_server() -> Iterator[tuple[SlackEmulator, ServerHandle]]:
    emulator = SlackEmulator()
    handle = emulator.serve()
    yield emulator, handle
    handle.stop()


@pytest.fixture
def slack(slack_server) -> Iterator[SlackEmulator]:
    """The Slack Web API emulator, fresh for each test; fails the test on any Block Kit rejection."""
    emulator, _ = slack_server
    emulator.reset()
    yield emulator
    emulator.assert_no_rejections()


@pytest.fixture(scope="session")
def backend_wire_log() -> WireLog:
    return WireLog(create_emulators_app("demo"))


@pytest.fixture(scope="session")
def backends_server(backend_wire_log: WireLog) -> Iterator[ServerHandle]:
    handle = serve_in_thread(backend_wire_log)
    yield handle
    handle.stop()


@pytest.fixture
def backends(backends_server: ServerHandle) -> Iterator[str]:
    """Base URL of the four back-end emulators, reset to the demo seed and with no faults."""
    with loopback.Client(base_url=backends_server.url, timeout=10) as http:
        for kind in emulator_apps("empty"):
            http.post(f"/{kind}/_admin/reset", json={"seed": "demo"})
            http.delete(f"/{kind}/_faults")
    yield backends_server.url


@pytest.fixture
def backend_calls(backends: str, backend_wire_log: WireLog) -> WireLog:
    """What reached the back-end emulators in this test: `backend_calls.calls("DELETE", "/phoenix/")`."""
    backend_wire_log.clear()
    return backend_wire_log


@pytest.fixture
def demo_config_dict(backends: str) -> dict:
    return demo_config(backends, sorted(emulator_apps("empty")))


@pytest.fixture
def registry() -> Registry:
    """This test's operations: every app the test builds offers these; stand-ins are added here."""
    return load_operations()


bot, make_bot = bot_fixtures(running_bot)  # projectops in HTTP mode
# their twins without a server: signed requests go to Bolt's `async_dispatch` on the app's own loop
inproc_bot, make_inproc_bot = bot_fixtures(running_inproc_bot, "inproc_bot", "make_inproc_bot")


@pytest.fixture
def make_services(tmp_path: Path, registry: Registry):
    """Services for unit tests, wired as `bot.app.build` wires them but with no Slack app and no network:

        services = make_services({"targets": {...}, "roles": {...}})        # a config dict (or an AppConfig)
        services = make_services(config, environ={"KEY": "v"}, clients={"pol": fake_client},
                                 registry=Registry(), slack=FakeSlack(), db="other.db")

    The database is a file in tmp_path (`db`, one per name), the registry the test's `registry` unless given,
    `clients` a ClientPool (a dict of target name → client is registered into a new one), `store` a Store on that
    file. Databases are closed at teardown; back-end clients are the test's to close (they are async).
    """
    from bot.backends.base import ClientPool
    from bot.operations.context import Services
    from bot.policy import Policy
    from bot.settings import AppConfig, parse_config
    from bot.store import Store

    test_registry = registry
    opened: list[Any] = []

    def factory(config: dict[str, Any] | AppConfig, *, environ: dict[str, str] | None = None,
                registry: Any = None, clients: dict[str, Any] | ClientPool | None = None, slack: Any = None,
                db: str = "services.db") -> Services:
        if not isinstance(config, AppConfig):
            config = parse_config(config, "c.yml", environ or {})
        pool = clients if isinstance(clients, ClientPool) else ClientPool()
        for name, client in (clients or {}).items() if isinstance(clients, dict) else ():
            pool.register(name, client)
        store = Store.open(tmp_path / db)
        opened.append(store)
        return Services(config=config, store=store,
                        registry=registry if registry is not None else test_registry,
                        policy=Policy(config), clients=pool, slack=slack)

    yield factory
    for store in opened:
        store.close()


# -- a real PostgreSQL (tests/pg.py) ------------------------------------------------------------------------------

@pytest.fixture(scope="session")
def postgres_server():
    """One PostgreSQL server for the whole session (Debian's binaries, 127.0.0.1, a temporary folder).

    Skipped where the binaries are missing, except where PostgreSQL is required (CI=1, PROJECTOPS_REQUIRE_POSTGRES=1,
    .ci/run): there a missing PostgreSQL fails the tests that need it.
    """
    from pg import postgres_server as start

    with start() as server:
        if server is None:
            pytest.skip("PostgreSQL is not installed here (apt-get install -y postgresql); CI requires it")
        yield server


@pytest.fixture
def pg_url(postgres_server) -> Iterator[str]:
    """The URL of a fresh PostgreSQL database for this test, already migrated (a copy of a template)."""
    url = postgres_server.database()
    yield url
    postgres_server.drop(url)


@pytest.fixture
def pg_blank_url(postgres_server) -> Iterator[str]:
    """The URL of a fresh, empty PostgreSQL database (no tables): for tests of the migrations themselves."""
    url = postgres_server.database(migrated=False)
    yield url
    postgres_server.drop(url)
