"""Shared fixtures: the Slack emulator, the back-end emulators and a running projectops."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from rig import Bot, running_bot

from sandbox.backends.server import create_emulators_app, demo_config, emulator_apps
from sandbox.serving import ServerHandle, serve_in_thread
from sandbox.slack import SlackEmulator


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
def backends_server() -> Iterator[ServerHandle]:
    handle = serve_in_thread(create_emulators_app("demo"))
    yield handle
    handle.stop()


@pytest.fixture
def backends(backends_server: ServerHandle) -> Iterator[str]:
    """Base URL of the four back-end emulators, reset to the demo seed and with no faults."""
    with httpx.Client(base_url=backends_server.url, timeout=10) as http:
        for kind in emulator_apps("empty"):
            http.post(f"/{kind}/_admin/reset", json={"seed": "demo"})
            http.delete(f"/{kind}/_faults")
    yield backends_server.url


@pytest.fixture
def demo_config_dict(backends: str) -> dict:
    return demo_config(backends, sorted(emulator_apps("empty")))


@pytest.fixture
def bot(slack: SlackEmulator, demo_config_dict: dict, tmp_path: Path) -> Iterator[Bot]:
    """projectops in HTTP mode, configured with one target per emulated back end and the demo roles."""
    with running_bot(slack, demo_config_dict, tmp_path) as running:
        yield running


@pytest.fixture
def make_bot(slack: SlackEmulator, tmp_path: Path):
    """Start projectops with a config of the test's choosing: `with make_bot(config) as bot: ...`."""

    def factory(config: dict):
        return running_bot(slack, config, tmp_path)

    return factory
