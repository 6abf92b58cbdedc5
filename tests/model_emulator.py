"""The model emulator (sandbox/llm) over real HTTP for a test module: its fixtures and its admin calls.

    server, url = model_emulator_fixtures(API_KEY)    # at module level: `server` (module scope) and `url`

`url` is the emulator's base URL, reset for each test; `script`, `faults` and `recorded` drive and read it there.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import loopback
import pytest

from sandbox.llm import create_app
from sandbox.serving import ServerHandle, serve_in_thread


def model_emulator_fixtures(api_key: str) -> tuple[Any, Any]:
    """The fixtures `server` (the emulator accepting `api_key`, one per module) and `url` (reset for each test)."""

    def server() -> Iterator[ServerHandle]:
        handle = serve_in_thread(create_app(api_key=api_key))
        yield handle
        handle.stop()

    def url(server: ServerHandle) -> str:
        loopback.post(f"{server.url}/_admin/reset").raise_for_status()
        return server.url

    return pytest.fixture(server, scope="module", name="server"), pytest.fixture(url, name="url")


def script(url: str, *answers: dict[str, Any]) -> None:
    loopback.post(f"{url}/_script", json=list(answers)).raise_for_status()


def faults(url: str, spec: dict[str, Any]) -> None:
    loopback.post(f"{url}/_faults", json=spec).raise_for_status()


def recorded(url: str) -> list[dict[str, Any]]:
    return loopback.get(f"{url}/_requests").json()["requests"]
